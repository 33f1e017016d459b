#!/usr/bin/env python3
"""Patching, seen from outside: a hot loop stops sites no more, and the trace
is the same as without patching.

    patching_test.py HYTRACE HOT_READS

1. With patching, hot_reads's 2000 reads are all in the trace, the patch
   report says the read site was patched, and almost no read stopped.
2. The traces with and without --no-patch are the same lines, once
   addresses (which ASLR changes from run to run) are masked.
"""
import re
import subprocess
import sys
import tempfile

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
    print(f"ok: {served} reads served by the stub, {stops} stops; traces equal")


if __name__ == "__main__":
    main()
