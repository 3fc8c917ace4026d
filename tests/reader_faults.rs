//! The event reader on damaged, resumed and growing runs: damaged records
//! are skipped and reported with their offsets, `SessionLog START` purges
//! make a resumed run one curve, every summary kind is kept, and
//! `LogdirWatcher` follows files while they are written.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use prost::Message;
use tbseg::proto::tensorflow::session_log::SessionStatus;
use tbseg::proto::tensorflow::summary::value::Value as ValueKind;
use tbseg::proto::tensorflow::summary_metadata::PluginData;
use tbseg::proto::tensorflow::{
    event, summary, DataType, Event, SessionLog, Summary, SummaryMetadata, TensorProto,
};
use tbseg::reader::{
    EventFileReader, FileEnd, FileStatus, Logdir, LogdirWatcher, ReadEventError, SeriesKind,
};
use tbseg::record::{ReadRecordError, RecordWriter};

fn scalar(tag: &str, step: i64, x: f32) -> Event {
    Event {
        wall_time: 1.7e9 + step as f64,
        step,
        what: Some(event::What::Summary(Summary {
            value: vec![summary::Value {
                tag: tag.into(),
                value: Some(ValueKind::SimpleValue(x)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

fn tensor_event(tag: &str, plugin: &str, step: i64, content: &[u8]) -> Event {
    let value = summary::Value {
        tag: tag.into(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: plugin.into(),
                content: b"plugin content".to_vec(),
            }),
            ..Default::default()
        }),
        value: Some(ValueKind::Tensor(TensorProto {
            dtype: DataType::DtString as i32,
            string_val: vec![content.to_vec()],
            ..Default::default()
        })),
        ..Default::default()
    };
    Event {
        wall_time: 1.7e9,
        step,
        what: Some(event::What::Summary(Summary { value: vec![value] })),
        ..Default::default()
    }
}

fn session_log(step: i64, status: SessionStatus) -> Event {
    Event {
        wall_time: 1.7e9,
        step,
        what: Some(event::What::SessionLog(SessionLog {
            status: status as i32,
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn encode(events: &[Event]) -> Vec<u8> {
    let mut w = RecordWriter::new(Vec::new());
    for e in events {
        w.write_record(&e.encode_to_vec()).unwrap();
    }
    w.into_inner()
}

fn append(path: &Path, bytes: &[u8]) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
}

/// Five scalar events; record 1's data byte is flipped (bad data CRC) and
/// record 3 is framed correctly but holds no Event.
fn damaged_file() -> (Vec<u8>, [u64; 6]) {
    let mut w = RecordWriter::new(Vec::new());
    let mut offsets = [0u64; 6];
    for (step, offset) in offsets.iter_mut().take(5).enumerate() {
        *offset = w.get_ref().len() as u64;
        if step == 3 {
            w.write_record(b"\xff\xff\xff not an event").unwrap();
        } else {
            w.write_record(&scalar("loss", step as i64, step as f32).encode_to_vec())
                .unwrap();
        }
    }
    offsets[5] = w.get_ref().len() as u64;
    let mut bytes = w.into_inner();
    // The first data byte of record 1: after its 12-byte header.
    bytes[offsets[1] as usize + 12] ^= 0x40;
    (bytes, offsets)
}

#[test]
fn damaged_records_are_skipped_and_reported_with_offsets() {
    let (bytes, offsets) = damaged_file();
    let mut reader = EventFileReader::new(&bytes[..]);
    let (events, end) = reader.read_all().unwrap();
    assert_eq!(end, FileEnd::Clean);
    let steps: Vec<i64> = events.iter().map(|e| e.step).collect();
    assert_eq!(steps, [0, 2, 4]);
    assert_eq!(reader.skipped_count(), 2);
    let skipped = reader.skipped();
    assert!(matches!(
        skipped[0],
        ReadEventError::Record(ReadRecordError::BadDataCrc { offset, .. }) if offset == offsets[1]
    ));
    assert!(matches!(skipped[1], ReadEventError::Decode { offset, .. } if offset == offsets[3]));
    assert_eq!(skipped[1].offset(), Some(offsets[3]));
    assert!(skipped.iter().all(ReadEventError::is_retryable));

    // The same file in a log directory: the good points, and the skipped
    // records noted on the file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.out.tfevents.1.host"), &bytes).unwrap();
    let logdir = Logdir::scan(dir.path()).unwrap();
    let run = logdir.run(".").unwrap();
    assert_eq!(run.scalars("loss").unwrap(), [(0, 0.0), (2, 2.0), (4, 4.0)]);
    assert_eq!(run.files[0].skipped_count, 2);
    assert!(matches!(run.files[0].status, FileStatus::Complete));
    // Each skipped record is kept with its cause and byte offset (which
    // `tbseg inspect` prints as a warning line).
    let skipped: Vec<String> = run.files[0]
        .skipped
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(skipped.len(), 2);
    assert!(
        skipped[0].starts_with(&format!(
            "bad data checksum in the record at byte {}",
            offsets[1]
        )),
        "{}",
        skipped[0]
    );
    assert_eq!(
        skipped[1],
        format!("record at byte {} is not an Event", offsets[3])
    );
}

#[test]
fn a_bad_length_checksum_ends_the_file_but_keeps_what_came_before() {
    let (mut bytes, offsets) = damaged_file();
    bytes[offsets[4] as usize] ^= 1;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.tfevents.y"), &bytes).unwrap();
    let logdir = Logdir::scan(dir.path()).unwrap();
    let run = logdir.run(".").unwrap();
    assert_eq!(run.scalars("loss").unwrap(), [(0, 0.0), (2, 2.0)]);
    assert!(matches!(
        &run.files[0].status,
        FileStatus::Failed(ReadEventError::Record(ReadRecordError::BadLengthCrc { offset, .. }))
            if *offset == offsets[4]
    ));
    assert_eq!(run.files[0].events, 2);
}

#[test]
fn session_log_start_purges_the_crashed_runs_orphaned_points() {
    // The first process logs steps 0..=7 and dies; the last checkpoint was
    // at step 5, so the resumed process starts a new file with START at 5.
    let dir = tempfile::tempdir().unwrap();
    let mut first: Vec<Event> = (0..=7).map(|s| scalar("loss", s, s as f32)).collect();
    first.push(tensor_event("w", "histograms", 7, b"h7"));
    first.insert(0, tensor_event("w", "histograms", 0, b"h0"));
    std::fs::write(dir.path().join("events.out.tfevents.1.a"), encode(&first)).unwrap();
    let mut second = vec![session_log(5, SessionStatus::Start)];
    second.extend((5..=9).map(|s| scalar("loss", s, 10.0 * s as f32)));
    std::fs::write(dir.path().join("events.out.tfevents.2.a"), encode(&second)).unwrap();

    let logdir = Logdir::scan(dir.path()).unwrap();
    let run = logdir.run(".").unwrap();
    let loss = run.series("loss").unwrap();
    let want: Vec<(i64, f32)> = (0..5)
        .map(|s| (s, s as f32))
        .chain((5..=9).map(|s| (s, 10.0 * s as f32)))
        .collect();
    assert_eq!(loss.points(), want);
    assert!(loss.duplicate_steps().is_empty());
    assert_eq!((loss.count, loss.first_step, loss.last_step), (10, 0, 9));
    // The histogram at step 7 went too; the one at step 0 stays.
    let w = run.series("w").unwrap();
    assert_eq!(w.tensors().map(|(s, _)| s).collect::<Vec<_>>(), [0]);
    assert_eq!(run.purged, 3 + 1);
    assert_eq!(run.session_logs.len(), 1);
    assert_eq!(run.session_logs[0].0, 5);

    // Without the START event the crashed run's steps 5..=7 show twice.
    std::fs::write(
        dir.path().join("events.out.tfevents.2.a"),
        encode(&second[1..]),
    )
    .unwrap();
    let logdir = Logdir::scan(dir.path()).unwrap();
    let loss = logdir.run(".").unwrap().series("loss").unwrap();
    assert_eq!(loss.duplicate_steps(), [5, 6, 7]);
}

#[test]
fn every_kind_is_kept_with_its_plugin_and_payload() {
    let dir = tempfile::tempdir().unwrap();
    let events = vec![
        Event {
            step: 0,
            what: Some(event::What::GraphDef(b"graph bytes".to_vec())),
            ..Default::default()
        },
        tensor_event("text", "text", 1, b"hello"),
        tensor_event("img", "images", 2, b"png"),
        tensor_event("pr", "pr_curves", 3, b"pr"),
        tensor_event("_hparams_/session_start_info", "hparams", 0, b""),
        tensor_event("clip", "audio", 4, b"wav"),
        scalar("acc", 5, 0.5),
    ];
    std::fs::write(dir.path().join("events.out.tfevents.1.a"), encode(&events)).unwrap();
    let logdir = Logdir::scan(dir.path()).unwrap();
    let run = logdir.run(".").unwrap();
    assert_eq!(run.graph_def.as_deref(), Some(&b"graph bytes"[..]));
    for (tag, kind, plugin, step, content) in [
        ("text", SeriesKind::Text, "text", 1, &b"hello"[..]),
        ("img", SeriesKind::Image, "images", 2, b"png"),
        ("pr", SeriesKind::PrCurve, "pr_curves", 3, b"pr"),
        (
            "_hparams_/session_start_info",
            SeriesKind::Hparams,
            "hparams",
            0,
            b"",
        ),
        ("clip", SeriesKind::Audio, "audio", 4, b"wav"),
    ] {
        let series = run.series(tag).unwrap();
        assert_eq!(series.kind, kind, "{tag}");
        assert_eq!(series.plugin_name(), plugin);
        let tensors: Vec<_> = series.tensors().collect();
        assert_eq!(tensors.len(), 1, "{tag}");
        assert_eq!(tensors[0].0, step);
        assert_eq!(tensors[0].1.string_val, [content.to_vec()], "{tag}");
        let content = &series
            .metadata
            .as_ref()
            .unwrap()
            .plugin_data
            .as_ref()
            .unwrap()
            .content;
        assert_eq!(content, b"plugin content");
    }
    assert_eq!(run.scalars("acc").unwrap(), [(5, 0.5)]);
}

#[test]
fn the_watcher_follows_files_while_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut watcher = LogdirWatcher::new(dir.path());
    assert!(watcher.poll().unwrap().is_empty());

    let first = dir.path().join("events.out.tfevents.1.a");
    append(
        &first,
        &encode(&[scalar("loss", 0, 1.0), scalar("loss", 1, 0.5)]),
    );
    let steps =
        |new: Vec<tbseg::reader::NewEvent>| new.iter().map(|e| e.event.step).collect::<Vec<_>>();
    assert_eq!(steps(watcher.poll().unwrap()), [0, 1]);
    assert!(watcher.poll().unwrap().is_empty());

    // A record written in two halves: the first poll sees a torn tail and
    // nothing new, the second the whole record.
    let record = encode(&[scalar("loss", 2, 0.25)]);
    let (head, rest) = record.split_at(7);
    append(&first, head);
    assert!(watcher.poll().unwrap().is_empty());
    let files = &watcher.logdir().run(".").unwrap().files;
    assert!(matches!(files[0].status, FileStatus::TornTail { .. }));
    append(&first, rest);
    assert_eq!(steps(watcher.poll().unwrap()), [2]);

    // A resumed process: a new file in the same run starting with START.
    let second = dir.path().join("events.out.tfevents.2.a");
    append(
        &second,
        &encode(&[session_log(1, SessionStatus::Start), scalar("loss", 1, 0.4)]),
    );
    // A new run in a subdirectory.
    std::fs::create_dir(dir.path().join("eval")).unwrap();
    append(
        &dir.path().join("eval/events.out.tfevents.3.a"),
        &encode(&[scalar("dice", 1, 0.9)]),
    );
    let new = watcher.poll().unwrap();
    let got: Vec<(&str, i64)> = new.iter().map(|e| (e.run.as_str(), e.event.step)).collect();
    assert_eq!(got, [(".", 1), (".", 1), ("eval", 1)]);
    assert_eq!(new[0].file, Path::new("events.out.tfevents.2.a"));
    let logdir = watcher.logdir();
    assert_eq!(
        logdir.run(".").unwrap().scalars("loss").unwrap(),
        [(0, 1.0), (1, 0.4)]
    );
    assert_eq!(
        logdir.run("eval").unwrap().scalars("dice").unwrap(),
        [(1, 0.9)]
    );
    assert!(logdir
        .run(".")
        .unwrap()
        .files
        .iter()
        .all(|f| matches!(f.status, FileStatus::Complete)));
}

#[test]
fn the_watcher_reads_a_file_while_another_thread_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.out.tfevents.live");
    std::fs::write(&path, b"").unwrap();
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let mut file = OpenOptions::new().append(true).open(&writer_path).unwrap();
        for step in 0..200 {
            let bytes = encode(&[scalar("loss", step, step as f32)]);
            // Two writes per record, so the reader can catch it half done.
            let (a, b) = bytes.split_at(bytes.len() / 2);
            file.write_all(a).unwrap();
            file.flush().unwrap();
            file.write_all(b).unwrap();
            file.flush().unwrap();
            if step % 20 == 0 {
                std::thread::yield_now();
            }
        }
    });
    let mut watcher = LogdirWatcher::new(&path);
    let mut seen = Vec::new();
    loop {
        let finished = writer.is_finished();
        seen.extend(watcher.poll().unwrap().into_iter().map(|e| e.event.step));
        if finished {
            break;
        }
    }
    writer.join().unwrap();
    assert_eq!(seen, (0..200).collect::<Vec<_>>());
    let run = watcher.logdir().run(".").unwrap();
    assert_eq!(run.series("loss").unwrap().count, 200);
    assert!(matches!(run.files[0].status, FileStatus::Complete));
}
