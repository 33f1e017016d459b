#!/usr/bin/env python3
"""Ctrl-C and SIGTERM to hytrace, and -p attach/detach, as a user meets them.

    interrupt_test.py HYTRACE spawn-sigint|spawn-sigterm|attach
    interrupt_test.py HYTRACE untraced-sigterm PROG_UNTRACED_SPIN
    interrupt_test.py HYTRACE exit-with-root PROG_DAEMON

Synchronisation is by the programs' own output (a line echoed back by cat),
never by sleeping; every wait has a deadline so a hang fails the test.
"""
import os
import select
import signal
import subprocess
import sys
import tempfile

DEADLINE = 30.0


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def read_line(stream, what):
    """A line from a pipe, within the deadline."""
    ready, _, _ = select.select([stream], [], [], DEADLINE)
    if not ready:
        fail(f"no output from {what} within {DEADLINE} s")
    return stream.readline()


def echo_through(cat, text):
    cat.stdin.write(text)
    cat.stdin.flush()
    got = read_line(cat.stdout, "cat")
    if got != text:
        fail(f"cat echoed {got!r}, expected {text!r}")


def spawn(hytrace, sig):
    """hytrace kills the tree it spawned and exits 128+sig."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        proc = subprocess.Popen([hytrace, "trace", "-o", trace, "-e", "trace=read,write", "--", "cat"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        echo_through(proc, "ping\n")  # cat runs under hytrace
        proc.send_signal(sig)
        code = proc.wait(DEADLINE)
        if code != 128 + sig:
            fail(f"hytrace exited {code} after signal {sig}, expected {128 + sig}")
        if read_line(proc.stdout, "cat's stdout") != "":
            fail("cat's stdout is still open: the traced program outlived hytrace")
        with open(trace) as f:
            text = f.read()
        if "+++ killed by SIGKILL +++" not in text:
            fail("the trace does not end with cat killed:\n" + text[-500:])


def attach(hytrace):
    """-p traces a running process; SIGINT detaches and leaves it running."""
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        echo_through(cat, "before\n")
        with tempfile.TemporaryDirectory() as tmp:
            trace = os.path.join(tmp, "trace")
            tracer = subprocess.Popen([hytrace, "trace", "-o", trace, "-p", str(cat.pid)],
                                      stderr=subprocess.PIPE, text=True)
            said = read_line(tracer.stderr, "hytrace")
            if said != f"hytrace: Process {cat.pid} attached\n":
                fail(f"hytrace said {said!r} instead of announcing the attach")
            echo_through(cat, "during\n")
            tracer.send_signal(signal.SIGINT)
            code = tracer.wait(DEADLINE)
            if code != 0:
                fail(f"hytrace -p exited {code} after SIGINT, expected 0 (detached)")
            with open(trace) as f:
                text = f.read()
            if 'write(1, "during\\n", 7) = 7' not in text:
                fail("the trace lacks cat's write of the line sent while attached:\n" + text[-800:])
        echo_through(cat, "after\n")  # still running, not stopped
    finally:
        cat.stdin.close()
    if cat.wait(DEADLINE) != 0:
        fail("cat did not exit 0 after detach")


def untraced(hytrace, prog):
    """A CLONE_UNTRACED child is traced too, so SIGTERM leaves nothing behind:
    the spinning child held stdout open, and it must be closed once hytrace
    has exited."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([hytrace, "trace", "-o", os.path.join(tmp, "trace"), "--", prog],
                                stdout=subprocess.PIPE, text=True)
        if read_line(proc.stdout, "the untraced child") != "ready\n":
            fail("the CLONE_UNTRACED child did not run")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(DEADLINE)
        if code != 128 + signal.SIGTERM:
            fail(f"hytrace exited {code} after SIGTERM, expected {128 + signal.SIGTERM}")
        if read_line(proc.stdout, "the program's stdout") != "":
            fail("stdout is still open: a process of the traced tree outlived hytrace")


def exit_with_root(hytrace, prog):
    """--exit-with-root: the root's exit ends the run, with the root's status,
    and the daemon it left (holding stdout) is killed."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        proc = subprocess.Popen([hytrace, "trace", "--exit-with-root", "-o", trace, "--", prog],
                                stdout=subprocess.PIPE, text=True)
        if read_line(proc.stdout, "the root") != "root done\n":
            fail("the root did not print its line")
        code = proc.wait(DEADLINE)
        if code != 3:
            fail(f"hytrace --exit-with-root exited {code}, expected the root's 3")
        if read_line(proc.stdout, "the program's stdout") != "":
            fail("stdout is still open: the daemon outlived hytrace")
        with open(trace) as f:
            text = f.read()
        if "+++ killed by SIGKILL +++" not in text:
            fail("the trace does not show the daemon killed:\n" + text[-500:])


def main():
    hytrace, case = sys.argv[1], sys.argv[2]
    {"spawn-sigint": lambda: spawn(hytrace, signal.SIGINT),
     "spawn-sigterm": lambda: spawn(hytrace, signal.SIGTERM),
     "attach": lambda: attach(hytrace),
     "untraced-sigterm": lambda: untraced(hytrace, sys.argv[3]),
     "exit-with-root": lambda: exit_with_root(hytrace, sys.argv[3])}[case]()
    print("ok")


if __name__ == "__main__":
    main()
