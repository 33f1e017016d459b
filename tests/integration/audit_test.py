#!/usr/bin/env python3
"""`hytrace audit` as a security engineer meets it: a policy, a program that
makes allowed and denied calls (tests/progs/audit_probe.c), and the log.

  audit_test.py CASE HYTRACE PROG_AUDIT_PROBE [PODMAN_PROFILE]

Cases:
  errno      --enforce: an ERRNO rule fails the call with its errnoRet; logged "deny"
  observe    the same policy without --enforce: the call runs; logged "would-deny"
  log        a LOG rule: the call runs and is logged "log"
  kill       a KILL_PROCESS rule: the kernel kills the program (status 128+SIGSYS); logged
  trap       a TRAP rule: SIGSYS reaches the program's handler; logged "trap"
  args       a rule on an argument value denies dup(1) and lets dup(2) through
  foreign    i386 (int 0x80) and x32 calls under a policy for x86-64 alone: killed
             under --enforce, logged "would-kill" in observe mode
  own_filter the program's own filters cannot loosen the policy: one that sends the
             denied call to a tracer too (its data wins over the policy's) does not let
             it through; a user-notification listener is refused under --enforce
  paths      a path rule denies reading under one directory (EACCES) and lets another be
             read (and its times set through the fd: utimensat with a NULL path); observe
             mode logs the would-be denial
  landlock   "write only beneath public/" is enforced by Landlock too: a symlink from
             public/ into secret/, which the check at the stop cannot see through, is
             refused by the kernel
  bypass     io_uring and open_by_handle_at, which do what path rules are about without a
             path, fail with ENOSYS under hytrace rules unless a rule allows them by name
  race       a second thread changes what an open names between hytrace's check and the
             kernel's use (the path's bytes, the cwd, the dirfd; tests/progs/audit_race.c):
             a denied file is never read; /proc/self/mem cannot be opened for writing; the
             emulated ptrace writes no read-only page
  network    a port rule denies connect to 127.0.0.1 on one port and lets another through
  tracer     the program cannot read hytrace's memory (process_vm_readv: hytrace is not
             dumpable) nor trace it (PTRACE_SEIZE), and, killing hytrace, dies with it:
             a denied call never succeeds
  json       --json: every line parses, carries the schema's fields, the summary counts them
  podman     Podman's default profile, enforced: the probe's output is the native one
  profile    record the probe, `profile` the recording, audit --enforce with that profile:
             the native output and no denial, with --paths too (then another file is
             denied); without getppid in it, getppid is denied and logged
  bad_policy an unknown operator: one line naming the JSON path, status 2, the program not run

Exit status 0 passed, 1 failed, 77 skipped.
"""
import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

TIMEOUT = 60
SKIP = 77


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def policy_file(tmp, policy):
    path = os.path.join(tmp, "policy.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    return path


def one_rule(names, action, **extra):
    rule = {"names": names, "action": action}
    rule.update(extra)
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}


class Run:
    def __init__(self, proc, log):
        self.status = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.log = log

    def show(self):
        return (f"status {self.status}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}\nlog:\n"
                f"{self.log}")


def audit(hytrace, tmp, policy, steps, *flags, prog):
    log = os.path.join(tmp, "audit.log")
    if os.path.exists(log):
        os.unlink(log)
    path = policy if isinstance(policy, str) else policy_file(tmp, policy)
    proc = subprocess.run([hytrace, "audit", "--policy", path, "-o", log, *flags, "--", prog, *steps],
                          capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    text = open(log).read() if os.path.exists(log) else ""
    return Run(proc, text)


def expect(run, status, stdout, log_patterns):
    check(run.status == status, f"expected status {status}\n{run.show()}")
    if stdout is not None:
        check(run.stdout == stdout, f"expected stdout {stdout!r}\n{run.show()}")
    for pattern in log_patterns:
        check(re.search(pattern, run.log, re.M), f"the log does not match {pattern!r}\n{run.show()}")


def errno_case(hytrace, prog, tmp, _):
    policy = one_rule(["getppid"], "SCMP_ACT_ERRNO", errnoRet=13)
    run = audit(hytrace, tmp, policy, ["getppid"], "--enforce", prog=prog)
    expect(run, 0, "getppid = -1 13\n",
           [r"getppid\(\) = -1 EACCES .*: deny \(SCMP_ACT_ERRNO, syscalls\[0\]\)$",
            r"^audit summary: \d+ events$", r"^  outcome deny +1$"])


def observe_case(hytrace, prog, tmp, _):
    policy = one_rule(["getppid"], "SCMP_ACT_ERRNO", errnoRet=13)
    run = audit(hytrace, tmp, policy, ["getppid"], prog=prog)
    expect(run, 0, "getppid = 1\n", [r"getppid\(\) = \d+: would-deny \(SCMP_ACT_ERRNO, syscalls\[0\]\)$"])
    check(" deny " not in run.log, f"observe mode denied something\n{run.show()}")


def log_case(hytrace, prog, tmp, _):
    run = audit(hytrace, tmp, one_rule(["getppid"], "SCMP_ACT_LOG"), ["getppid"], "--enforce", prog=prog)
    expect(run, 0, "getppid = 1\n", [r"getppid\(\) = \d+: log \(SCMP_ACT_LOG, syscalls\[0\]\)$"])


def kill_case(hytrace, prog, tmp, _):
    policy = one_rule(["getppid"], "SCMP_ACT_KILL_PROCESS")
    run = audit(hytrace, tmp, policy, ["dup:2", "getppid", "dup:2"], "--enforce", prog=prog)
    expect(run, 128 + signal.SIGSYS, "dup:2 = 0\n", [r"getppid: kill by the kernel"])
    run = audit(hytrace, tmp, policy, ["getppid"], prog=prog)
    expect(run, 0, "getppid = 1\n", [r"getppid\(\) = \d+: would-kill \(SCMP_ACT_KILL_PROCESS, syscalls\[0\]\)$"])


def trap_case(hytrace, prog, tmp, _):
    run = audit(hytrace, tmp, one_rule(["getppid"], "SCMP_ACT_TRAP"), ["trap", "getppid"], "--enforce", prog=prog)
    check(run.status == 0 and "SIGSYS syscall 110\n" in run.stdout, f"no SIGSYS for getppid\n{run.show()}")
    expect(run, 0, None, [r"getppid: trap by the kernel"])


def args_case(hytrace, prog, tmp, _):
    policy = one_rule(["dup"], "SCMP_ACT_ERRNO", args=[{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}])
    run = audit(hytrace, tmp, policy, ["dup:1", "dup:2"], "--enforce", "-e", "dup", prog=prog)
    expect(run, 0, "dup:1 = -1 1\ndup:2 = 0\n",
           [r"dup\(1\) = -1 EPERM .*: deny \(SCMP_ACT_ERRNO, syscalls\[0\]\)$",
            r"dup\(2\) = \d+: allow \(SCMP_ACT_ALLOW, allowed\)$"])


def foreign_case(hytrace, prog, tmp, _):
    policy = {"defaultAction": "SCMP_ACT_ALLOW"}
    for step in ("int80", "x32"):
        run = audit(hytrace, tmp, policy, ["dup:2", step], "--enforce", prog=prog)
        expect(run, 128 + signal.SIGSYS, "dup:2 = 0\n", [r": kill by the kernel"])
        run = audit(hytrace, tmp, policy, [step], prog=prog)
        check(run.status == 0 and f"{step} = " in run.stdout, f"observe mode stopped {step}\n{run.show()}")
        expect(run, 0, None, [r"\((i386|x32)\).*: would-kill \(SCMP_ACT_KILL_PROCESS, architectures\)$"])


def own_filter_case(hytrace, prog, tmp, _):
    policy = one_rule(["getppid"], "SCMP_ACT_ERRNO", errnoRet=13)
    run = audit(hytrace, tmp, policy, ["own-filter", "getppid"], "--enforce", prog=prog)
    expect(run, 0, "own-filter = 0\ngetppid = -1 13\n",
           [r"getppid\(\) = -1 EACCES .*: deny \(SCMP_ACT_ERRNO, syscalls\[0\]\)$"])
    run = audit(hytrace, tmp, policy, ["listener", "getppid"], "--enforce", prog=prog)
    expect(run, 0, "listener = -1 1\ngetppid = -1 13\n",
           [r"seccomp\(SECCOMP_SET_MODE_FILTER, (SECCOMP_FILTER_FLAG_NEW_LISTENER|0x8),.*: deny \(SCMP_ACT_ERRNO, "
            r"hytrace: no user-notification listener under --enforce\)$"])
    run = audit(hytrace, tmp, policy, ["listener"], prog=prog)
    expect(run, 0, "listener = 0\n", [r"seccomp\(SECCOMP_SET_MODE_FILTER, (SECCOMP_FILTER_FLAG_NEW_LISTENER|0x8),.*: would-deny "])


def paths_case(hytrace, prog, tmp, _):
    for d in ("secret", "public"):
        os.mkdir(os.path.join(tmp, d))
        with open(os.path.join(tmp, d, "file"), "w") as f:
            f.write("x")
    secret, public = os.path.join(tmp, "secret"), os.path.join(tmp, "public")
    policy = {"defaultAction": "SCMP_ACT_ALLOW",
              "hytrace": {"paths": [{"action": "deny", "access": ["read"], "prefix": secret}]}}
    os.mkfifo(os.path.join(tmp, "fifo"))  # an exec of it must not make hytrace wait for a writer
    steps = [f"open:{secret}/file", f"open:{public}/file", f"open:{tmp}/secret/../secret/file",
             f"futimens:{public}/file", f"exec:{tmp}/fifo"]
    run = audit(hytrace, tmp, policy, steps, "--enforce", "-q", prog=prog)
    expect(run, 0, f"{steps[0]} = -1 13\n{steps[1]} = 0\n{steps[2]} = -1 13\n{steps[3]} = 0\n{steps[4]} = -1 13\n",
           [re.escape(f'path="{secret}/file": deny (deny, hytrace.paths[0])') + "$"])
    run = audit(hytrace, tmp, policy, steps[:1], "-q", prog=prog)
    expect(run, 0, f"{steps[0]} = 0\n", [re.escape(f'path="{secret}/file": would-deny (deny, hytrace.paths[0])')])
    # An i386 open is an open: decided by the same rules, and, since its
    # path cannot be copied where a 32-bit pointer reaches, refused when it
    # would have to run on memory another thread could change.
    with_i386 = dict(policy, architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
    steps = [f"int80-open:{secret}/file", f"int80-open:{public}/file"]
    run = audit(hytrace, tmp, with_i386, steps, "--enforce", "-q", prog=prog)
    expect(run, 0, f"{steps[0]} = -1 13\n{steps[1]} = -1 13\n",
           [re.escape(f'path="{secret}/file": deny (deny, hytrace.paths[0])') + "$",
            re.escape(f'path="{public}/file": deny (deny, hytrace: a 32-bit call that hytrace rules cannot be checked on)')])
    run = audit(hytrace, tmp, with_i386, steps, "-q", prog=prog)
    expect(run, 0, f"{steps[0]} = 0\n{steps[1]} = 0\n",
           [re.escape(f'path="{secret}/file": would-deny (deny, hytrace.paths[0])')])
    # i386's own names for calls x86-64 names otherwise (chown32 is chown).
    no_write = dict(with_i386, hytrace={"paths": [{"action": "deny", "access": ["write"], "prefix": secret}]})
    run = audit(hytrace, tmp, no_write, [f"int80-chown:{secret}/file"], "--enforce", "-q", prog=prog)
    expect(run, 0, f"int80-chown:{secret}/file = -1 13\n", [r"chown32 \(i386\)"])


def landlock_case(hytrace, prog, tmp, _):
    public, secret = os.path.join(tmp, "public"), os.path.join(tmp, "secret")
    for d in (public, secret):
        os.mkdir(d)
        with open(os.path.join(d, "file"), "w") as f:
            f.write("x")
    os.symlink(os.path.join(secret, "file"), os.path.join(public, "link"))
    policy = {"defaultAction": "SCMP_ACT_ALLOW",
              "hytrace": {"paths": [{"action": "allow", "access": ["write"], "prefix": public},
                                    {"action": "deny", "access": ["write"], "prefix": "/"}]}}
    steps = [f"write:{public}/file", f"write:{secret}/file", f"write:{public}/link"]
    run = audit(hytrace, tmp, policy, steps, "--enforce", prog=prog)
    if "Landlock is off" in run.stderr:
        print("SKIP: Landlock is off in this kernel")
        return SKIP
    check("write: enforced by Landlock in the kernel" in run.stderr, f"Landlock not used\n{run.show()}")
    expect(run, 0, f"{steps[0]} = 0\n{steps[1]} = -1 13\n{steps[2]} = -1 13\n",
           [re.escape(f'path="{public}/link": allow (allow, hytrace.paths[0])') + "$"])


def bypass_case(hytrace, prog, tmp, _):
    native = subprocess.run([prog, "io_uring", "open-by-handle"], capture_output=True, text=True, timeout=TIMEOUT)
    check(native.stdout == "io_uring = 0\nopen-by-handle = 0\n", f"natively: {native}")
    rules = {"paths": [{"action": "deny", "access": ["read"], "prefix": "/etc/shadow"}]}
    policy = {"defaultAction": "SCMP_ACT_ALLOW", "hytrace": rules}
    run = audit(hytrace, tmp, policy, ["io_uring", "open-by-handle"], "--enforce", "-q", prog=prog)
    expect(run, 0, f"io_uring = -1 {errno.ENOSYS}\nopen-by-handle = -1 {errno.ENOSYS}\n",
           [r"io_uring_setup\(.*: deny \(deny, hytrace: it would bypass the hytrace rules",
            r"open_by_handle_at\(.*: deny \(deny, hytrace: it would bypass the hytrace rules"])
    named = {"defaultAction": "SCMP_ACT_ALLOW", "hytrace": rules,
             "syscalls": [{"names": ["io_uring_setup", "open_by_handle_at"], "action": "SCMP_ACT_ALLOW"}]}
    run = audit(hytrace, tmp, named, ["io_uring", "open-by-handle"], "--enforce", "-q", prog=prog)
    expect(run, 0, native.stdout, [])
    run = audit(hytrace, tmp, {"defaultAction": "SCMP_ACT_ALLOW"}, ["io_uring"], "--enforce", "-q", prog=prog)
    expect(run, 0, "io_uring = 0\n", [])


def race_case(hytrace, prog, tmp, _):
    racer = os.path.join(os.path.dirname(prog), "prog_audit_race")
    for name in ("public", "secret"):
        os.mkdir(os.path.join(tmp, name))
        with open(os.path.join(tmp, name, "file"), "w") as f:
            f.write(name)
        shutil.copy(racer, os.path.join(tmp, name, "prog"))
    policy = {"defaultAction": "SCMP_ACT_ALLOW",
              "hytrace": {"paths": [{"action": "deny", "access": ["read", "exec"],
                                     "prefix": os.path.join(tmp, "secret")}]}}
    opens = 300
    for mode in ("memory", "cwd", "dirfd"):
        run = audit(hytrace, tmp, policy, [mode, tmp, str(opens)], "--enforce", "-q", prog=racer)
        expect(run, 0, f"{mode}: secret 0 of {opens}\n", [])
    # An exec cannot be given another path (a script would see it): what ran
    # is checked at its exit, and the wrong program is killed first.
    run = audit(hytrace, tmp, policy, ["exec", tmp, "100"], "--enforce", "-q", prog=racer)
    expect(run, 0, "exec: secret 0 of 100\n", [])
    run = audit(hytrace, tmp, policy, ["procmem", "/proc/self/mem"], "--enforce", "-q", prog=racer)
    expect(run, 0, f"procmem = {-errno.EACCES}\n",
           [re.escape('path="/proc/self/mem": deny (deny, hytrace: the memory of a traced task is off limits)')])
    # The emulated ptrace writes the inner tracer's buffers as the kernel
    # would: never into read-only pages, hytrace's copies among them.
    copies = "0x580040000000"
    run = audit(hytrace, tmp, policy, [f"peek-into:{copies}"], "--enforce", "-q", prog=prog)
    expect(run, 0, f"peek-into:{copies} = -1 {errno.EFAULT}\n", [])
    # Spellings the check at entry cannot tell: the descriptor is looked at
    # when the open returns, and the program killed before it can use it.
    for spelling in ("/proc/self/root/proc/self/mem", "/proc/thread-self/../self/mem"):
        run = audit(hytrace, tmp, policy, ["procmem", spelling], "--enforce", "-q", prog=racer)
        denied = run.status == 0 and run.stdout == f"procmem = {-errno.EACCES}\n"
        killed = run.status == 128 + signal.SIGKILL and run.stdout == "" and re.search(
            r": kill \(kill, hytrace: the memory of a traced task is off limits\)$", run.log, re.M)
        check(denied or killed, f"{spelling}: the program kept a writable descriptor of its memory\n{run.show()}")
    # Under a profile that allows only what the program made (not hytrace's
    # own mmap and mseal of the copies' pages), the copies still work.
    trace = os.path.join(tmp, "race.hyt")
    steps = ["memory", tmp, str(opens)]
    recorded = subprocess.run([hytrace, "record", "-q", "-o", trace, "--", racer, *steps],
                              capture_output=True, text=True, timeout=TIMEOUT)
    check(recorded.returncode == 0, f"record: {recorded}")
    made = subprocess.run([hytrace, "profile", trace], capture_output=True, text=True, timeout=TIMEOUT)
    check(made.returncode == 0, f"profile: {made}")
    tight = json.loads(made.stdout)
    check("mseal" not in json.dumps(tight), f"the recording's profile allows mseal: {made.stdout[:300]}")
    tight["hytrace"] = policy["hytrace"]
    run = audit(hytrace, tmp, tight, steps, "--enforce", "-q", prog=racer)
    expect(run, 0, f"memory: secret 0 of {opens}\n", [])
    check("cannot copy" not in run.log and "cannot seal" not in run.stderr and not re.search(r": (kill|trap) ", run.log),
          f"under the tight profile\n{run.show()}")


def network_case(hytrace, prog, tmp, _):
    listeners = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        listeners.append(s)
    denied, allowed = (s.getsockname()[1] for s in listeners)
    policy = {"defaultAction": "SCMP_ACT_ALLOW",
              "hytrace": {"network": [{"action": "deny", "op": "connect", "port": denied, "address": "127.0.0.0/8"}]}}
    run = audit(hytrace, tmp, policy, [f"connect:{denied}", f"connect:{allowed}"], "--enforce", "-q", prog=prog)
    expect(run, 0, f"connect:{denied} = -1 13\nconnect:{allowed} = 0\n",
           [r"connect\(.*: deny \(deny, hytrace\.network\[0\]\)$", r"connect\(.*: allow \(SCMP_ACT_ALLOW, allowed\)$"])
    # "Only this port": Landlock's TCP port rules enforce it in the kernel too.
    policy = {"defaultAction": "SCMP_ACT_ALLOW",
              "hytrace": {"network": [{"action": "allow", "op": "connect", "port": allowed},
                                      {"action": "deny", "op": "connect"}]}}
    run = audit(hytrace, tmp, policy, [f"connect:{denied}", f"connect:{allowed}"], "--enforce", prog=prog)
    for s in listeners:
        s.close()
    expect(run, 0, f"connect:{denied} = -1 13\nconnect:{allowed} = 0\n", [r"hytrace\.network\[1\]\)$"])
    check("Landlock is off" in run.stderr or "connect: TCP ports enforced by Landlock" in run.stderr,
          f"Landlock not used for the port rule\n{run.show()}")


def tracer_case(hytrace, prog, tmp, _):
    native = subprocess.run([prog, "peek-parent"], capture_output=True, text=True, timeout=TIMEOUT)
    check(native.stdout == "peek-parent = 0\n", f"natively the probe reads its parent: {native}")
    policy = one_rule(["dup"], "SCMP_ACT_ERRNO", errnoRet=13)
    run = audit(hytrace, tmp, policy, ["peek-parent"], "--enforce", prog=prog)
    expect(run, 0, None, [r"^audit summary"])
    check(run.stdout.startswith("peek-parent = -1 "), f"the program read hytrace's memory\n{run.show()}")
    run = audit(hytrace, tmp, policy, ["attach-parent"], "--enforce", prog=prog)
    check(run.stdout == f"attach-parent = -1 {errno.EPERM}\n", f"the program could trace hytrace\n{run.show()}")
    run = audit(hytrace, tmp, policy, ["kill-parent", "dup:2", "dup:2"], "--enforce", prog=prog)
    check(run.status == -signal.SIGKILL, f"hytrace was not killed\n{run.show()}")
    check("dup:2 = 0" not in run.stdout, f"a denied call succeeded once hytrace was gone\n{run.show()}")


def json_case(hytrace, prog, tmp, _):
    policy = one_rule(["getppid"], "SCMP_ACT_ERRNO")
    run = audit(hytrace, tmp, policy, ["getppid", "open:/etc/hostname"], "--enforce", "--json", prog=prog)
    check(run.status == 0, run.show())
    lines = [json.loads(line) for line in run.log.splitlines()]
    check(lines and "summary" in lines[-1], f"no summary line last\n{run.show()}")
    events = lines[:-1]
    fields = {"v", "time", "pid", "tid", "comm", "exe", "syscall", "args", "paths", "action", "rule", "outcome",
              "stopped_by"}
    for event in events:
        check(fields <= event.keys(), f"an event lacks {fields - event.keys()}: {event}")
        check(event["v"] == 1, f"schema version {event['v']}")
    denied = [e for e in events if e["syscall"] == "getppid"]
    check(len(denied) == 1 and denied[0]["outcome"] == "deny" and denied[0]["error"] == "EPERM"
          and denied[0]["stopped_by"] == "policy", f"getppid's event: {denied}")
    opened = [e for e in events if e["syscall"] == "openat" and e["paths"] == ["/etc/hostname"]]
    check(len(opened) == 1 and opened[0]["outcome"] == "allow", f"the open of /etc/hostname: {opened}")
    check(lines[-1]["summary"]["events"] == len(events), f"summary {lines[-1]} for {len(events)} events")


def podman_case(hytrace, prog, tmp, podman):
    if not podman or not os.path.exists(podman):
        print(f"SKIP: Podman's profile not found ({podman})")
        return SKIP
    steps = ["getppid", "open:/etc/hostname", "dup:1", "int80"]
    native = subprocess.run([prog, *steps], capture_output=True, text=True, timeout=TIMEOUT)
    run = audit(hytrace, tmp, podman, steps, "--enforce", "-q", prog=prog)
    expect(run, native.returncode, native.stdout, [r"^audit summary"])


# The fields Docker's seccomp types take (moby's api/types/seccomp: Seccomp,
# Syscall, Arg) and their JSON types: a profile with anything else, or a
# field of another type, would not load in `docker run --security-opt`.
DOCKER_TOP = {"defaultAction": str, "defaultErrnoRet": int, "architectures": list, "archMap": list,
              "listenerPath": str, "listenerMetadata": str, "flags": list, "syscalls": list}
DOCKER_SYSCALL = {"name": str, "names": list, "action": str, "errnoRet": int, "args": list, "comment": str,
                  "includes": dict, "excludes": dict}
DOCKER_ARG = {"index": int, "value": int, "valueTwo": int, "op": str}
DOCKER_ACTIONS = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                  "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"}
DOCKER_OPS = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
              "SCMP_CMP_MASKED_EQ"}


def check_docker_shape(profile):
    def fields(obj, allowed, where):
        check(isinstance(obj, dict), f"{where} is not an object")
        for key, value in obj.items():
            check(key in allowed, f"{where}.{key}: not a field Docker reads")
            check(isinstance(value, allowed[key]) and not isinstance(value, bool),
                  f"{where}.{key}: a {type(value).__name__}, Docker wants {allowed[key].__name__}")
    fields(profile, DOCKER_TOP, "profile")
    check(profile["defaultAction"] in DOCKER_ACTIONS, f"defaultAction {profile['defaultAction']}")
    for i, rule in enumerate(profile["syscalls"]):
        fields(rule, DOCKER_SYSCALL, f"syscalls[{i}]")
        check(rule["action"] in DOCKER_ACTIONS and all(isinstance(n, str) for n in rule["names"]),
              f"syscalls[{i}]: {rule}")
        for j, arg in enumerate(rule.get("args", [])):
            fields(arg, DOCKER_ARG, f"syscalls[{i}].args[{j}]")
            check(arg["op"] in DOCKER_OPS and 0 <= arg["index"] <= 5 and 0 <= arg["value"] < 2**64,
                  f"syscalls[{i}].args[{j}]: {arg}")


def profile_case(hytrace, prog, tmp, _):
    steps = ["getppid", "open:/etc/hostname", "dup:1", "connect:1"]
    native = subprocess.run([prog, *steps], capture_output=True, text=True, timeout=TIMEOUT)
    trace = os.path.join(tmp, "probe.hyt")
    recorded = subprocess.run([hytrace, "record", "-q", "-o", trace, "--", prog, *steps],
                              capture_output=True, text=True, timeout=TIMEOUT)
    check(recorded.returncode == 0 and recorded.stdout == native.stdout, f"record: {recorded}")
    made = subprocess.run([hytrace, "profile", trace], capture_output=True, text=True, timeout=TIMEOUT)
    check(made.returncode == 0 and made.stderr == "", f"profile: {made}")
    profile = json.loads(made.stdout)
    check_docker_shape(profile)
    check(profile["defaultAction"] == "SCMP_ACT_ERRNO" and profile["architectures"] == ["SCMP_ARCH_X86_64"],
          f"the profile's head: {made.stdout[:300]}")
    allowed = profile["syscalls"][0]["names"]
    check("getppid" in allowed and "execve" in allowed, f"the names allowed: {allowed}")
    check(any(r["names"] == ["socket"] and r["args"][0]["value"] == 2 for r in profile["syscalls"]),
          f"no rule for socket(AF_INET): {profile['syscalls']}")

    run = audit(hytrace, tmp, profile, steps, "--enforce", "-q", prog=prog)
    expect(run, native.returncode, native.stdout, [r"^audit summary"])
    check(not re.search(r": (deny|kill|trap) ", run.log), f"a denial under the recording's own profile\n{run.show()}")

    # --paths: what the program did to files, and nothing else.
    made = subprocess.run([hytrace, "profile", "--paths", trace], capture_output=True, text=True, timeout=TIMEOUT)
    check(made.returncode == 0, f"profile --paths: {made}")
    with_paths = json.loads(made.stdout)
    rules = with_paths["hytrace"]["paths"]
    check({"action": "allow", "access": ["read"], "prefix": "/etc/hostname"} in rules, f"no rule for /etc/hostname: {rules}")
    check(rules[-1]["action"] == "deny" and rules[-1]["prefix"] == "/", f"the last rule: {rules[-1]}")
    run = audit(hytrace, tmp, with_paths, steps, "--enforce", prog=prog)
    expect(run, native.returncode, native.stdout, [r"^audit summary"])
    check(not re.search(r": (deny|kill|trap) ", run.log), f"a denial under the recording's own paths\n{run.show()}")
    check("read: enforced by Landlock in the kernel" in run.stderr or "Landlock is off" in run.stderr,
          f"the path rules are not Landlock's\n{run.show()}")
    run = audit(hytrace, tmp, with_paths, ["open:/etc/passwd"], "--enforce", "-q", prog=prog)
    expect(run, 0, f"open:/etc/passwd = -1 {errno.EACCES}\n", [re.escape('path="/etc/passwd": deny (deny, hytrace.paths[')])

    allowed.remove("getppid")
    run = audit(hytrace, tmp, profile, steps, "--enforce", "-q", prog=prog)
    expect(run, native.returncode, native.stdout.replace("getppid = 1", "getppid = -1 1"),
           [r"getppid\(\) = -1 EPERM .*: deny \(SCMP_ACT_ERRNO, defaultAction\)$"])


def bad_policy_case(hytrace, prog, tmp, _):
    policy = one_rule(["getppid"], "SCMP_ACT_ERRNO", args=[{"index": 0, "value": 1, "op": "EQUALS"}])
    run = audit(hytrace, tmp, policy, ["getppid"], prog=prog)
    lines = run.stderr.splitlines()
    check(run.status == 2 and len(lines) == 1 and 'syscalls[0].args[0].op: unknown operator "EQUALS"' in lines[0],
          f"expected one line naming syscalls[0].args[0].op and status 2\n{run.show()}")
    check(run.stdout == "", f"the program ran\n{run.show()}")


CASES = {"errno": errno_case, "observe": observe_case, "log": log_case, "kill": kill_case, "trap": trap_case,
         "args": args_case, "own_filter": own_filter_case, "paths": paths_case, "race": race_case,
         "bypass": bypass_case,
         "landlock": landlock_case, "tracer": tracer_case, "network": network_case, "foreign": foreign_case,
         "json": json_case, "podman": podman_case, "profile": profile_case, "bad_policy": bad_policy_case}


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in CASES:
        print(f"usage: {sys.argv[0]} {'|'.join(CASES)} HYTRACE PROG_AUDIT_PROBE [PODMAN_PROFILE]", file=sys.stderr)
        return 2
    podman = sys.argv[4] if len(sys.argv) > 4 else None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            status = CASES[sys.argv[1]](os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]), tmp, podman)
        except Failure as e:
            print(f"FAIL: {e}")
            return 1
    if not status:
        print("ok")
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
