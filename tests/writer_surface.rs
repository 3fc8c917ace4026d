//! The writer's surface as a newcomer meets it: every `add_*` takes the
//! step as any integer (a `usize` from `enumerate()`), bad arguments are an
//! `InvalidArgument` naming the tag, the argument and what was expected,
//! nothing is written half, the writer stays usable, and nothing panics.
//! The three bugs of issue 16 have a regression test each.

use tbseg::proto::tensorflow::{event, Event};
use tbseg::reader::EventFileReader;
use tbseg::summary::embedding::{Embedding, Sprite};
use tbseg::summary::mesh::Mesh;
use tbseg::summary::video::VideoFrames;
use tbseg::summary::{values, BatchLayout, Image, ImageLayout, Step, SummaryError, SummaryWriter};

/// Every summary event in the writer's file as (step, tags).
fn events(writer: &SummaryWriter) -> Vec<(i64, Vec<String>)> {
    let (events, _) = EventFileReader::open(writer.path())
        .unwrap()
        .read_all()
        .unwrap();
    events
        .into_iter()
        .filter_map(|e: Event| match e.what {
            Some(event::What::Summary(s)) => {
                Some((e.step, s.value.into_iter().map(|v| v.tag).collect()))
            }
            _ => None,
        })
        .collect()
}

/// The argument an `InvalidArgument` names, after checking its tag.
fn invalid(result: Result<(), SummaryError>, tag: &str) -> (&'static str, String) {
    match result {
        Err(SummaryError::InvalidArgument {
            tag: got,
            what,
            reason,
        }) => {
            assert_eq!(got, tag, "{what}: {reason}");
            (what, reason)
        }
        other => panic!("{tag}: expected InvalidArgument, got {other:?}"),
    }
}

fn png_2x3() -> Vec<u8> {
    tbseg::summary::png::encode(2, 3, 1, &[0; 6]).unwrap()
}

#[test]
fn every_add_method_takes_a_usize_step_from_enumerate() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let losses = [0.5f32, 0.25, 0.125];
    let mesh = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let frames = [0u8, 255, 255, 0, 9, 9, 9, 9];
    let mut expected = Vec::new();
    for (step, loss) in losses.iter().enumerate() {
        let tag = |kind: &str| format!("{kind}{step}");
        writer.add_scalar(&tag("scalar"), *loss, step).unwrap();
        writer
            .add_summary(
                values::Summary {
                    value: vec![values::text(&tag("summary"), "s")],
                },
                step,
            )
            .unwrap();
        writer
            .add_value(values::text(&tag("value"), "v"), step)
            .unwrap();
        writer
            .add_image(&tag("image"), &[0u8; 6], ImageLayout::Hw(2, 3), step)
            .unwrap();
        writer
            .add_images(
                &tag("grid"),
                &[0.5f32; 12],
                BatchLayout::Nchw(2, 1, 2, 3),
                step,
            )
            .unwrap();
        let image = Image::from_vec(2, 3, 1, vec![7; 6]).unwrap();
        writer
            .add_image_samples(&tag("images"), &[image], step)
            .unwrap();
        writer.add_png(&tag("png"), 2, 3, png_2x3(), step).unwrap();
        writer
            .add_histogram(&tag("histogram"), &losses, step)
            .unwrap();
        writer.add_text(&tag("text"), "hello", step).unwrap();
        writer
            .add_pr_curve(&tag("pr"), &[true, false], &[0.9, 0.2], step)
            .unwrap();
        writer
            .add_embedding(&tag("embedding"), &Embedding::new(&[1.0, 2.0], 2), step)
            .unwrap();
        writer
            .add_audio(&tag("audio"), &[0.0, 0.5], 1, 8000, step)
            .unwrap();
        writer
            .add_video(
                &tag("video"),
                &VideoFrames::from_u8(&frames, 2, 2, 2, 1),
                5.0,
                step,
            )
            .unwrap();
        writer
            .add_mesh(&tag("mesh"), &Mesh::new(&mesh).faces(&[0, 1, 2]), step)
            .unwrap();
        writer
            .add_text_table(&tag("table"), &["k"], &[["v"]], step)
            .unwrap();
        writer
            .add_image_with_boxes(
                &tag("boxes"),
                &[0; 6],
                [2, 3, 1],
                &[[0.0, 0.0, 1.0, 1.0]],
                step,
            )
            .unwrap();
        for kind in [
            "scalar",
            "summary",
            "value",
            "image",
            "grid",
            "images",
            "png",
            "histogram",
            "text",
            "pr",
            "audio",
            "video",
            "mesh",
            "table",
            "boxes",
        ] {
            expected.push((step as i64, tag(kind)));
        }
    }
    // Other integer types a training loop holds.
    writer.add_scalar("u64", 1.0, 7u64).unwrap();
    writer.add_scalar("isize", 1.0, 8isize).unwrap();
    writer.add_scalar("u32", 1.0, 9u32).unwrap();
    writer.close().unwrap();

    let written = events(&writer);
    let mut got: Vec<(i64, String)> = written
        .iter()
        .map(|(step, tags)| (*step, tags[0].trim_end_matches("_VERTEX").to_owned()))
        .filter(|(_, tag)| !tag.ends_with("_FACE"))
        .collect();
    let tail = got.split_off(got.len() - 3);
    assert_eq!(got, expected);
    assert_eq!(
        tail,
        [(7, "u64".into()), (8, "isize".into()), (9, "u32".into())]
    );
    // The embeddings are files, one directory per step.
    for step in 0..losses.len() {
        let tensors = dir
            .path()
            .join(format!("{step:05}/embedding{step}/tensors.tsv"));
        assert!(tensors.is_file(), "{}", tensors.display());
    }
}

#[test]
fn nan_wall_time_is_an_error_not_a_silently_lost_event() {
    // Bug 1: `add_scalar("wt", 1.0, Step::new(1).wall_time(f64::NAN))`
    // returned Ok, and every reader then skipped the event.
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    for secs in [f64::NAN, f64::NEG_INFINITY] {
        let (what, reason) = invalid(
            writer.add_scalar("wt", 1.0, Step::new(1).wall_time(secs)),
            "wt",
        );
        assert_eq!(what, "wall time");
        assert!(reason.starts_with(&format!("{secs} at step 1")), "{reason}");
        let (what, _) = invalid(
            writer.add_text("note", "x", Step::new(2).wall_time(secs)),
            "note",
        );
        assert_eq!(what, "wall time");
        let png = png_2x3();
        let (what, _) = invalid(
            writer.add_png("p", 2, 3, png, Step::new(3).wall_time(secs)),
            "p",
        );
        assert_eq!(what, "wall time");
    }
    writer
        .add_scalar("wt", 1.0, Step::new(1).wall_time(1.7e9))
        .unwrap();
    writer.close().unwrap();
    let (events, _) = EventFileReader::open(writer.path())
        .unwrap()
        .read_all()
        .unwrap();
    // file_version and the one good scalar; nothing was skipped.
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].wall_time, 1.7e9);
}

#[test]
fn steps_above_i64_max_are_an_error_not_a_wrap() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let huge = i64::MAX as u64 + 1;
    let (what, reason) = invalid(writer.add_scalar("loss", 0.5, huge), "loss");
    assert_eq!(what, "step");
    assert!(
        reason.starts_with("9223372036854775808, expected at most"),
        "{reason}"
    );
    invalid(writer.add_text("notes", "x", usize::MAX), "notes");
    invalid(
        writer.add_image("img", &[0u8; 6], ImageLayout::Hw(2, 3), u128::MAX),
        "img",
    );
    invalid(writer.add_audio("tone", &[0.0], 1, 8000, huge), "tone");
    invalid(
        writer.add_embedding("points", &Embedding::new(&[1.0], 1), huge),
        "points",
    );
    writer.add_scalar("loss", 0.5, i64::MAX as u64).unwrap();
    writer.close().unwrap();
    assert_eq!(events(&writer), [(i64::MAX, vec!["loss".to_owned()])]);
    assert!(!dir.path().join("projector_config.pbtxt").exists());
}

#[test]
fn channel_counts_above_255_are_rejected_not_truncated() {
    // Bug 2: `Hwc(4, 4, 259)` logged RGB and `Hwc(4, 4, 257)` grey, through
    // a `channels as u8` truncation; `Hwc(4, 4, 256)` said "0".
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    for channels in [0, 5, 256, 257, 258, 259, 260, 1 << 32, usize::MAX] {
        let layout = ImageLayout::Hwc(4, 4, channels);
        let (what, reason) = invalid(writer.add_image("x", &[0u8; 48], layout, 0), "x");
        assert_eq!(what, "channels");
        assert_eq!(
            reason,
            format!("{channels} in {layout:?}, expected 1, 2, 3 or 4")
        );
        invalid(writer.add_image("x", &[0.5f32; 48], layout, 0), "x");
        let chw = ImageLayout::Chw(channels, 4, 4);
        invalid(writer.add_image("x", &[0u8; 48], chw, 0), "x");
        let batch = BatchLayout::Nhwc(1, 4, 4, channels);
        invalid(writer.add_images("x", &[0u8; 48], batch, 0), "x");
        let frames = VideoFrames::from_u8(&[0; 48], 1, 4, 4, channels);
        invalid(writer.add_video("x", &frames, 1.0, 0), "x");
        invalid(
            writer.add_image_with_boxes("x", &[0; 48], [4, 4, channels], &[], 0),
            "x",
        );
        let sprite = Embedding::new(&[1.0], 1).sprite(Sprite::new(&[0; 16], 4, 4, channels));
        invalid(writer.add_embedding("x", &sprite, 0), "x");
    }
    // The valid counts still work on the same writer.
    for channels in 1..=4 {
        let layout = ImageLayout::Hwc(4, 4, channels);
        writer
            .add_image("x", &vec![0u8; 16 * channels], layout, 1)
            .unwrap();
    }
    writer.close().unwrap();
    assert_eq!(
        events(&writer).len(),
        4,
        "only the valid images were written"
    );
}

#[test]
fn huge_layouts_are_rejected_without_panicking_or_allocating() {
    // Bug 3: sizes multiplied without overflow checks: a debug build
    // panicked, a release build wrapped past the length check, indexed out
    // of bounds or asked for 8 GiB.
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let empty: &[f32] = &[];
    let batches = [
        BatchLayout::Nchw(1 << 20, 4, 1 << 21, 1 << 21),
        BatchLayout::Nchw(usize::MAX, usize::MAX, usize::MAX, usize::MAX),
        BatchLayout::Nhwc(1 << 33, 1 << 31, 1, 1),
        BatchLayout::Nhwc(2, 1 << 40, 1 << 40, 3),
    ];
    for layout in batches {
        let (what, _) = invalid(writer.add_images("x", empty, layout, 0), "x");
        assert!(
            ["pixels", "size", "channels"].contains(&what),
            "{layout:?}: {what}"
        );
        assert!(Image::batch(empty, layout).is_err());
    }
    let layouts = [
        ImageLayout::Hwc(1 << 31, 1 << 31, 4),
        ImageLayout::Hwc(1 << 30, 1 << 30, 4),
        ImageLayout::Hw(usize::MAX, 2),
        ImageLayout::Chw(3, usize::MAX / 2, 3),
        ImageLayout::Chw(4, 1 << 62, 1 << 62),
    ];
    for layout in layouts {
        invalid(writer.add_image("x", &[] as &[u8], layout, 0), "x");
        invalid(writer.add_image("x", empty, layout, 0), "x");
        assert!(Image::from_pixels(empty, layout).is_err());
    }
    let (h, w) = (1 << 31, 1 << 31);
    invalid(writer.add_png("x", h, w, png_2x3(), 0), "x");
    invalid(
        writer.add_image_with_boxes("x", &[], [h, w, 4], &[], 0),
        "x",
    );
    invalid(
        writer.add_video(
            "x",
            &VideoFrames::from_u8(&[], usize::MAX, 65535, 65535, 4),
            1.0,
            0,
        ),
        "x",
    );
    let sprite = Sprite::new(&[], 1 << 32, 1 << 32, 1);
    invalid(
        writer.add_embedding("x", &Embedding::new(&[1.0], 1).sprite(sprite), 0),
        "x",
    );
    assert!(tbseg::summary::overlay_classes(&[], usize::MAX, 2, &[], &[], 0.5).is_err());
    writer.add_scalar("still", 1.0, 0).unwrap();
    writer.close().unwrap();
    assert_eq!(events(&writer), [(0, vec!["still".to_owned()])]);
}

#[test]
fn bad_arguments_name_tag_and_argument_write_nothing_and_keep_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let image = |h, w| Image::from_vec(h, w, 1, vec![0; h * w]).unwrap();
    let cases: Vec<(&str, &str, Result<(), SummaryError>)> = vec![
        (
            "image",
            "pixels",
            writer.add_image("image", &[0u8; 5], ImageLayout::Hw(2, 3), 0),
        ),
        (
            "image",
            "size",
            writer.add_image("image", &[] as &[u8], ImageLayout::Hw(0, 3), 0),
        ),
        (
            "grid",
            "batch",
            writer.add_images("grid", &[] as &[u8], BatchLayout::Nchw(0, 1, 2, 2), 0),
        ),
        (
            "grid",
            "pixels",
            writer.add_images("grid", &[0u8; 7], BatchLayout::Nchw(2, 1, 2, 2), 0),
        ),
        (
            "images",
            "images",
            writer.add_image_samples("images", &[], 0),
        ),
        (
            "images",
            "images",
            writer.add_image_samples("images", &[image(2, 3), image(3, 2)], 0),
        ),
        (
            "png",
            "png",
            writer.add_png("png", 2, 3, b"GIF89a".to_vec(), 0),
        ),
        ("png", "png", writer.add_png("png", 3, 2, png_2x3(), 0)),
        (
            "audio",
            "channels",
            writer.add_audio("audio", &[0.0], 0, 8000, 0),
        ),
        (
            "audio",
            "sample rate",
            writer.add_audio("audio", &[0.0], 1, 0, 0),
        ),
        (
            "audio",
            "samples",
            writer.add_audio("audio", &[0.0; 3], 2, 8000, 0),
        ),
        (
            "video",
            "fps",
            writer.add_video(
                "video",
                &VideoFrames::from_u8(&[0; 4], 1, 2, 2, 1),
                f32::NAN,
                0,
            ),
        ),
        (
            "video",
            "frames",
            writer.add_video("video", &VideoFrames::from_u8(&[0; 3], 1, 2, 2, 1), 1.0, 0),
        ),
        (
            "mesh",
            "mesh",
            writer.add_mesh("mesh", &Mesh::new(&[0.0; 9]).faces(&[0, 1, 3]), 0),
        ),
        (
            "table",
            "rows",
            writer.add_text_table("table", &["a"], &[["1", "2"]], 0),
        ),
        (
            "boxes",
            "channels",
            writer.add_image_with_boxes("boxes", &[0; 8], [2, 2, 2], &[], 0),
        ),
        (
            "boxes",
            "pixels",
            writer.add_image_with_boxes("boxes", &[0; 5], [2, 3, 1], &[], 0),
        ),
        (
            "boxes",
            "boxes",
            writer.add_image_with_boxes("boxes", &[0; 6], [2, 3, 1], &[[2.0, 0.0, 1.0, 1.0]], 0),
        ),
        (
            "emb",
            "step",
            writer.add_embedding("emb", &Embedding::new(&[1.0], 1), -1),
        ),
        (
            "a/b",
            "tag",
            writer.add_embedding("a/b", &Embedding::new(&[1.0], 1), 0),
        ),
        (
            "emb",
            "embedding",
            writer.add_embedding("emb", &Embedding::new(&[1.0; 3], 2), 0),
        ),
    ];
    for (tag, what, result) in cases {
        let error = format!("{:?}", result.as_ref().err());
        let (got, reason) = invalid(result, tag);
        assert_eq!(got, what, "{tag}: {error}");
        assert!(!reason.is_empty());
    }
    writer.add_scalar("ok", 1.0, 1).unwrap();
    writer.close().unwrap();
    assert_eq!(events(&writer), [(1, vec!["ok".to_owned()])]);
    assert!(!dir.path().join("projector_config.pbtxt").exists());
}

#[test]
fn an_empty_logdir_is_rejected_and_default_logdir_names_runs_as_torch_does() {
    let (what, reason) = invalid(SummaryWriter::new("").map(drop), "");
    assert_eq!(what, "logdir");
    assert!(reason.contains("default_logdir"), "{reason}");

    let logdir = SummaryWriter::default_logdir("-lr0.1");
    let mut parts = logdir.components();
    assert_eq!(parts.next().unwrap().as_os_str(), "runs");
    let name = parts
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(parts.next().is_none());
    // "Mar05_14-03-07_<host>-lr0.1", as
    // datetime.now().strftime("%b%d_%H-%M-%S") + "_" + gethostname() + comment.
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    assert!(months.contains(&&name[..3]), "{name}");
    let digits = |range: std::ops::Range<usize>| name[range].bytes().all(|b| b.is_ascii_digit());
    assert!(
        digits(3..5) && digits(6..8) && digits(9..11) && digits(12..14),
        "{name}"
    );
    assert_eq!(
        (&name[5..6], &name[8..9], &name[11..12], &name[14..15]),
        ("_", "-", "-", "_")
    );
    let host = name[15..]
        .strip_suffix("-lr0.1")
        .expect("the comment ends the name");
    assert!(!host.is_empty(), "{name}");
    let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    if let Some(kernel) = kernel {
        assert_eq!(host, kernel.trim());
    }
}
