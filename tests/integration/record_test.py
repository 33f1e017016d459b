#!/usr/bin/env python3
"""`hytrace record` as a user meets it: what it records, and how it ends.

    record_test.py SUBTEST HYTRACE PROG_RECORD_ROUNDTRIP

SUBTEST is one of:

  roundtrip        the bytes the kernel wrote, as the trace holds them (dump
                   --json), hash to what tests/progs/record_roundtrip.c
                   printed; with patching and with --no-patch
  sigkill          a recorder killed with SIGKILL leaves a file that dump and
                   stats read up to its last complete chunk, with a note
  sigterm          SIGTERM: status 143, a complete file ending in its end event
  sigint           the same for SIGINT (Ctrl-C): status 130
  keep_on_failure  --keep-on-failure keeps the trace only of a failed run
  default_name     PROG-N.hyt in the cwd, named on stderr; -o never overwrites
  disk_full        (root) a trace on a full tmpfs: one error line, a non-zero
                   status, the program stopped, the file readable
  bad_cli          no program, a missing program: one line, no file left

Synchronisation is by the trace file's content (a complete chunk in it),
polled with a deadline; every subprocess has a timeout, so a hang fails the
test. Exit status 0 passed, 1 failed, 77 skipped.
"""
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

TIMEOUT = float(os.environ.get("RT_TIMEOUT", "60"))  # any one subprocess
SKIP = 77

# A program that makes syscalls, forks and execs until it is stopped.
LOOP = ["sh", "-c", "while :; do cat /etc/hostname >/dev/null; done"]

HEADER_SIZE = 32
CHUNK_HEADER_SIZE = 48
EVENT_LINE = re.compile(r"^ *\d+ \[pid \d+( tid \d+)?\] ")
END_LINE = re.compile(r"^ *\d+ \[pid \d+\] \+\+\+ end: (exited with \d+|killed by SIG\w+( \(core dumped\))?), "
                      r"(\d+) events \+\+\+$")


class Failure(Exception):
    pass


def fail(message):
    raise Failure(message)


def check(condition, message):
    if not condition:
        fail(message)


def step(text):
    print(f"-- {text}", flush=True)


def run(argv, cwd=None, timeout=TIMEOUT, stdin=subprocess.DEVNULL):
    """argv's status, stdout and stderr (text); a timeout fails the test."""
    try:
        return subprocess.run(argv, cwd=cwd, stdin=stdin, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"timed out after {timeout} s: {' '.join(argv)}")


def lines_of(text):
    return text.splitlines()


def show(result):
    """A command's result, for a failure message."""
    tail = lambda s: "\n".join(lines_of(s)[-15:])
    return f"status {result.returncode}\n  stdout:\n{tail(result.stdout)}\n  stderr:\n{tail(result.stderr)}"


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def unquote(text):
    """The bytes of a C string literal as the formatter writes them: \\n \\t
    \\r \\v \\f \\" \\\\, \\ooo (1 to 3 digits), \\xNN. None when text is not
    one whole literal (an address, or a string cut at -s with "...")."""
    if len(text) < 2 or text[0] != '"':
        return None
    simple = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, '"': 34, "\\": 92, "a": 7, "b": 8, "e": 27}
    out = bytearray()
    i = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return bytes(out) if i == len(text) - 1 else None
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        c = text[i] if i < len(text) else ""
        if c in simple:
            out.append(simple[c])
            i += 1
        elif c == "x":
            out.append(int(text[i + 1:i + 3], 16))
            i += 3
        elif c in "01234567":
            j = i
            while j < len(text) and j < i + 3 and text[j] in "01234567":
                j += 1
            out.append(int(text[i:j], 8) & 0xFF)
            i = j
        else:
            return None
    return None


def complete_chunks(path):
    """The event counts of the complete chunks at the start of the trace at
    path (docs/trace-format.md), [] while it has none."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    if len(data) < HEADER_SIZE or data[:8] != b"HYTRACE\0":
        return []
    (json_length,) = struct.unpack_from("<I", data, 16)
    offset = HEADER_SIZE + json_length
    counts = []
    while offset + CHUNK_HEADER_SIZE <= len(data) and data[offset:offset + 4] == b"HYCK":
        (stored,) = struct.unpack_from("<I", data, offset + 8)
        (events,) = struct.unpack_from("<I", data, offset + 32)
        if offset + CHUNK_HEADER_SIZE + stored > len(data):
            break
        counts.append(events)
        offset += CHUNK_HEADER_SIZE + stored
    return counts


def wait_for_chunk(proc, path):
    """Polls path until it holds a complete chunk; the event count of that
    chunk. The recorder must still be running."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        counts = complete_chunks(path)
        if counts:
            return counts[0]
        if proc.poll() is not None:
            fail(f"the recorder exited {proc.returncode} before its trace held a chunk")
        time.sleep(0.02)
    fail(f"{path} held no complete chunk within {TIMEOUT} s (size {os.path.getsize(path) if os.path.exists(path) else 'none'})")


def wait_eof(stream, what):
    """Reads stream to its end within the deadline: every process that held
    it open has exited."""
    deadline = time.monotonic() + TIMEOUT
    fd = stream.fileno()
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            fail(f"{what} still open after {TIMEOUT} s: a process of the recorded tree outlived the recorder")
        if not os.read(fd, 65536):
            return


def read_proc(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().strip()
    except OSError as e:
        return f"({e.strerror})"


def where_waiting(pid):
    """For a hang: each thread of the recorder and of every task it traces,
    with its state, wait channel and (as root) kernel stack."""
    pids = [pid] + [int(p) for p in os.listdir("/proc") if p.isdigit()
                    and re.search(rf"^TracerPid:\s+{pid}$", read_proc(f"/proc/{p}/status"), re.M)]
    out = []
    for p in pids:
        for tid in sorted(os.listdir(f"/proc/{p}/task") if os.path.isdir(f"/proc/{p}/task") else []):
            base = f"/proc/{p}/task/{tid}"
            state = re.search(r"^State:\s+(.*)$", read_proc(f"{base}/status"), re.M)
            out.append(f"  {p}/{tid} {read_proc(f'{base}/comm')}: {state.group(1) if state else '?'}, "
                       f"wchan {read_proc(f'{base}/wchan')}")
            out.extend("      " + line for line in read_proc(f"{base}/stack").splitlines()[:8])
    if shutil.which("gdb"):
        try:
            bt = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                                capture_output=True, text=True, timeout=TIMEOUT).stdout
            out.extend("  " + line for line in bt.splitlines() if line.startswith(("#", "Thread")))
        except subprocess.TimeoutExpired:
            out.append("  (gdb did not answer)")
    return "\n".join(out)


def kill_tree(proc):
    """Last resort after a failure: SIGKILL the recorder (its tracees die with
    it, PTRACE_O_EXITKILL)."""
    if proc.poll() is None:
        proc.kill()
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            pass


def dump(hytrace, path, *flags):
    return run([hytrace, "dump", *flags, path])


def json_events(hytrace, path):
    result = dump(hytrace, path, "--json", "-s", "1000000")
    check(result.returncode == 0 and result.stderr == "", f"dump --json {path}: {show(result)}")
    events = []
    for n, line in enumerate(lines_of(result.stdout), 1):
        try:
            events.append(json.loads(line))
        except ValueError as e:
            fail(f"dump --json line {n} is not JSON ({e}): {line[:200]}")
    return events


# ---------------------------------------------------------------------------
# roundtrip

PROG_LINE = re.compile(r"^(\w+) fd=(-?\d+) buf=(0x[0-9a-f]+) n=(\d+) hash=([0-9a-f]{16})$")
FIELDS_LINE = re.compile(r"^(\w+)_fields (.*)$")


def program_calls(stdout):
    """The calls record_roundtrip reported, each a dict; fields lines are
    attached to the call before them."""
    calls = []
    for line in lines_of(stdout):
        if re.match(r"^round \d+$", line):
            continue
        m = PROG_LINE.match(line)
        if m:
            calls.append({"what": m.group(1), "fd": int(m.group(2)), "buf": int(m.group(3), 16),
                          "n": int(m.group(4)), "hash": int(m.group(5), 16), "fields": {}})
            continue
        m = FIELDS_LINE.match(line)
        check(m and calls and calls[-1]["what"] == m.group(1), f"unexpected line from the program: {line!r}")
        calls[-1]["fields"] = dict(kv.split("=", 1) for kv in m.group(2).split())
    return calls


# What each reported call is in the trace: syscall name, and which raw
# argument holds the fd and the buffer (None: not an argument).
CALL_SHAPES = {
    "read_file": ("read", 0, 1),
    "read_urandom": ("read", 0, 1),
    "read_pipe": ("read", 0, 1),
    "getrandom": ("getrandom", None, 0),
    "getdents64": ("getdents64", 0, 1),
    "fstat": ("fstat", 0, 1),
    "stat": ("stat", None, 1),
    "recvmsg": ("recvmsg", 0, 1),
    "clock_gettime": ("clock_gettime", None, 1),
    "gettimeofday": ("gettimeofday", None, 0),
}


def matches(event, call):
    name, fd_arg, buf_arg = CALL_SHAPES[call["what"]]
    if event.get("syscall") != name or "raw_args" not in event:
        return False
    raw = event["raw_args"]
    if fd_arg is not None and raw[fd_arg] != call["fd"]:
        return False
    return raw[buf_arg] == call["buf"] and event.get("result") == call["n"]


def struct_fields(text):
    """{tv_sec=1, tv_nsec=2} -> {"tv_sec": "1", "tv_nsec": "2"} (flat structs)."""
    return dict(re.findall(r"(\w+)=([^,{}]+)", text))


def check_call(event, call):
    """Compares one call with its event; returns what was checked."""
    what, args = call["what"], event["args"]
    where = f"{what} (seq {event['seq']})"
    if what.startswith("read_") or what == "getrandom":
        data = unquote(args[1] if what.startswith("read_") else args[0])
        check(data is not None, f"{where}: the buffer is not shown whole: {args}")
        check(len(data) == call["n"], f"{where}: the trace holds {len(data)} bytes, the call returned {call['n']}")
        check(fnv1a(data) == call["hash"],
              f"{where}: the recorded bytes hash to {fnv1a(data):016x}, the program saw {call['hash']:016x}")
        return "bytes"
    if what in ("clock_gettime", "gettimeofday"):
        fields = struct_fields(args[1] if what == "clock_gettime" else args[0])
        small = "tv_nsec" if what == "clock_gettime" else "tv_usec"
        check("tv_sec" in fields and small in fields, f"{where}: no decoded time in {args}")
        data = struct.pack("<qq", int(fields["tv_sec"]), int(fields[small]))
        check(fnv1a(data) == call["hash"],
              f"{where}: the recorded time {fields} hashes to {fnv1a(data):016x}, the program saw "
              f"{call['hash']:016x} ({call['fields']})")
        return "structure rebuilt from its fields"
    if what in ("fstat", "stat"):
        shown = struct_fields(args[1])
        mode = int(call["fields"]["mode"], 8)
        check(shown.get("st_size") == call["fields"]["size"],
              f"{where}: st_size {shown.get('st_size')} in the trace, {call['fields']['size']} in the program")
        check(shown.get("st_mode") == f"S_IFREG|{mode & 0o7777:04o}",
              f"{where}: st_mode {shown.get('st_mode')} in the trace, {mode:o} in the program")
        return "st_mode and st_size (dump shows no more of struct stat)"
    if what == "getdents64":
        entries = call["fields"]["entries"]
        check(f"/* {entries} entries */" in args[1], f"{where}: {args[1]}, the program counted {entries} entries")
        return "entry count (dump shows no dirent bytes)"
    if what == "recvmsg":
        return "result only (dump shows the msghdr as an address)"
    fail(f"unknown call {what}")


def written_bytes(stats_stdout):
    """syscall name -> bytes written, from stats' table."""
    table = {}
    for line in lines_of(stats_stdout):
        m = re.match(r"^ +(\d+) +.* (\d+) (\w+)$", line)
        if m and m.group(3) != "total":
            table[m.group(3)] = int(m.group(2))
    return table


def roundtrip_once(hytrace, prog, tmp, flags):
    label = " ".join(flags) or "patched"
    trace = os.path.join(tmp, f"roundtrip-{'nopatch' if flags else 'patch'}.hyt")
    step(f"[{label}] record -q -o {trace} -- record_roundtrip: status 0, nothing on stderr")
    result = run([hytrace, "record", "-q", "-o", trace, *flags, "--", prog])
    check(result.returncode == 0 and result.stderr == "", f"record {label}: {show(result)}")
    calls = program_calls(result.stdout)
    check(len(calls) == 2 * 13, f"the program reported {len(calls)} calls:\n{result.stdout}")

    step(f"[{label}] dump --json: every call the program reported is there, with its bytes")
    events = json_events(hytrace, trace)
    check(events and events[-1].get("event") == "end" and events[-1].get("exited") == 0,
          f"the trace does not end with the end event of a clean exit: {events[-1] if events else None}")
    execs = [e for e in events if e.get("event") == "exec"]
    check(len(execs) == 1 and execs[0]["path"] == prog and execs[0]["argv"] == [prog],
          f"expected one exec event of {prog}: {[(e['path'], e['argv']) for e in execs]}")
    at_sysinfo_ehdr = 33
    check(not any(t == at_sysinfo_ehdr for t, _ in execs[0]["auxv"]),
          "the exec event's auxv still has AT_SYSINFO_EHDR: the vDSO was not hidden")
    syscalls = sorted((e for e in events if "syscall" in e), key=lambda e: e["seq"])
    at = 0
    kinds = {}
    served = 0
    for call in calls:
        while at < len(syscalls) and not matches(syscalls[at], call):
            at += 1
        check(at < len(syscalls),
              f"no {CALL_SHAPES[call['what']][0]} event for {call} (after the calls before it) in the trace")
        event = syscalls[at]
        at += 1
        kinds.setdefault(check_call(event, call), set()).add(call["what"])
        served += bool(event.get("served_by_stub"))
    for how, which in sorted(kinds.items()):
        print(f"   checked {how}: {', '.join(sorted(which))}")
    print(f"   {served} of {len(calls)} of them served by the stub")
    if flags:
        stub = [e for e in syscalls if e.get("served_by_stub")]
        check(not stub, f"--no-patch, yet {len(stub)} calls served by the stub, e.g. {stub[0] if stub else ''}")
    else:
        check(served > 0, "with patching, none of the program's calls was served by the stub: the stub's "
                          "captured bytes went unchecked")

    step(f"[{label}] dump: status 0, nothing on stderr, one line per event, the end event last")
    result = dump(hytrace, trace)
    check(result.returncode == 0 and result.stderr == "", f"dump: {show(result)}")
    lines = lines_of(result.stdout)
    check(len(lines) == len(events) and all(EVENT_LINE.match(l) for l in lines),
          f"dump printed {len(lines)} lines, dump --json {len(events)} events")
    end = END_LINE.match(lines[-1])
    check(end and end.group(1) == "exited with 0" and int(end.group(3)) == len(lines) - 1,
          f"the last line {lines[-1]!r} is not the end event of {len(lines) - 1} events")

    step(f"[{label}] stats: the command, and the bytes written by fstat, stat, getdents64 and recvmsg")
    result = run([hytrace, "stats", trace])
    check(result.returncode == 0 and result.stderr == "", f"stats: {show(result)}")
    check(re.search(rf"^command +{re.escape(prog)}$", result.stdout, re.M), f"stats' command line:\n{result.stdout}")
    table = written_bytes(result.stdout)
    sizeof_stat = 144
    for name, want in [("fstat", 2 * sizeof_stat), ("stat", 2 * sizeof_stat),
                       ("getdents64", sum(c["n"] for c in calls if c["what"] == "getdents64"))]:
        check(table.get(name) == want, f"stats: {name} wrote {table.get(name)} bytes, expected {want}:\n"
                                       + result.stdout)
    received = sum(c["n"] for c in calls if c["what"] == "recvmsg")
    # The data, plus the msghdr fields the kernel writes back.
    check(received <= table.get("recvmsg", 0) <= received + 2 * 16,
          f"stats: recvmsg wrote {table.get('recvmsg')} bytes, the program received {received}")


def roundtrip(hytrace, prog):
    with tempfile.TemporaryDirectory() as tmp:
        roundtrip_once(hytrace, prog, tmp, [])
        roundtrip_once(hytrace, prog, tmp, ["--no-patch"])


# ---------------------------------------------------------------------------
# sigkill, sigterm

def start_loop(hytrace, trace):
    return subprocess.Popen([hytrace, "record", "-o", trace, "--", *LOOP], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def sigkill(hytrace, _prog):
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "killed.hyt")
        step(f"record -o {trace} -- {' '.join(LOOP)}; wait for a complete chunk in the file")
        proc = start_loop(hytrace, trace)
        try:
            first_chunk = wait_for_chunk(proc, trace)
            print(f"   the first chunk holds {first_chunk} events")
            step("SIGKILL the recorder: the recorded tree dies with it")
            proc.kill()
            proc.wait(TIMEOUT)
            wait_eof(proc.stdout, "the program's stdout")
        finally:
            kill_tree(proc)
        size = os.path.getsize(trace)
        chunks = complete_chunks(trace)
        print(f"   left {size} bytes, {len(chunks)} complete chunks ({sum(chunks)} events)")

        step("dump: status 0, the events of every complete chunk, a note that the end was cut short")
        result = dump(hytrace, trace)
        check(result.returncode == 0, f"dump of the killed recording: {show(result)}")
        lines = lines_of(result.stdout)
        bad = [l for l in lines if not EVENT_LINE.match(l)]
        check(not bad, f"dump printed lines that are not events: {bad[:3]}")
        check(len(lines) >= sum(chunks), f"dump printed {len(lines)} events, the complete chunks hold {sum(chunks)}")
        check(any("+++ exec " in l for l in lines[:20]), "the dump does not start with the program's exec")
        check(not any(END_LINE.match(l) for l in lines), "a killed recording has an end event")
        err = lines_of(result.stderr)
        check(len(err) == 1 and "cut short" in err[0] and trace in err[0],
              f"dump's stderr should be one note that the recording was cut short: {result.stderr!r}")
        print(f"   {len(lines)} events; {err[0]}")

        step("dump --json: status 0, the same events")
        result = dump(hytrace, trace, "--json")
        check(result.returncode == 0 and len(lines_of(result.stdout)) == len(lines),
              f"dump --json of the killed recording: {show(result)}")

        step("stats: status 0")
        result = run([hytrace, "stats", trace])
        check(result.returncode == 0, f"stats of the killed recording: {show(result)}")
        check(re.search(r"^events +\d+: ", result.stdout, re.M), f"stats has no events line:\n{result.stdout}")


def interrupted(hytrace, sig):
    """SIGTERM or SIGINT (Ctrl-C) to the recorder."""
    name = signal.Signals(sig).name
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "interrupted.hyt")
        step(f"record -o {trace} -- {' '.join(LOOP)}; wait for a complete chunk in the file")
        proc = start_loop(hytrace, trace)
        try:
            wait_for_chunk(proc, trace)
            step(f"{name} to the recorder: it ends the program, finishes the file and exits {128 + sig}")
            proc.send_signal(sig)
            try:
                code = proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                fail(f"the recorder did not exit within {TIMEOUT} s of {name}; where it waits:\n"
                     + where_waiting(proc.pid))
            wait_eof(proc.stdout, "the program's stdout")
            stderr = proc.stderr.read().decode(errors="replace")
        finally:
            kill_tree(proc)
        check(code == 128 + sig, f"the recorder exited {code} after {name}, expected {128 + sig}; stderr:\n"
                                 + stderr)
        err = lines_of(stderr)
        check(len(err) == 1 and trace in err[0] and err[0].startswith("hytrace: recorded "),
              f"the recorder's stderr should be its one summary line naming the trace: {stderr!r}")
        print(f"   {err[0]}")

        step("dump: status 0, nothing on stderr, the last line the end event, its count right")
        result = dump(hytrace, trace)
        check(result.returncode == 0 and result.stderr == "", f"dump of the terminated recording: {show(result)}")
        lines = lines_of(result.stdout)
        end = END_LINE.match(lines[-1]) if lines else None
        check(end, f"the dump does not end with an end event: {lines[-3:]}")
        check(int(end.group(3)) == len(lines) - 1,
              f"the end event counts {end.group(3)} events, the dump shows {len(lines) - 1} before it")
        print(f"   {lines[-1].strip()}")
        result = run([hytrace, "stats", trace])
        check(result.returncode == 0 and result.stderr == "", f"stats: {show(result)}")


# ---------------------------------------------------------------------------
# keep_on_failure, default_name

def keep_on_failure(hytrace, _prog):
    with tempfile.TemporaryDirectory() as tmp:
        for program, status, kept, end in [
                (["true"], 0, False, None),
                (["false"], 1, True, "exited with 1"),
                (["sh", "-c", "kill -9 $$"], 128 + signal.SIGKILL, True, "killed by SIGKILL")]:
            trace = os.path.join(tmp, f"{program[0]}.hyt")
            step(f"record --keep-on-failure -o {trace} -- {' '.join(program)}: status {status}, "
                 f"trace {'kept' if kept else 'removed'}")
            result = run([hytrace, "record", "--keep-on-failure", "-o", trace, "--", *program])
            check(result.returncode == status, f"expected status {status}: {show(result)}")
            check(os.path.exists(trace) == kept, f"the trace was {'removed' if kept else 'kept'}")
            if not kept:
                check(result.stderr == "", f"a discarded trace, yet stderr: {result.stderr!r}")
                continue
            check(trace in result.stderr, f"the summary line does not name the kept trace: {result.stderr!r}")
            result = dump(hytrace, trace)
            check(result.returncode == 0 and result.stderr == "", f"dump {trace}: {show(result)}")
            last = lines_of(result.stdout)[-1]
            check(END_LINE.match(last) and f"end: {end}," in last, f"the trace ends with {last!r}, not {end}")
        check(sorted(os.listdir(tmp)) == ["false.hyt", "sh.hyt"], f"left in the directory: {os.listdir(tmp)}")


def default_name(hytrace, _prog):
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(2):
            name = f"true-{n}.hyt"
            step(f"record -- true (cwd {tmp}): creates {name} and names it on stderr")
            result = run([hytrace, "record", "--", "true"], cwd=tmp)
            check(result.returncode == 0, f"record -- true: {show(result)}")
            err = lines_of(result.stderr)
            check(len(err) == 1 and name in err[0], f"stderr should be one line naming {name}: {result.stderr!r}")
            check(os.path.isfile(os.path.join(tmp, name)), f"no {name} in the cwd: {os.listdir(tmp)}")
            result = dump(hytrace, os.path.join(tmp, name))
            check(result.returncode == 0 and result.stderr == "" and END_LINE.match(lines_of(result.stdout)[-1]),
                  f"dump {name}: {show(result)}")
        check(sorted(os.listdir(tmp)) == ["true-0.hyt", "true-1.hyt"], f"in the cwd: {os.listdir(tmp)}")

        step("record -q -- true: no summary line")
        result = run([hytrace, "record", "-q", "--", "true"], cwd=tmp)
        check(result.returncode == 0 and result.stderr == "", f"record -q: {show(result)}")
        check(os.path.isfile(os.path.join(tmp, "true-2.hyt")), f"no true-2.hyt: {os.listdir(tmp)}")

        existing = os.path.join(tmp, "existing")
        marker = os.path.join(tmp, "marker")
        with open(existing, "w") as f:
            f.write("precious\n")
        for target in [existing, os.path.join(tmp, "true-0.hyt")]:
            with open(target, "rb") as f:
                before = f.read()
            step(f"record -o {os.path.basename(target)} (it exists): refused in one line, the file "
                 f"unchanged, the program not run")
            result = run([hytrace, "record", "-o", target, "--", "sh", "-c", f"echo ran > {marker}"], cwd=tmp)
            check(result.returncode != 0, f"record -o over an existing file: {show(result)}")
            err = lines_of(result.stderr)
            check(len(err) == 1 and target in err[0] and "exists" in err[0],
                  f"expected one line naming {target} and that it exists: {result.stderr!r}")
            print(f"   {err[0]}")
            with open(target, "rb") as f:
                check(f.read() == before, f"{target} was changed")
            check(not os.path.exists(marker), "the program ran although the trace could not be created")


# ---------------------------------------------------------------------------
# disk_full

def disk_full(hytrace, _prog):
    if os.geteuid() != 0:
        print("SKIP: disk_full needs root to mount a small tmpfs")
        return SKIP
    with tempfile.TemporaryDirectory() as mnt:
        mount = run(["mount", "-t", "tmpfs", "-o", "size=256k", "hytrace-record-test", mnt])
        if mount.returncode != 0:
            print(f"SKIP: cannot mount a tmpfs: {mount.stderr.strip()}")
            return SKIP
        try:
            disk_full_on(hytrace, mnt)
        finally:
            for _ in range(50):
                if run(["umount", mnt]).returncode == 0:
                    break
                time.sleep(0.1)  # a killed recorder's file may be closing
            else:
                run(["umount", "-l", mnt])
    return 0


def disk_full_on(hytrace, mnt):
    """Both programs are tried and every check made, so one run reports all
    that is wrong; the test fails at the end if anything was."""
    # 2000 rounds of fork+exec+cat write far more than 256 KiB of trace.
    finite = ["sh", "-c", "i=0; while [ $i -lt 2000 ]; do cat /etc/hostname >/dev/null; i=$((i+1)); done; "
                          "echo finished"]
    problems = []

    def soft(condition, message):
        if not condition:
            print(f"   FAILED: {message}")
            problems.append(message)
        return condition

    for name, program in [("finite.hyt", finite), ("loop.hyt", LOOP)]:
        trace = os.path.join(mnt, name)
        step(f"record -o {trace} (256 KiB tmpfs) -- {' '.join(program)}: the trace fills the disk; record "
             f"stops the program, exits non-zero with one line")
        proc = subprocess.Popen([hytrace, "record", "-o", trace, "--", *program], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            soft(False, f"{name}: the recorder was still running {TIMEOUT} s after the start: the program was "
                        f"not stopped when its trace could not be written (trace size "
                        f"{os.path.getsize(trace)} bytes); killed it")
            kill_tree(proc)
            out, err = proc.communicate(timeout=TIMEOUT)
        finally:
            kill_tree(proc)
        out, err = out.decode(errors="replace"), err.decode(errors="replace")
        if proc.returncode != -signal.SIGKILL:
            lines = lines_of(err)
            soft(proc.returncode != 0, f"{name}: record exited 0 on a full disk")
            if soft(len(lines) == 1 and trace in lines[0] and "No space left on device" in lines[0],
                    f"{name}: expected one line naming {trace} and ENOSPC, got: {err!r}"):
                print(f"   status {proc.returncode}: {lines[0]}")
            soft("finished" not in out, f"{name}: the program ran to its end (it printed 'finished') although "
                                        f"its trace could not be written from early on")

        step(f"dump {name}: status 0, a prefix of the recording, a note that it was cut short")
        result = dump(hytrace, trace)
        check(result.returncode == 0, f"dump of the partial trace: {show(result)}")
        events = lines_of(result.stdout)
        check(events and all(EVENT_LINE.match(l) for l in events), f"dump printed no events: {show(result)}")
        check(any("+++ exec " in l for l in events[:20]), "the partial dump does not start with the exec")
        check(not any(END_LINE.match(l) for l in events), "the partial trace has an end event")
        check("cut short" in result.stderr, f"dump did not say the recording was cut short: {result.stderr!r}")
        print(f"   {len(events)} events read; {result.stderr.strip()}")
        os.unlink(trace)  # room for the next one
    if problems:
        fail("; ".join(problems))


# ---------------------------------------------------------------------------
# bad_cli

def bad_cli(hytrace, _prog):
    with tempfile.TemporaryDirectory() as tmp:
        step("record (no program): status 2, the problem on stderr's first line")
        result = run([hytrace, "record"], cwd=tmp)
        check(result.returncode == 2, f"record without a program: {show(result)}")
        err = lines_of(result.stderr)
        check(err and err[0] == "hytrace: record needs a program to run", f"stderr: {result.stderr!r}")
        check(result.stdout == "", f"stdout: {result.stdout!r}")
        if len(err) > 1:
            print(f"   note: {len(err) - 1} lines of help follow the error line")

        step("record --no-such-option -- true: status 2")
        result = run([hytrace, "record", "--no-such-option", "--", "true"], cwd=tmp)
        check(result.returncode == 2 and "--no-such-option" in result.stderr, f"bad option: {show(result)}")

        for argv, what in [(["--", "/nonexistent"], "/nonexistent"), (["--", "no-such-program-here"],
                                                                      "no-such-program-here"),
                           (["-o", os.path.join(tmp, "named.hyt"), "--", "/nonexistent"], "/nonexistent")]:
            step(f"record {' '.join(argv)}: status 127, one line, no trace left")
            result = run([hytrace, "record", *argv], cwd=tmp)
            check(result.returncode == 127, f"expected 127: {show(result)}")
            err = lines_of(result.stderr)
            check(len(err) == 1 and what in err[0] and "No such file or directory" in err[0],
                  f"expected one line naming {what}: {result.stderr!r}")
            check(os.listdir(tmp) == [], f"left behind: {os.listdir(tmp)}")

        target = os.path.join(tmp, "no-such-dir", "x.hyt")
        step(f"record -o {target} -- true: one line naming the trace, non-zero, the program not run")
        marker = os.path.join(tmp, "marker")
        result = run([hytrace, "record", "-o", target, "--", "sh", "-c", f"echo ran > {marker}"], cwd=tmp)
        err = lines_of(result.stderr)
        check(result.returncode != 0 and len(err) == 1 and target in err[0], f"{show(result)}")
        check(not os.path.exists(marker), "the program ran although its trace could not be created")


def sigterm(hytrace, _prog):
    interrupted(hytrace, signal.SIGTERM)


def sigint(hytrace, _prog):
    interrupted(hytrace, signal.SIGINT)


# ---------------------------------------------------------------------------
# oracle: every syscall in the trace once, counted against the eBPF counter

# The stub's own calls (copies of the program's memory, its thread id when
# the gs base cannot give it), which the kernel sees and the trace does not
# show as the program's.
STUB_OWN = {"process_vm_readv", "gettid"}
# Calls record answers itself (ENOSYS) without letting them run, which the
# counter sees as syscall -1.
ANSWERED = {"rseq", "io_uring_setup"}
# What hytrace's launcher runs in the program's first task before exec.
LAUNCHER = {"read", "close", "prctl", "seccomp", "landlock_restrict_self", "rt_sigprocmask", "rt_sigaction",
            "personality", "arch_prctl", "dup2", "dup3", "getpid", "kill", "tgkill", "execve", "exit_group",
            "write", "setpgid", "ioctl", "set_robust_list"}


def trace_counts(events):
    """Per tid, per syscall name: (calls, unfinished, signalled) of the
    trace. calls: its syscall events (injected calls included: the kernel
    sees those too). unfinished: those without an exit, which the kernel may
    never have entered (a task killed at its seccomp stop, by another
    thread's exit_group). signalled: whether a signal was handled while one
    of them ran without ending it: the kernel enters again a call that
    SA_RESTART restarts, and one that hytrace's own interrupts restarted
    while it waited, where the trace shows it once."""
    signals = {}
    for e in events:
        if e.get("signal") and "seq" in e:
            signals.setdefault(e["tid"], []).append(e["seq"])
    counts = {}
    for e in events:
        if "syscall" not in e or "tid" not in e:
            continue
        calls, unfinished, signalled = counts.setdefault(e["tid"], {}).get(e["syscall"], (0, 0, False))
        if "exit_seq" not in e:
            unfinished += 1
        elif e.get("error") != "EINTR":
            signalled = signalled or any(e["seq"] < s < e["exit_seq"] for s in signals.get(e["tid"], []))
        counts[e["tid"]][e["syscall"]] = (calls + 1, unfinished, signalled)
    return counts


def oracle_once(hytrace, argv, tmp, n):
    trace = os.path.join(tmp, f"run{n}.hyt")
    table = os.path.join(tmp, f"count{n}.json")
    counted = run([hytrace, "count", "--json", "-o", table, "--", hytrace, "record", "-q", "-o", trace, "--", *argv])
    check(counted.returncode == 0, f"count -- record -- {argv}: {show(counted)}")
    with open(table) as f:
        kernel = {int(tid): {row["syscall"]: row["calls"] for row in rows} for tid, rows in json.load(f)["tasks"].items()}
    events = json_events(hytrace, trace)
    recorded = trace_counts(events)
    leader = next(e["tid"] for e in events if e.get("event") == "exec")
    check(len(recorded) > 1, f"{argv}: the trace has {len(recorded)} task(s), the program starts more")
    compared = 0
    for tid, per in recorded.items():
        seen = kernel.get(tid)
        check(seen is not None, f"{argv}: task {tid} is in the trace, the counter never saw it")
        for name in sorted(set(per) | set(seen)):
            if name in STUB_OWN or name in ANSWERED:
                continue
            calls, unfinished, signalled = per.get(name, (0, 0, False))
            kernel_calls = seen.get(name, 0)
            # The launcher's calls before exec add to the leader's: only the
            # trace may not have more.
            launched = tid == leader and name in LAUNCHER
            check(calls - unfinished <= kernel_calls and (signalled or launched or kernel_calls <= calls),
                  f"{argv} run {n}: task {tid} made {kernel_calls} {name} calls, the trace has {calls}"
                  f" ({unfinished} without an exit{', signals during some' if signalled else ''})")
            compared += kernel_calls
    return compared


def oracle(hytrace, _prog):
    argv = sys.argv[3:]
    if os.geteuid() != 0 or not os.path.exists("/sys/kernel/btf/vmlinux"):
        print("SKIP: hytrace count needs root and kernel BTF (/sys/kernel/btf/vmlinux)")
        return 77
    runs = 5
    with tempfile.TemporaryDirectory(prefix="hytrace-oracle-") as tmp:
        for n in range(1, runs + 1):
            compared = oracle_once(hytrace, argv, tmp, n)
            step(f"run {n}/{runs}: {compared} calls of {' '.join(os.path.basename(a) for a in argv)} "
                 "counted alike by the trace and the kernel, per task and syscall")


SUBTESTS = {"roundtrip": roundtrip, "oracle": oracle, "sigkill": sigkill, "sigterm": sigterm, "sigint": sigint, "keep_on_failure": keep_on_failure,
            "default_name": default_name, "disk_full": disk_full, "bad_cli": bad_cli}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SUBTESTS:
        print(f"usage: {sys.argv[0]} {'|'.join(SUBTESTS)} HYTRACE [PROG_RECORD_ROUNDTRIP]", file=sys.stderr)
        return 2
    # Absolute: some sub-tests run in a directory of their own.
    case, hytrace = sys.argv[1], os.path.abspath(sys.argv[2])
    prog = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
    if case == "roundtrip" and not prog:
        print("roundtrip needs PROG_RECORD_ROUNDTRIP", file=sys.stderr)
        return 2
    try:
        status = SUBTESTS[case](hytrace, prog) or 0
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    if status == 0:
        print("ok")
    return status


if __name__ == "__main__":
    sys.exit(main())
