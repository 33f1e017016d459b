#!/usr/bin/env python3
"""Seed inputs for buffer_reader_fuzz: buffers holding well-formed records
(as the stub writes them), so the fuzzer starts from inputs that get past
the first checks. See the input layout in buffer_reader_fuzz.cc.

    make_seeds.py DIR
"""
import os
import struct
import sys

HEADER = 64
RECORD = 112
CAPTURE = 16


def pad8(n):
    return (n + 7) & ~7


def record(position, kind, seq, tid, nr, length, exit_length=0, entry_seq=0, result=0, captures=(),
           committed=True):
    commit = position + 1 if committed else 0
    body = struct.pack("<QIIQHHIq6QqQQ", commit, length, tid, seq, kind, len(captures), exit_length, nr,
                       *range(100, 106), result, entry_seq, 0)
    for addr, data in captures:
        body += struct.pack("<QII", addr, len(data), 0) + data + b"\0" * (pad8(len(data)) - len(data))
    return body + b"\0" * (length - len(body))


def room(captures):
    return RECORD + sum(CAPTURE + pad8(len(d)) for _, d in captures)


def call(seq, tid, nr, entry_caps=(), exit_caps=(), exit_committed=True):
    """A call's pair of records, for buffer() to place."""
    def place(position):
        e, x = room(entry_caps), room(exit_caps)
        return (record(position, 1, seq, tid, nr, e, x, captures=entry_caps) +
                record(position + e, 2, seq + 1, tid, nr, x, entry_seq=seq, result=len(exit_caps),
                       captures=exit_caps, committed=exit_committed))
    return place


def buffer(calls, size=4096, start=0):
    """The calls placed from position `start` as the stub places them: a pair
    that would pass the ring's end goes to its start, after a pad."""
    ring = size - HEADER
    records = bytearray(ring)
    position = start
    for place in calls:
        pair = place(position)
        if ring - position % ring < len(pair):
            records[position % ring:position % ring + 8] = struct.pack("<Q", position + 2)
            position += ring - position % ring
            pair = place(position)
        records[position % ring:position % ring + len(pair)] = pair
        position += len(pair)
    return struct.pack("<QQQ5Q", position, start, size, 0, 0, 0, 0, 0) + bytes(records)


def control(flags, tail=0, min_seq=0, pending_at=0, pending_len=0):
    return struct.pack("<QQQIB3x", tail, min_seq, pending_at, pending_len, flags)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        "one_read": control(1 | 4) + buffer([call(11, 9, 0, (), ((0x1000, b"hello"),))]),
        "two_calls": control(1 | 4 | 16) + buffer([
            call(11, 9, 257, ((0x2000, b"/etc/passwd\0"),), ()),
            call(13, 9, 0, (), ((0x1000, b"\0" * 64),)),
        ]),
        "running": control(1 | 4) + buffer([call(11, 9, 0, (), ((0x1000, b"x"),), exit_committed=False)]),
        "pending": control(1 | 8, tail=2 * RECORD, pending_at=RECORD, pending_len=RECORD) +
                   buffer([call(11, 9, 0)]),
        "wrapped": control(1, tail=2 * 960 + 640) + buffer([call(11 + 2 * i, 9, 0) for i in range(3)],
                                                             size=1024, start=2 * 960 + 640),
        "small": control(1 | 4) + buffer([call(11, 9, 0)], size=512),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
