#!/usr/bin/env python3
"""Integration driver for hytrace: run a program natively and under the tracer.

Compare mode (default):

  compare.py --hytrace BIN [--runs N] [--trace-arg=ARG]... [--expect-trace RE]...
             [--reject-trace RE]... [--expect-status N] [--stdin-file F] [--shell]
             [--workdir-file F]... [--check-json] [--trace-stderr] [--normalize RE]...
             -- PROG [ARGS...]

  Each run executes PROG natively, then as `BIN trace -o TRACE <trace-args> -- PROG ARGS`,
  and requires:
    * the same stdout, byte for byte (and the same stderr unless --no-compare-stderr),
    * the same exit status (a native death by signal N counts as 128+N; hytrace
      itself must exit, never die by a signal),
    * with --expect-status, that status (for the native run too),
    * every --expect-trace regex to match somewhere in the trace (re.MULTILINE),
      no --reject-trace regex to match,
    * with --check-json, every trace line to be a JSON object, and those with a
      "syscall" key to carry args/result/seq/pid/tid.
  Trace arguments that start with '-' must be written --trace-arg=-e.
  --mode record runs `BIN record -q -o TRACE.hyt <trace-args> -- PROG ARGS` instead,
  then `BIN dump TRACE.hyt`, which must succeed and end with the recording's end
  event; the regexes then apply to dump's text.
  --mode replay records the same way, then runs `BIN replay TRACE.hyt`: the
  replay's stdout, stderr and status are what is compared with the native run (the
  recording's must match too), and the regexes apply to the dump.
  --mode audit runs `BIN audit --policy ALLOW_ALL --enforce -q -o LOG <trace-args> -- PROG
  ARGS`, ALLOW_ALL being a profile that allows every call of the three ABIs; the
  regexes apply to the log, which must end with its summary.
  --audit-paths adds to that profile a path rule that no program meets and Landlock
  cannot say, so that every path call is decided at its stop and its path copied.
  --shell runs PROG as a `sh -c` script (ARGS become $0, $1...).
  --workdir-file copies a file into the fresh empty directory each run uses as its
  working directory (every execution, native or traced, gets its own).
  --normalize RE replaces, in both stdouts and stderrs before comparing, each match of RE (its
  group 1 if it has one) by '#': for output that legitimately differs between runs.
  --trace-stderr leaves out -o: the trace is read from the traced run's stderr, which
  is then not compared with the native stderr.

CLI mode:

  compare.py --hytrace BIN --expect-cli --expect-status N [--expect-stdout RE]...
             [--expect-stderr RE]... [--reject-stderr RE]... [--stderr-lines N] -- HYTRACE-ARGS...

  Runs `BIN HYTRACE-ARGS...` once and checks its exit status and output.

Every execution has a timeout (--timeout, default 60 s): a hang kills the whole
process group and fails. Standard input is /dev/null unless --stdin-file.
Exit status: 0 when everything matched, 1 on a mismatch, 2 on a usage error.
"""

import argparse
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SIGNAL_NAMES = {
    int(s): s.name for s in signal.Signals  # type: ignore[attr-defined]
}

# How long processes may outlive the one we started (pipes still open, or
# still alive in its process group) before that counts as a leak.
LINGER_SECONDS = 2.0

JSON_SYSCALL_KEYS = ("syscall", "args", "result", "seq", "pid", "tid")


class Result:
    def __init__(self, argv, returncode, stdout, stderr, elapsed, timed_out):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.timed_out = timed_out
        self.pipes_held = False
        self.leftovers = []
        self.hang_state = ""

    @property
    def status(self):
        """Exit status as a shell reports it: death by signal N is 128+N."""
        if self.returncode is None:
            return None
        if self.returncode < 0:
            return 128 - self.returncode
        return self.returncode

    def describe(self):
        if self.timed_out:
            return "TIMED OUT (killed)"
        if self.returncode < 0:
            sig = -self.returncode
            return "killed by signal %d (%s), status %d" % (
                sig, SIGNAL_NAMES.get(sig, "?"), self.status)
        return "exited with %d" % self.returncode


def child_env():
    env = dict(os.environ)
    # A make jobserver or flags inherited from the build must not leak into the
    # programs under test; the locale is pinned so that sorting is stable.
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS"):
        env.pop(name, None)
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def execute(argv, cwd, stdin_path, timeout):
    """Runs argv in its own session; stdout/stderr are read while it runs.

    Besides a hang of the process itself, it notices processes that outlive it:
    ones that keep its stdout/stderr open (a reader would block on them) and
    ones still alive in its process group a moment after it exited."""
    start = time.monotonic()
    with open(stdin_path, "rb") as stdin:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=child_env(),
                                start_new_session=True)
    chunks = {"out": [], "err": []}

    def reader(stream, key):
        for block in iter(lambda: stream.read1(65536), b""):
            chunks[key].append(block)

    readers = [threading.Thread(target=reader, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=reader, args=(proc.stderr, "err"), daemon=True)]
    for t in readers:
        t.start()
    timed_out = False
    hang = ""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        hang = hang_state(proc.pid)
        kill_group(proc.pid)
        proc.wait()
    elapsed = time.monotonic() - start
    # Once the process is gone its pipes should close at once; give stragglers
    # (say, a helper killed by PR_SET_PDEATHSIG) a moment.
    deadline = time.monotonic() + LINGER_SECONDS
    for t in readers:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    pipes_held = any(t.is_alive() for t in readers)
    leftovers = []
    while not timed_out:
        leftovers = group_members(proc.pid)
        if not leftovers or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    # Whatever the program left behind in its process group goes too.
    kill_group(proc.pid)
    for t in readers:
        t.join(timeout=10)
    proc.stdout.close()
    proc.stderr.close()
    res = Result(argv, proc.returncode, b"".join(chunks["out"]), b"".join(chunks["err"]),
                 elapsed, timed_out)
    res.pipes_held = pipes_held and not timed_out
    res.leftovers = leftovers
    res.hang_state = hang
    return res


def group_members(pgid):
    """Live processes (not zombies) of process group pgid, as 'PID (comm)'."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        comm_end = stat.rfind(")")
        fields = stat[comm_end + 2:].split()
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
            found.append("%s %s" % (entry, stat[stat.find("("):comm_end + 1]))
    return found


def thread_states(pid):
    """One line per thread of pid: its state, kernel wait channel, syscall."""
    lines = []
    try:
        tids = sorted(os.listdir("/proc/%d/task" % pid), key=int)
    except OSError:
        return lines
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(base + "wchan") as f:
                wchan = f.read().strip()
            with open(base + "syscall") as f:
                call = " ".join(f.read().split()[:3])
        except OSError:
            continue
        lines.append("    tid %s: state %s, wchan %s, syscall %s" % (tid, state, wchan, call))
    return lines


def hang_state(pgid):
    """What a hung run was doing, for the report: every thread of its process
    group, and the stacks of the process that was run (hytrace) when gdb is
    there. A hang in CI is then diagnosable from the log alone."""
    out = []
    for member in group_members(pgid):
        out.append("  " + member)
        out.extend(thread_states(int(member.split()[0])))
    if shutil.which("gdb"):
        try:
            bt = subprocess.run(["gdb", "-batch", "-p", str(pgid), "-ex", "thread apply all bt"],
                                capture_output=True, text=True, timeout=60).stdout
            out.append("  stacks of %d:" % pgid)
            out.extend("    " + line for line in bt.splitlines() if line.startswith(("#", "Thread")))
        except subprocess.TimeoutExpired:
            out.append("  (gdb did not answer in 60 s)")
    return "\n".join(out)


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def text(data):
    return data.decode("utf-8", errors="replace")


def head(data, lines, indent="    "):
    all_lines = text(data).splitlines()
    shown = all_lines[:lines]
    out = "\n".join(indent + line for line in shown)
    if len(all_lines) > lines:
        out += "\n%s... (%d more lines)" % (indent, len(all_lines) - lines)
    return out if shown else indent + "(empty)"


def tail(data, lines, indent="    "):
    all_lines = text(data).splitlines()
    if len(all_lines) <= lines:
        return ""
    return "\n".join(indent + line for line in all_lines[-lines:])


def diff(expected, actual, name_a, name_b, limit=60):
    lines = list(difflib.unified_diff(text(expected).splitlines(), text(actual).splitlines(),
                                      name_a, name_b, lineterm=""))
    if not lines and expected != actual:
        lines = ["(only whitespace or line endings differ)",
                 "%s: %r" % (name_a, expected[:400]), "%s: %r" % (name_b, actual[:400])]
    out = "\n".join("    " + line for line in lines[:limit])
    if len(lines) > limit:
        out += "\n    ... (%d more diff lines)" % (len(lines) - limit)
    return out


def shell_quote(argv):
    import shlex
    return " ".join(shlex.quote(a) for a in argv)


def normalize(data, patterns):
    if not patterns:
        return data
    out = text(data)
    for rx in patterns:
        def repl(m):
            if m.re.groups == 0:
                return "#"
            whole, start = m.group(0), m.start(0)
            return whole[:m.start(1) - start] + "#" + whole[m.end(1) - start:]
        out = re.sub(rx, repl, out, flags=re.MULTILINE)
    return out.encode("utf-8", errors="replace")


def check_json(trace):
    """Returns a list of problems with a --json trace (docs/json-events.md)."""
    problems = []
    syscalls = 0
    last_seq = {}
    seen_seqs = set()
    for number, line in enumerate(text(trace).splitlines(), 1):
        if len(problems) >= 10:
            problems.append("... (stopped after 10 problems)")
            break
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            problems.append("line %d is not JSON (%s): %s" % (number, e, line[:200]))
            continue
        if not isinstance(obj, dict):
            problems.append("line %d is not a JSON object: %s" % (number, line[:200]))
            continue
        if "syscall" in obj:
            syscalls += 1
            # "result" is absent only for a call that never returned.
            required = [k for k in JSON_SYSCALL_KEYS
                        if not (k == "result" and obj.get("unfinished") is True)]
            missing = [k for k in required if k not in obj]
            if missing:
                problems.append("line %d lacks %s: %s" % (number, ", ".join(missing), line[:200]))
        # seq is the entry order across tasks (lines come at exit): unique,
        # and increasing within each task.
        seq = obj.get("seq")
        if isinstance(seq, int):
            tid = obj.get("tid")
            if seq in seen_seqs:
                problems.append("line %d: seq %d appears twice: %s" % (number, seq, line[:200]))
            if tid in last_seq and seq <= last_seq[tid]:
                problems.append("line %d: seq %d after seq %d of the same task: %s" % (
                    number, seq, last_seq[tid], line[:200]))
            seen_seqs.add(seq)
            last_seq[tid] = seq
    if syscalls == 0 and not problems:
        problems.append("no JSON object with a \"syscall\" key")
    return problems


def compare_run(args, command, run, keep_root):
    """One native + traced run; returns a list of failure messages (empty: ok)."""
    failures = []
    stdin_path = args.stdin_file or os.devnull
    scratch = tempfile.mkdtemp(prefix="hytrace-it-", dir=keep_root)
    native_dir = os.path.join(scratch, "native")
    traced_dir = os.path.join(scratch, "traced")
    for d in (native_dir, traced_dir):
        os.mkdir(d)
        for f in args.workdir_file:
            shutil.copy(f, d)
    trace_path = os.path.join(scratch, "trace.out")

    native = execute(command, native_dir, stdin_path, args.timeout)
    traced_argv = [args.hytrace, "record" if args.mode == "replay" else args.mode]
    if args.mode in ("record", "replay"):
        trace_path = os.path.join(scratch, "trace.hyt")
        traced_argv += ["-q"]
    if args.mode == "audit":
        policy = os.path.join(scratch, "allow-all.json")
        allow_all = {"defaultAction": "SCMP_ACT_ALLOW",
                     "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]}
        if args.audit_paths:
            # A rule Landlock cannot say and no program meets: every path
            # call is decided at its stop and given a copy of its path.
            allow_all["hytrace"] = {"paths": [{"action": "deny", "access": ["write"],
                                               "prefix": "/nonexistent-hytrace-test"}]}
        with open(policy, "w") as f:
            json.dump(allow_all, f)
        traced_argv += ["--policy", policy, "--enforce", "-q"]
    if not args.trace_stderr:
        traced_argv += ["-o", trace_path]
    traced_argv += args.trace_arg + ["--"] + command
    traced = execute(traced_argv, traced_dir, stdin_path, args.timeout)

    if args.mode == "replay":
        recorded_run = traced
        if not args.nondeterministic:
            for what, a, b in (("stdout", normalize(native.stdout, args.normalize),
                                normalize(recorded_run.stdout, args.normalize)),
                               ("status", native.status, recorded_run.status)):
                if a != b:
                    failures.append("the recording's %s differs from the native run's" % what)
        # Without --check, a replay exits with the recorded program's status; a
        # divergence shows as its report on stderr, compared with native's.
        traced_argv = [args.hytrace, "replay", trace_path]
        traced = execute(traced_argv, traced_dir, stdin_path, args.timeout)
    if args.mode in ("record", "replay"):
        dumped = execute([args.hytrace, "dump", trace_path], scratch, os.devnull, args.timeout)
        trace = dumped.stdout
        if dumped.status != 0:
            failures.append("hytrace dump %s %s:\n%s" % (trace_path, dumped.describe(),
                                                         head(dumped.stderr, 10)))
        elif not re.search(rb"\+\+\+ end: .* events \+\+\+\n\Z", trace):
            failures.append("the recording has no end event")
    elif args.trace_stderr:
        trace = traced.stderr
    else:
        what = "audit log" if args.mode == "audit" else "trace file"
        try:
            with open(trace_path, "rb") as f:
                trace = f.read()
        except OSError as e:
            trace = b""
            failures.append("the %s %s was not written: %s" % (what, trace_path, e))
        if args.mode == "audit" and trace and not re.search(rb"^audit summary: \d+ events\n(  .*\n)*\Z",
                                                            trace, re.M):
            failures.append("the audit log does not end with its summary")

    if native.timed_out:
        failures.append("the native run timed out after %ss (test program bug?)" % args.timeout)
    if traced.timed_out:
        failures.append("the traced run timed out after %ss: hang under hytrace" % args.timeout)
    for res, name in ((native, "native run"), (traced, "traced run")):
        if res.pipes_held:
            failures.append("the %s exited but something kept its stdout/stderr open "
                            "for %.0fs more (a leaked process)" % (name, LINGER_SECONDS))
        if res.leftovers:
            failures.append("the %s exited but left processes alive in its process group "
                            "(killed now): %s" % (name, ", ".join(res.leftovers[:5])))
    if not traced.timed_out and traced.returncode is not None and traced.returncode < 0:
        failures.append("hytrace itself was killed by signal %d (%s)" % (
            -traced.returncode, SIGNAL_NAMES.get(-traced.returncode, "?")))
    if args.expect_status is not None and native.status != args.expect_status:
        failures.append("the native run %s, expected status %d (test program bug?)" % (
            native.describe(), args.expect_status))
    expected_status = args.expect_status if args.expect_status is not None else native.status
    if not traced.timed_out and traced.status != expected_status:
        failures.append("exit status differs: native %s, traced %s, expected %s" % (
            native.describe(), traced.describe(), expected_status))
    if args.mode == "replay" and args.nondeterministic:
        native = recorded_run  # a replay gives what the recording printed, not what a new run would
    native_out = normalize(native.stdout, args.normalize)
    traced_out = normalize(traced.stdout, args.normalize)
    if native_out != traced_out:
        failures.append("stdout differs (native vs traced%s):\n" % (
            ", after --normalize" if args.normalize else "") +
                        diff(native_out, traced_out, "native", "traced"))
    native_err = normalize(native.stderr, args.normalize)
    traced_err = normalize(traced.stderr, args.normalize)
    if args.compare_stderr and not args.trace_stderr and native_err != traced_err:
        failures.append("stderr differs (native vs traced):\n" +
                        diff(native_err, traced_err, "native", "traced"))

    trace_text = text(trace)
    for rx in args.expect_trace:
        if not re.search(rx, trace_text, re.MULTILINE):
            failures.append("the trace has no match for %r" % rx)
    for rx in args.reject_trace:
        m = re.search(rx, trace_text, re.MULTILINE)
        if m:
            line_start = trace_text.rfind("\n", 0, m.start()) + 1
            line_end = trace_text.find("\n", m.end())
            line = trace_text[line_start:line_end if line_end >= 0 else None]
            failures.append("the trace matches rejected %r at: %s" % (rx, line[:300]))
    if args.check_json:
        failures += ["--json: " + p for p in check_json(trace)]

    if failures:
        report = ["", "=" * 78, "FAILED run %d/%d: %s" % (run, args.runs, shell_quote(command)),
                  "  traced as: %s" % shell_quote(traced_argv),
                  "  native: %s in %.2fs; traced: %s in %.2fs" % (
                      native.describe(), native.elapsed, traced.describe(), traced.elapsed)]
        for f in failures:
            report.append("  * " + f)
        report.append("  native stdout (first lines):\n" + head(native.stdout, 15))
        if not args.trace_stderr:
            report.append("  hytrace stderr:\n" + head(traced.stderr, 20))
        if traced.hang_state:
            report.append("  the traced run when it timed out:\n" + traced.hang_state)
        report.append("  trace (%d bytes, first lines):\n%s" % (len(trace), head(trace, 60)))
        last = tail(trace, 15)
        if last:
            report.append("  trace (last lines):\n" + last)
        report.append("  kept in %s" % scratch)
        if not args.trace_stderr:
            with open(os.path.join(scratch, "native.stdout"), "wb") as f:
                f.write(native.stdout)
            with open(os.path.join(scratch, "traced.stdout"), "wb") as f:
                f.write(traced.stdout)
            with open(os.path.join(scratch, "traced.stderr"), "wb") as f:
                f.write(traced.stderr)
        print("\n".join(report), flush=True)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
        print("run %d/%d ok: native %.3fs, traced %.3fs, trace %d lines" % (
            run, args.runs, native.elapsed, traced.elapsed, trace.count(b"\n")), flush=True)
    return failures


def cli_mode(args, hytrace_args):
    if args.expect_status is None:
        print("compare.py: --expect-cli needs --expect-status", file=sys.stderr)
        return 2
    argv = [args.hytrace] + hytrace_args
    with tempfile.TemporaryDirectory(prefix="hytrace-cli-") as cwd:
        res = execute(argv, cwd, args.stdin_file or os.devnull, args.timeout)
    failures = []
    if res.timed_out:
        failures.append("timed out after %ss" % args.timeout)
    elif res.returncode < 0:
        failures.append("hytrace was killed by signal %d" % -res.returncode)
    elif res.status != args.expect_status:
        failures.append("exit status %d, expected %d" % (res.status, args.expect_status))
    if res.pipes_held:
        failures.append("hytrace exited but something kept its stdout/stderr open (a leak)")
    if res.leftovers:
        failures.append("hytrace left processes behind: %s" % ", ".join(res.leftovers[:5]))
    out, err = text(res.stdout), text(res.stderr)
    for rx in args.expect_stdout:
        if not re.search(rx, out, re.MULTILINE):
            failures.append("stdout has no match for %r" % rx)
    for rx in args.expect_stderr:
        if not re.search(rx, err, re.MULTILINE):
            failures.append("stderr has no match for %r" % rx)
    for rx in args.reject_stderr:
        if re.search(rx, err, re.MULTILINE):
            failures.append("stderr matches rejected %r" % rx)
    if args.stderr_lines is not None and len(err.splitlines()) != args.stderr_lines:
        failures.append("stderr has %d lines, expected %d" % (len(err.splitlines()),
                                                              args.stderr_lines))
    print("$ %s  -> %s" % (shell_quote(argv), res.describe()))
    if failures:
        for f in failures:
            print("  * " + f)
        print("  stdout:\n" + head(res.stdout, 30))
        print("  stderr:\n" + head(res.stderr, 30))
        print("FAILED")
        return 1
    print("ok")
    return 0


def parse(argv):
    if "--" not in argv:
        print("compare.py: expected '-- PROG [ARGS...]'", file=sys.stderr)
        sys.exit(2)
    split = argv.index("--")
    own, command = argv[:split], argv[split + 1:]
    p = argparse.ArgumentParser(
        description="Run a program natively and under hytrace and compare.",
        epilog="See the module docstring for details.")
    p.add_argument("--hytrace", required=True, help="the hytrace binary")
    p.add_argument("--runs", type=int, default=1, help="repeat the comparison N times")
    p.add_argument("--mode", choices=("trace", "record", "replay", "audit"), default="trace",
                   help="the hytrace command the program runs under")
    p.add_argument("--nondeterministic", action="store_true",
                   help="replay: the program prints what differs between runs (time, random): "
                        "the replay is compared with the recording, not with the native run")
    p.add_argument("--trace-arg", action="append", default=[],
                   help="an argument for `hytrace trace` (write --trace-arg=-e)")
    p.add_argument("--expect-trace", action="append", default=[], metavar="REGEX")
    p.add_argument("--reject-trace", action="append", default=[], metavar="REGEX")
    p.add_argument("--expect-status", type=int)
    p.add_argument("--stdin-file")
    p.add_argument("--shell", action="store_true", help="run PROG with sh -c")
    p.add_argument("--audit-paths", action="store_true",
                   help="--mode audit: the policy has a path rule too, so every path call is checked and copied")
    p.add_argument("--workdir-file", action="append", default=[],
                   help="copy this file into each run's working directory")
    p.add_argument("--normalize", action="append", default=[], metavar="REGEX",
                   help="replace matches (or their group 1) by '#' in stdout before comparing")
    p.add_argument("--check-json", action="store_true")
    p.add_argument("--trace-stderr", action="store_true",
                   help="no -o: read the trace from the traced run's stderr")
    p.add_argument("--no-compare-stderr", dest="compare_stderr", action="store_false")
    p.add_argument("--timeout", type=float, default=60.0, help="per execution, seconds")
    p.add_argument("--keep-dir", help="where to create scratch dirs (default: TMPDIR)")
    p.add_argument("--expect-cli", action="store_true",
                   help="CLI mode: the arguments after -- go to hytrace itself")
    p.add_argument("--expect-stdout", action="append", default=[], metavar="REGEX")
    p.add_argument("--expect-stderr", action="append", default=[], metavar="REGEX")
    p.add_argument("--reject-stderr", action="append", default=[], metavar="REGEX")
    p.add_argument("--stderr-lines", type=int)
    args = p.parse_args(own)
    if not args.expect_cli and not command:
        p.error("no program after --")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    for rx in args.expect_trace + args.reject_trace + args.expect_stdout + args.expect_stderr \
            + args.reject_stderr + args.normalize:
        try:
            re.compile(rx)
        except re.error as e:
            p.error("bad regex %r: %s" % (rx, e))
    if args.keep_dir:
        os.makedirs(args.keep_dir, exist_ok=True)
    args.hytrace = os.path.abspath(args.hytrace)
    if args.stdin_file:
        args.stdin_file = os.path.abspath(args.stdin_file)
    args.workdir_file = [os.path.abspath(f) for f in args.workdir_file]
    if args.shell:
        command = ["sh", "-c"] + command
    return args, command


def main(argv):
    args, command = parse(argv)
    if not os.access(args.hytrace, os.X_OK):
        print("compare.py: %s is not an executable" % args.hytrace, file=sys.stderr)
        return 2
    if args.expect_cli:
        return cli_mode(args, command)
    print("$ %s  (%d run%s; trace args: %s)" % (shell_quote(command), args.runs,
                                                "s" if args.runs > 1 else "",
                                                shell_quote(args.trace_arg) or "none"),
          flush=True)
    start = time.monotonic()
    for run in range(1, args.runs + 1):
        if compare_run(args, command, run, args.keep_dir):
            print("FAILED at run %d of %d" % (run, args.runs))
            return 1
    print("all %d runs matched in %.1fs" % (args.runs, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
