#!/usr/bin/env python3
"""Patching, seen from outside: a hot loop stops sites no more, and the trace
is the same as without patching.

    patching_test.py HYTRACE HOT_READS

1. With patching, hot_reads's 2000 reads are all in the trace, the patch
   report says the read site was patched, and almost no read stopped.
2. The traces with and without --no-patch are the same lines, once
   addresses (which ASLR changes from run to run) are masked.
3. With -c, the time the table gives the reads (the stub times the calls it
   serves) fits in the run's wall time: one thread cannot spend longer in
   its calls than it ran.
"""
import re
import subprocess
import sys
import tempfile
import time

READS = 2000


def trace(hytrace, program, *flags):
    with tempfile.NamedTemporaryFile("r") as out:
        run = subprocess.run([hytrace, "trace", "-e", "trace=read", "-o", out.name, *flags, "--",
                              program, str(READS)], capture_output=True, text=True, timeout=120)
        if run.returncode != 0 or run.stdout != f"{READS} reads, {READS * 64} bytes\n":
            sys.exit(f"FAIL: hytrace {' '.join(flags)} exited {run.returncode}, stdout {run.stdout!r}")
        return out.read().splitlines()


def hot_lines(lines):
    return [l for l in lines if re.match(r'read\(3, "(\\0)+"\.\.\., 64\) = 64$', l)]


def main():
    hytrace, program = sys.argv[1], sys.argv[2]
    patched = trace(hytrace, program, "--patch-report")
    if len(hot_lines(patched)) != READS:
        sys.exit(f"FAIL: {len(hot_lines(patched))} of {READS} reads in the patched trace")
    report = "\n".join(patched[patched.index("patch report:"):])
    if not re.search(r"libc\.so\.6\+0x[0-9a-f]+ patched", report):
        sys.exit("FAIL: no libc site was patched:\n" + report)
    served = int(re.search(r"served by stubs: (\d+), by ptrace stops: (\d+)", report).group(1))
    stops = int(re.search(r"by ptrace stops: (\d+)", report).group(1))
    if served < READS - 20 or stops > 40:
        sys.exit(f"FAIL: {served} reads served by the stub and {stops} stops:\n{report}")

    mask = lambda lines: [re.sub(r"0x[0-9a-f]+", "0xADDR", l) for l in lines if not l.startswith(" ")]
    plain = trace(hytrace, program, "--no-patch")
    body = patched[:patched.index("patch report:")]
    if mask(body) != mask(plain):
        diff = [f"  patched: {a}\n  ptrace:  {b}" for a, b in zip(mask(body), mask(plain)) if a != b]
        sys.exit(f"FAIL: the traces differ ({len(body)} vs {len(plain)} lines):\n" + "\n".join(diff[:5]))
    summary_seconds, wall = summary_read_seconds(hytrace, program)
    if not 0 < summary_seconds <= wall:
        sys.exit(f"FAIL: -c gives the reads {summary_seconds} s in a run of {wall:.3f} s")
    print(f"ok: {served} reads served by the stub, {stops} stops; traces equal; -c times fit")


def summary_read_seconds(hytrace, program):
    """The seconds column of -c's read row, and the run's wall time."""
    with tempfile.NamedTemporaryFile("r") as out:
        start = time.monotonic()
        run = subprocess.run([hytrace, "trace", "-c", "-e", "trace=read", "-o", out.name, "--",
                              program, str(READS)], capture_output=True, text=True, timeout=120)
        wall = time.monotonic() - start
        if run.returncode != 0:
            sys.exit(f"FAIL: hytrace -c exited {run.returncode}")
        row = re.search(r"^\s*[\d.]+\s+([\d.]+)\s+\d+\s+\d+\s+(?:\d+\s+)?read$", out.read(), re.M)
        if not row:
            sys.exit("FAIL: no read row in the -c table")
        return float(row.group(1)), wall


if __name__ == "__main__":
    main()
