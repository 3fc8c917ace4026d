#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz corpora (fuzz/corpus/<target>/seed-*)
from the repository's golden test files, plus a minimal Sunnybrook DICOM
(explicit VR little endian, 256x256, 16 bits, as lab/tests/data_sunnybrook.rs
builds) and a contour. Run from the repository root; the fuzzers then grow
the corpora and `cargo fuzz cmin` keeps them small."""
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests/data/golden"
CKPT = ROOT / "tests/data/tf_checkpoint"


def put(target, name, data):
    out = ROOT / "fuzz/corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / f"seed-{name}").write_bytes(data)


def element(out, group, elem, vr, value):
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    out += struct.pack("<HH", group, elem) + vr.encode()
    if vr in ("OB", "OW", "SQ", "UN", "UT"):
        out += b"\0\0" + struct.pack("<I", len(value))
    else:
        out += struct.pack("<H", len(value))
    out += value


def dicom():
    meta = bytearray()
    element(meta, 2, 1, "OB", b"\0\1")
    element(meta, 2, 2, "UI", b"1.2.840.10008.5.1.4.1.1.4")
    element(meta, 2, 3, "UI", b"1.2.3.4.5.6")
    element(meta, 2, 0x10, "UI", b"1.2.840.10008.1.2.1")
    element(meta, 2, 0x12, "UI", b"1.2.3.4")
    out = bytearray(128) + b"DICM"
    element(out, 2, 0, "UL", struct.pack("<I", len(meta)))
    out += meta
    us = lambda v: struct.pack("<H", v)
    for g, e, vr, v in [
        (0x0008, 0x0016, "UI", b"1.2.840.10008.5.1.4.1.1.4"),
        (0x0028, 0x0002, "US", us(1)),
        (0x0028, 0x0004, "CS", b"MONOCHROME2"),
        (0x0028, 0x0010, "US", us(256)),
        (0x0028, 0x0011, "US", us(256)),
        (0x0028, 0x0100, "US", us(16)),
        (0x0028, 0x0101, "US", us(12)),
        (0x0028, 0x0103, "US", us(0)),
    ]:
        element(out, g, e, vr, v)
    element(out, 0x7FE0, 0x0010, "OW", bytes(range(256)) * 512)
    return bytes(out)


def main():
    events = [GOLDEN / "tf2/events.out.tfevents.golden.v2",
              GOLDEN / "tb_legacy/events.out.tfevents.golden.tb"]
    examples = (GOLDEN / "examples.tfrecord").read_bytes()
    for i, path in enumerate(events):
        put("event_reader", f"golden{i}", path.read_bytes())
        put("record_reader", f"events{i}", path.read_bytes())
    put("record_reader", "examples", examples)
    put("example", "examples", examples)
    # One bare Example message: the first record's data.
    (length,) = struct.unpack("<Q", examples[:8])
    put("example", "message", examples[12:12 + length])
    for name in ["object/ckpt", "saver/model.ckpt-7"]:
        index = (CKPT / f"{name}.index").read_bytes()
        data = (CKPT / f"{name}.data-00000-of-00001").read_bytes()
        tag = name.split("/")[0]
        put("checkpoint_table", tag, index)
        put("checkpoint_bundle", tag, struct.pack("<H", len(index)) + index + data)
    put("sunnybrook", "contour", b"\0" + b"120.5 80.25\n130 80\n\n130 95.75\n120 95\n")
    put("sunnybrook", "dicom", b"\1" + dicom())


main()
