#!/usr/bin/python3
"""bench.py's Python workload: writes COUNT small files into DIR, then reads
each one back and checks it. Prints the number of bytes read.

    small_files.py DIR [COUNT]      (COUNT defaults to 2000)

bench.py gives it a fresh DIR every run.
"""
import os
import sys


def small_files(root, count):
    """The timed workload: write COUNT files of 100-900 bytes, then read each back."""
    os.makedirs(root, exist_ok=True)
    payloads = [((b"%d " % i) * 300)[:100 + i * 37 % 800] for i in range(count)]
    for i, data in enumerate(payloads):
        with open(os.path.join(root, f"file{i:05}.dat"), "wb") as f:
            f.write(data)
    total = 0
    for i, data in enumerate(payloads):
        with open(os.path.join(root, f"file{i:05}.dat"), "rb") as f:
            got = f.read()
        if got != data:
            sys.exit(f"smallfiles: {root}/file{i:05}.dat reads back wrong")
        total += len(got)
    print(total)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    small_files(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
