"""Writes two runs with TensorFlow itself, for check_serve.py: `tf2/`
through `tf.summary` (tensors with plugin metadata) and `tf1/` as
TensorFlow 1 and torch's writer write them (legacy `simple_value`,
`Summary.Image`, `HistogramProto`, `Summary.Audio`, tagged run
metadata), including a resumed
session (a second `SessionLog START` at step 5 after steps 0..9), so the
legacy conversions and the purge rule are compared too.

Usage: write_tf_runs.py LOGDIR
"""

import io
import struct
import sys
import wave

import numpy as np
import tensorflow as tf

logdir = sys.argv[1]

writer = tf.summary.create_file_writer(f"{logdir}/tf2")
with writer.as_default():
    for step in range(30):
        tf.summary.scalar("tf2/loss", 1.0 / (1 + step), step=step)
        tf.summary.histogram("tf2/weights", np.linspace(-1, 1, 50) * (step + 1), step=step)
    image = np.linspace(0, 1, 4 * 5 * 3, dtype=np.float32).reshape(1, 4, 5, 3)
    tf.summary.image("tf2/image", image, step=29)
    tf.summary.text("tf2/note", "hello *tf2*", step=29)
    tf.summary.audio("tf2/tone", np.sin(np.linspace(0, 60, 800, dtype=np.float32)).reshape(1, 800, 1),
                     8000, step=29)
writer.close()

v1 = tf.compat.v1
Event = v1.Event
Summary = v1.Summary


def png(w, h):
    data = tf.io.encode_png(np.full((h, w, 3), 90, dtype=np.uint8)).numpy()
    return Summary.Image(height=h, width=w, colorspace=3, encoded_image_string=data)


def wav():
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", i * 50) for i in range(400)))
    return Summary.Audio(sample_rate=8000, num_channels=1, length_frames=400,
                         encoded_audio_string=buf.getvalue(), content_type="audio/wav")


tf.io.gfile.makedirs(f"{logdir}/tf1")
with tf.io.TFRecordWriter(f"{logdir}/tf1/events.out.tfevents.1.legacy") as out:
    def write(event):
        out.write(event.SerializeToString())

    write(Event(wall_time=1000.0, file_version="brain.Event:2"))
    start = v1.SessionLog(status=v1.SessionLog.START)
    write(Event(wall_time=1000.0, step=0, session_log=start))
    for step in range(10):
        values = [Summary.Value(tag="legacy/loss", simple_value=10.0 - step)]
        if step % 3 == 0:
            values.append(Summary.Value(tag="legacy/histo", histo=v1.HistogramProto(
                min=-1.0, max=2.5, num=6, sum=3.0, sum_squares=9.0,
                bucket_limit=[-2.0, -0.5, 0.0, 1.0, 3.0, 1e30],
                bucket=[0.0, 2.0, 0.0, 3.0, 1.0, 0.0])))
        write(Event(wall_time=1000.0 + step, step=step, summary=Summary(value=values)))
    # TensorFlow 1's per-step run metadata (the graphs dashboard's tags).
    run_metadata = v1.RunMetadata()
    run_metadata.partition_graphs.add().node.add(name="step3_op", op="NoOp")
    tagged = Event(wall_time=1003.5, step=3)
    tagged.tagged_run_metadata.tag = "step3"
    tagged.tagged_run_metadata.run_metadata = run_metadata.SerializeToString()
    write(tagged)
    # The session restarts from step 5: steps 5..9 above are orphaned.
    write(Event(wall_time=2000.0, step=5, session_log=start))
    for step in range(5, 12):
        values = [Summary.Value(tag="legacy/loss", simple_value=100.0 + step)]
        if step == 11:
            values.append(Summary.Value(tag="legacy/image", image=png(6, 4)))
            values.append(Summary.Value(tag="legacy/audio", audio=wav()))
        write(Event(wall_time=2000.0 + step, step=step, summary=Summary(value=values)))

# A long run, so that every reservoir overflows (scalars 1000, images and
# audio 10, histograms 500) and the points kept are TensorBoard's choice.
tf.io.gfile.makedirs(f"{logdir}/long")
with tf.io.TFRecordWriter(f"{logdir}/long/events.out.tfevents.2.long") as out:
    out.write(Event(wall_time=3000.0, file_version="brain.Event:2").SerializeToString())
    for step in range(2500):
        values = [Summary.Value(tag="long/loss", simple_value=1.0 / (1 + step))]
        if step % 4 == 0:
            values.append(Summary.Value(tag="long/histo", histo=v1.HistogramProto(
                min=0.0, max=step + 1.0, num=2, sum=step + 1.0, sum_squares=1.0,
                bucket_limit=[0.5, step + 2.0], bucket=[1.0, 1.0])))
        if step % 100 == 0:
            values.append(Summary.Value(tag="long/image", image=png(2 + step // 100, 3)))
            values.append(Summary.Value(tag="long/audio", audio=wav()))
        out.write(Event(wall_time=3000.0 + step, step=step,
                        summary=Summary(value=values)).SerializeToString())
