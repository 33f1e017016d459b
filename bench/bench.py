#!/usr/bin/env python3
"""Side-by-side benchmark of hytrace against native runs and strace.

Runs every workload (rows) under every tracer configuration (columns) and
prints one table of ratios to native. All cells are measured in the same
run: within each repetition every column runs once, one after the other, so
drift in the machine's load hits them alike. A cell is the median over the
repetitions of (column / native of the same repetition), +- half the range
(max - min) / 2 of those ratios. See docs/performance.md.

    bench/bench.py --build build                       # full run, 4-9 minutes
    bench/bench.py --build build --quick --json out.json   # CI: well under a minute
    bench/check_table.py out.json                      # is the table complete?

Needs the build (hytrace, bench/read_loop, bench/threads_loop, bench/bench_format),
and for every column: root and BTF for `hytrace count`, strace for the strace
columns. A column that cannot run is skipped with the reason printed.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import gen_inputs  # noqa: E402


@dataclass
class Column:
    """One tracer configuration. The workload's command is appended to `prefix`.

    prefix: shell words; {hytrace} is the hytrace binary, {bench} this folder, {scratch} a directory
      of the workload's own, kept for the whole workload (so one column can
      leave a file for a later one: columns run in this list's order).
    stops: every syscall of the read microbenchmark stops in a tracer, so its
      read loop runs fewer iterations (ns/call does not depend on the count).
    needs: a check that must pass, else the column is skipped with its reason.
    runs_program: False for a column that does not run the workload's command
      (a replay of a recording, say): nothing is appended to prefix.
    """
    name: str
    prefix: str
    stops: bool = False
    needs: str = ""
    runs_program: bool = True


# The columns, in table order. Adding one is adding one line.
COLUMNS = [
    Column("native", ""),
    Column("hytrace count", "{hytrace} count --", needs="ebpf"),
    Column("hytrace openat", "{hytrace} trace -e trace=openat -o /dev/null --"),
    Column("hytrace all", "{hytrace} trace -o /dev/null --"),  # patched: hot sites do not stop
    # Patching off: every traced syscall stops.
    Column("hytrace all --no-patch", "{hytrace} trace --no-patch -o /dev/null --", stops=True),
    # A recording of each run, written and fsynced, then deleted (the runs
    # succeed): the cost of recording every CI run and keeping the failures.
    Column("hytrace record", "{hytrace} record -q --keep-on-failure -o {scratch}/run.hyt --"),
    Column("record --no-patch", "{hytrace} record -q --no-patch --keep-on-failure -o {scratch}/run.hyt --",
           stops=True),
    # Comes with its command; its exact flags are for that issue to fix:
    # Column("hytrace replay", "{hytrace} replay {scratch}/recording", stops=True, runs_program=False),
    # A policy that allows everything in the kernel, openat/execve/connect
    # audited (logged): the comparison with strace's last column.
    Column("hytrace audit", "{hytrace} audit -q --enforce --policy {bench}/audit-allow.json "
                            "-e openat,execve,connect -o /dev/null --"),
    Column("strace all", "strace -f -o /dev/null", stops=True, needs="strace"),
    Column("strace openat", "strace -f --seccomp-bpf -e trace=openat -o /dev/null", needs="strace-seccomp"),
    Column("strace openat,execve,connect", "strace -f --seccomp-bpf -e trace=openat,execve,connect -o /dev/null",
           needs="strace-seccomp"),
]

# Sizes: on 2 cores the full run takes 4-9 minutes (the longer when ptrace
# stops cross CPUs, see docs/performance.md), --quick 15-35 s.
# read_*: iterations of the read loop; ns/call does not depend on them, so a
# column whose every read stops runs few (read_split: the slowest placement).
FULL = dict(reps=5, read_untraced=2_000_000, read_traced=20_000, read_split=10_000, ls_every=1,
            files=2000, tar_dirs=100, tar_files=100, make_units=24, threads=(4, 5000, 20000),
            git_dirs=24, git_files=25, contended=(200, 500), format_min_time=0.5, timeout=900)
QUICK = dict(reps=2, read_untraced=200_000, read_traced=2_000, read_split=1_000, ls_every=8,
             files=300, tar_dirs=20, tar_files=100, make_units=6, threads=(4, 1000, 20000),
             git_dirs=8, git_files=10, contended=(20, 50), format_min_time=0.01, timeout=300)

SPREAD = "half the range, (max - min) / 2, of the per-repetition ratios"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
}
GIT_SCRIPT = ("git -c init.defaultBranch=main init -q && git add -A && git commit -q -m bench"
              " && git log --stat >/dev/null && git status --porcelain >/dev/null")


@dataclass
class Workload:
    """One row. command(column) is the argv; unit "s" times the whole command,
    "ns/call" takes the last line the program prints."""
    key: str
    num: str         # the row's number in the table (and in docs/performance.md)
    label: str
    command: object  # callable(Column) -> list of str
    unit: str = "s"
    cwd: str = None
    env: dict = field(default_factory=dict)
    setup: object = None    # callable(), once, untimed: generates inputs
    prepare: object = None  # callable(), before every run, untimed: resets state
    pin: str = ""           # CPU list for taskset -c on the whole command (tracer and program)


def make_workloads(build, tmp, size):
    loop = os.path.join(build, "bench", "read_loop")
    threads = os.path.join(build, "bench", "threads_loop")
    contended = os.path.join(build, "tests", "progs", "prog_patch_contended")
    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    tool = lambda name: shutil.which(name) or name  # noqa: E731 (absolute: same for every column)

    def read_argv(col):
        return [loop, str(size["read_traced"] if col.stops else size["read_untraced"])]

    def read_argv_cpu1(col):  # under taskset -c 0: the tracer on CPU 0, the program moved to CPU 1
        return [tool("taskset"), "-c", "1", loop, str(size["read_split"] if col.stops else size["read_untraced"])]

    docs = "/usr/share/doc"
    if size["ls_every"] == 1:
        ls_args, ls_label = [docs], f"ls -lR {docs}"
    else:
        entries = sorted(os.listdir(docs)) if os.path.isdir(docs) else []
        ls_args = [os.path.join(docs, e) for e in entries[::size["ls_every"]]] or [docs]
        ls_label = f"ls -lR {docs} (1 entry in {size['ls_every']})"

    files_dir = os.path.join(tmp, "small_files")
    tar_dir = os.path.join(tmp, "tar_tree")
    make_dir = os.path.join(tmp, "cproject")
    git_dir = os.path.join(tmp, "git_repo")
    t = size["threads"]
    tar_n = size["tar_dirs"] * size["tar_files"]
    git_n = size["git_dirs"] * size["git_files"]
    return [
        Workload("read64", "1a", "read 64 B, ns/call", read_argv, unit="ns/call"),
        Workload("read64_pinned", "1b", "read 64 B, ns/call, all on CPU 0", read_argv, unit="ns/call", pin="0"),
        Workload("read64_split", "1c", "read 64 B, ns/call, tracer CPU 0, program CPU 1", read_argv_cpu1,
                 unit="ns/call", pin="0"),
        Workload("ls", "2", ls_label, lambda col: [tool("ls"), "-lR"] + ls_args),
        Workload("python_files", "3", f"python3: write+read {size['files']} files",
                 lambda col: [python, os.path.join(BENCH_DIR, "small_files.py"), files_dir, str(size["files"])],
                 prepare=lambda: shutil.rmtree(files_dir, ignore_errors=True)),
        Workload("tar", "4", f"tar cf /dev/null ({tar_n} files)",
                 lambda col: [tool("tar"), "cf", "/dev/null", "."], cwd=tar_dir,
                 setup=lambda: gen_inputs.gen_tree(tar_dir, size["tar_dirs"], size["tar_files"], 1000)),
        Workload("make", "5", f"make -j2 ({size['make_units'] + 1} C files, gcc -O0)",
                 lambda col: [tool("make"), "-s", "-j2"], cwd=make_dir,
                 setup=lambda: gen_inputs.gen_cproject(make_dir, size["make_units"]),
                 prepare=lambda: subprocess.run([tool("make"), "-s", "clean"], cwd=make_dir, check=True,
                                                stdout=subprocess.DEVNULL)),
        Workload("threads", "6", f"{t[0]} threads x {t[1]} reads, work between",
                 lambda col: [threads] + [str(v) for v in t]),
        Workload("git", "7", f"git init/add/commit/log/status ({git_n} files)",
                 lambda col: [tool("sh"), "-c", GIT_SCRIPT], cwd=git_dir, env=GIT_ENV,
                 setup=lambda: gen_inputs.gen_tree(git_dir, size["git_dirs"], size["git_files"]),
                 prepare=lambda: shutil.rmtree(os.path.join(git_dir, ".git"), ignore_errors=True)),
        # A site threads never leave (issue 8): 4 threads read /dev/zero in a
        # loop, signals one at a time, handlers through the same wrappers.
        Workload("contended_a", "8a", f"4 threads in read, {size['contended'][0]} signals one at a time",
                 lambda col: [contended, str(size["contended"][0])]),
        Workload("contended_b", "8b", f"4 threads in read, {size['contended'][1]} signals one at a time",
                 lambda col: [contended, str(size["contended"][1])]),
    ]


# ---------------------------------------------------------------- the machine

def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "not found"


def machine():
    cpu = "unknown CPU"
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    idle = read_text("/sys/devices/system/cpu/cpuidle/current_driver", "none")
    poll = read_text("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
    if poll:
        idle += f", guest_halt_poll_ns={poll}"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "cpuidle": idle,
        "hypervisor": " hypervisor" in read_text("/proc/cpuinfo"),
    }


def machine_line(m):
    vm = ", virtual machine" if m["hypervisor"] else ""
    return f"{m['cpu']}, {m['cores']} cores, Linux {m['kernel']}{vm}; cpuidle {m['cpuidle']}"


def loadavg():
    return " ".join(read_text("/proc/loadavg", "? ? ?").split()[:3])


# ------------------------------------------------------------------ checks

def check_needs(hytrace, columns):
    """name -> reason for every column that cannot run here."""
    skipped = {}
    results = {}

    def ebpf():
        out = subprocess.run([hytrace, "count", "--", "true"], capture_output=True, text=True, timeout=120)
        if out.returncode == 1:  # hytrace count's "cannot count here"
            lines = [l for l in out.stderr.strip().splitlines() if l.strip()]
            return "hytrace count exits 1: " + (lines[-1] if lines else "no reason given")
        return None  # works, or fails otherwise: then its cells fail and say why

    def strace():
        return None if shutil.which("strace") else "strace not found (apt-get install strace)"

    def strace_seccomp():
        if strace():
            return strace()
        out = subprocess.run(["strace", "-f", "--seccomp-bpf", "-e", "trace=openat", "-o", "/dev/null", "true"],
                             capture_output=True, text=True, timeout=120)
        return None if out.returncode == 0 else f"strace --seccomp-bpf fails: {out.stderr.strip()[:200]}"

    checks = {"ebpf": ebpf, "strace": strace, "strace-seccomp": strace_seccomp}
    for col in columns:
        if col.needs:
            if col.needs not in results:
                results[col.needs] = checks[col.needs]()
            if results[col.needs]:
                skipped[col.name] = results[col.needs]
    return skipped


# -------------------------------------------------------------- measuring

def command_of(col, workload, hytrace, scratch):
    words = [w.format(hytrace=hytrace, scratch=scratch, bench=os.path.dirname(os.path.abspath(__file__)))
             for w in shlex.split(col.prefix)]
    if col.runs_program:
        words += workload.command(col)
    return ([shutil.which("taskset") or "taskset", "-c", workload.pin] if workload.pin else []) + words


def run_once(cmd, workload, env, timeout):
    """Seconds of wall time, or the ns/call the program printed. Raises on failure."""
    if workload.prepare:
        workload.prepare()
    stdout = subprocess.PIPE if workload.unit == "ns/call" else subprocess.DEVNULL
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=workload.cwd, env=env, stdout=stdout, stderr=subprocess.PIPE,
                         timeout=timeout)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        tail = out.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"exit status {out.returncode}: {' | '.join(tail)}")
    if workload.unit == "ns/call":
        return float(out.stdout.decode().strip().splitlines()[-1])
    return elapsed


def measure(workload, columns, ctx):
    """Runs every column once per repetition; returns the row's cells."""
    env = dict(os.environ, LC_ALL="C", **workload.env)
    scratch = os.path.join(ctx["tmp"], "scratch", workload.key)
    os.makedirs(scratch, exist_ok=True)
    cmds = {c.name: command_of(c, workload, ctx["hytrace"], scratch) for c in columns}
    samples = {c.name: [] for c in columns}
    errors = {}
    # Warm-up, untimed: page cache, dentries, the first run's one-off costs.
    try:
        run_once(cmds["native"], workload, env, ctx["timeout"])
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as e:
        errors["native"] = f"warm-up: {e}"
    for rep in range(0 if errors else ctx["reps"]):
        for c in columns:
            if c.name in errors:
                continue
            try:
                samples[c.name].append(run_once(cmds[c.name], workload, env, ctx["timeout"]))
            except (RuntimeError, subprocess.SubprocessError, OSError, ValueError, IndexError) as e:
                errors[c.name] = f"{shlex.join(cmds[c.name])}: {e}"
        print(f" {rep + 1}", end="", file=sys.stderr, flush=True)

    cells = {}
    native = samples["native"]
    for c in columns:
        if c.name in errors or "native" in errors:
            cells[c.name] = {"error": errors.get(c.name) or "native failed: " + errors["native"]}
            continue
        v = samples[c.name]
        ratios = [x / n for x, n in zip(v, native)]
        cells[c.name] = {
            "ratio": statistics.median(ratios),
            "spread": (max(ratios) - min(ratios)) / 2,
            "median": statistics.median(v),
            "median_spread": (max(v) - min(v)) / 2,
            "unit": workload.unit,
            "samples": v,
            "command": shlex.join(cmds[c.name]),
        }
    return cells


# The rows whose share of syscalls served by stubs is measured (issue goal:
# at least 95%), with every syscall traced and patching on.
SERVED_ROWS = ("ls", "python_files", "make", "tar", "git")
# The rows measured once under record, kept, for trace size and throughput.
RECORDED_ROWS = ("ls", "python_files", "tar", "make", "threads", "git")
SERVED_RE = re.compile(r"syscalls served by stubs: (\d+), by ptrace stops: (\d+)")


def served_share(workload, ctx):
    """One run under `hytrace trace --patch-report`: the calls served by stubs
    and those that stopped, from the report's last line."""
    env = dict(os.environ, LC_ALL="C", **workload.env)
    with tempfile.NamedTemporaryFile("r", dir=ctx["tmp"], suffix=".trace") as out:
        col = Column("served", f"{{hytrace}} trace --patch-report -o {out.name} --")
        run_once(command_of(col, workload, ctx["hytrace"], ctx["tmp"]), workload, env, ctx["timeout"])
        found = SERVED_RE.findall(out.read())
    if not found:
        raise RuntimeError("no patch report in the trace")
    served, stops = (int(v) for v in found[-1])
    return {"served": served, "stops": stops, "share": served / max(1, served + stops)}


STATS_RE = {
    "syscalls": re.compile(r"^events +\d+: (\d+) syscall", re.M),
    "served": re.compile(r"^served by stubs +(\d+) of (\d+) syscalls", re.M),
    "bytes": re.compile(r"^trace +\S+: (\d+) bytes", re.M),
    "events": re.compile(r"^events +(\d+):", re.M),
}


def recorded(workload, ctx):
    """One run under `hytrace record`, kept, and its `hytrace stats`: trace
    bytes per syscall, the share served by stubs, events per second."""
    env = dict(os.environ, LC_ALL="C", **workload.env)
    path = os.path.join(ctx["tmp"], f"recorded-{workload.key}.hyt")
    col = Column("recorded", f"{{hytrace}} record -q -o {path} --")
    seconds = run_once(command_of(col, workload, ctx["hytrace"], ctx["tmp"]), workload, env, ctx["timeout"])
    out = subprocess.run([ctx["hytrace"], "stats", path], capture_output=True, text=True, timeout=ctx["timeout"])
    os.unlink(path)
    found = {k: rx.search(out.stdout) for k, rx in STATS_RE.items()}
    if out.returncode != 0 or not all(found.values()):
        raise RuntimeError(f"hytrace stats: {out.stderr.strip()[:200]}")
    syscalls = int(found["syscalls"].group(1))
    served = int(found["served"].group(1))
    trace_bytes = int(found["bytes"].group(1))
    events = int(found["events"].group(1))
    return {"syscalls": syscalls, "share": served / max(1, syscalls), "bytes": trace_bytes,
            "bytes_per_syscall": trace_bytes / max(1, syscalls),
            "events_per_s": events / seconds if workload.unit == "s" else None}


def per_row(workloads, keys, measure_one, ctx):
    """measure_one(workload, ctx) for the rows in `keys`: the results by key
    (an {"error": ...} where it failed), and whether any failed."""
    out, failed = {}, False
    for w in workloads:
        if w.key not in keys:
            continue
        try:
            out[w.key] = measure_one(w, ctx)
        except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as e:
            out[w.key] = {"error": str(e)}
            failed = True
    return out, failed


def run_format_bench(build, min_time):
    """Google Benchmark's results for bench_format, or None when it is not built."""
    exe = os.path.join(build, "bench", "bench_format")
    if not os.access(exe, os.X_OK):
        return None, f"{exe} not built"
    out = subprocess.run([exe, "--benchmark_format=json", f"--benchmark_min_time={min_time}"],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return None, f"bench_format failed: {out.stderr.strip()[-300:]}"
    rows = []
    for b in json.loads(out.stdout)["benchmarks"]:
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        rows.append({"name": b["name"], "ns": b["real_time"] * scale, "cpu_ns": b["cpu_time"] * scale,
                     "mem_reads": b.get("mem_reads"), "line_bytes": b.get("line_bytes")})
    return rows, None


# --------------------------------------------------------------- printing

def fmt_ratio(x):
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_abs(x, unit):
    if unit == "ns/call":
        return f"{x:.0f} ns" if x >= 100 else f"{x:.1f} ns"
    return f"{x * 1000:.0f} ms" if x >= 0.1 else f"{x * 1000:.1f} ms"


def cell_text(cell, col):
    if "error" in cell:
        return "FAILED"
    if col == "native":
        return f"{fmt_abs(cell['median'], cell['unit'])} ±{fmt_abs(cell['median_spread'], cell['unit'])}"
    return f"{fmt_ratio(cell['ratio'])} ±{fmt_ratio(cell['spread'])}"


def markdown_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(v).ljust(w) for v, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def print_report(result, columns):
    names = [c.name for c in columns]
    print(f"\nhytrace benchmark, {result['date']}, {result['mode']} run, "
          f"{result['repetitions']} repetitions, {result['duration_s']:.0f} s")
    print(f"machine: {machine_line(result['machine'])}")
    print(f"load average: {result['load_before']} before, {result['load_after']} after")
    print("\nCells: ratio to native, the median over the repetitions of (column / native of the same")
    print("repetition) ± half the range, (max - min) / 2, of those ratios. native: its median ± half")
    print("its range, in ns per call (rows 1a-1c) or wall time of the whole command (rows 2-7).\n")
    rows = []
    for row in result["rows"]:
        rows.append([row["num"], row["label"]] + [cell_text(row["cells"][n], n) if n in row["cells"] else "skipped"
                                              for n in names])
    print(markdown_table(["#", "workload"] + names, rows))
    print("\ncolumns:")
    for c in columns:
        what = f"{c.prefix.replace('{hytrace}', 'hytrace')} ..." if c.prefix else "the command alone"
        reason = result["skipped"].get(c.name)
        print(f"  {c.name:16} {what}" + (f"   SKIPPED: {reason}" if reason else ""))
    for key, reason in result.get("skipped_rows", {}).items():
        print(f"row {key} SKIPPED: {reason}")

    by_key = {r["key"]: r for r in result["rows"]}
    placements = [(k, t) for k, t in (("read64", "unpinned"), ("read64_pinned", "all on CPU 0"),
                                      ("read64_split", "tracer CPU 0, program CPU 1")) if k in by_key]
    if placements:
        print("\n64-byte read of /dev/zero: ns per call (median); for the columns in which every read stops,"
              "\nthe cost of one ptrace stop, (ns/call - native ns/call) / 2:\n")
        table = []
        for c in columns:
            line = [c.name]
            for k, _ in placements:
                cell, native = by_key[k]["cells"].get(c.name, {}), by_key[k]["cells"].get("native", {})
                if "median" not in cell:
                    line.append("")
                    continue
                text = f"{cell['median']:.0f}"
                if c.stops and "median" in native:
                    text += f" ({(cell['median'] - native['median']) / 2000:.1f} µs/stop)"
                line.append(text)
            table.append(line)
        print(markdown_table(["column"] + [t for _, t in placements], table))

    if result.get("served"):
        print("\nShare of syscalls served by stubs (hytrace trace --patch-report, every syscall traced,"
              "\none run; the rest stopped in ptrace):\n")
        table = [[by_key[k]["label"] if k in by_key else k,
                  f"{v['share'] * 100:.1f}%" if "share" in v else "failed: " + v["error"],
                  str(v.get("served", "")), str(v.get("stops", ""))] for k, v in result["served"].items()]
        print(markdown_table(["workload", "served by stubs", "served", "stopped"], table))

    if result.get("recorded"):
        print("\nhytrace record, one run kept (hytrace stats): trace bytes per syscall, the share served by"
              "\nstubs, and recorded events per second of the run's wall time:\n")
        table = []
        for k, v in result["recorded"].items():
            label = by_key[k]["label"] if k in by_key else k
            if "error" in v:
                table.append([label, "failed: " + v["error"], "", "", ""])
                continue
            rate = f"{v['events_per_s']:.0f}" if v.get("events_per_s") else ""
            table.append([label, str(v["syscalls"]), f"{v['bytes_per_syscall']:.1f}",
                          f"{v['share'] * 100:.1f}%", rate])
        print(markdown_table(["workload", "syscalls", "bytes/syscall", "served by stubs", "events/s"], table))

    if result.get("format_bench"):
        print("\nbench_format (Google Benchmark): render_entry + render_exit + line_text per call\n")
        table = [[b["name"], f"{b['ns']:.0f}", f"{b['mem_reads']:.0f}" if b["mem_reads"] is not None else "",
                  f"{b['line_bytes']:.0f}" if b["line_bytes"] is not None else ""] for b in result["format_bench"]]
        print(markdown_table(["benchmark", "ns/call", "memory reads", "line bytes"], table))
    if result.get("format_bench_skipped"):
        print(f"\nbench_format skipped: {result['format_bench_skipped']}")


# ------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="the CMake build directory (default: build)")
    ap.add_argument("--quick", action="store_true", help="2 repetitions and small sizes: well under a minute")
    ap.add_argument("--json", metavar="FILE", help="also write the results to FILE")
    ap.add_argument("--reps", type=int, help="repetitions (default: 5, or 2 with --quick)")
    ap.add_argument("--only", metavar="KEYS", help="comma-separated workload keys (read64,read64_pinned,"
                    "read64_split,ls,python_files,tar,make,threads,git,contended_a,contended_b)")
    ap.add_argument("--no-format-bench", action="store_true", help="do not run bench_format")
    ap.add_argument("--tmpdir", help="where to generate the workloads' inputs (default: $TMPDIR or /tmp)")
    args = ap.parse_args()

    started = time.monotonic()
    size = dict(QUICK if args.quick else FULL)
    if args.reps:
        size["reps"] = args.reps
    build = os.path.abspath(args.build)
    hytrace = os.path.join(build, "tracer", "hytrace")
    for exe in (hytrace, os.path.join(build, "bench", "read_loop"), os.path.join(build, "bench", "threads_loop"),
                os.path.join(build, "tests", "progs", "prog_patch_contended")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench.py: {exe} is missing: build first (cmake --build {args.build})")

    skipped = check_needs(hytrace, COLUMNS)
    columns = [c for c in COLUMNS if c.name not in skipped]
    for name, reason in skipped.items():
        print(f"column {name!r} skipped: {reason}", file=sys.stderr)

    tmp = tempfile.mkdtemp(prefix="hytrace-bench-", dir=args.tmpdir)
    result = {
        "format": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "tools": {"hytrace": first_line([hytrace, "--version"]), "strace": first_line(["strace", "-V"])},
        "mode": "quick" if args.quick else "full",
        "repetitions": size["reps"],
        "spread": SPREAD,
        "cell": "median over repetitions of (column / native in the same repetition)",
        "columns": [{"name": c.name, "prefix": c.prefix} for c in COLUMNS],
        "skipped": skipped,
        "load_before": loadavg(),
        "rows": [],
    }
    print(f"machine: {machine_line(result['machine'])}; load average {result['load_before']}", file=sys.stderr)
    failed = False
    try:
        workloads = make_workloads(build, tmp, size)
        if args.only:
            keys = args.only.split(",")
            unknown = set(keys) - {w.key for w in workloads}
            if unknown:
                sys.exit(f"bench.py: unknown workload(s) {', '.join(sorted(unknown))}")
            workloads = [w for w in workloads if w.key in keys]
        result["skipped_rows"] = {}
        cpus = os.sched_getaffinity(0)
        for w in workloads:
            if w.key == "read64_split" and not {0, 1} <= cpus:
                result["skipped_rows"][w.key] = "needs CPUs 0 and 1"
            elif w.pin and not shutil.which("taskset"):
                result["skipped_rows"][w.key] = "taskset not found (util-linux)"
            elif w.pin and int(w.pin) not in cpus:
                result["skipped_rows"][w.key] = f"CPU {w.pin} is not available"
        for key, reason in result["skipped_rows"].items():
            print(f"row {key!r} skipped: {reason}", file=sys.stderr)
        workloads = [w for w in workloads if w.key not in result["skipped_rows"]]
        result["expected_rows"] = [w.key for w in workloads]
        ctx = {"tmp": tmp, "hytrace": hytrace, "reps": size["reps"], "timeout": size["timeout"]}
        for w in workloads:
            t0 = time.monotonic()
            print(f"{w.key}: repetition", end="", file=sys.stderr, flush=True)
            if w.setup:
                w.setup()
            cells = measure(w, columns, ctx)
            print(f", {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
            failed |= any("error" in c for c in cells.values())
            for name, cell in cells.items():
                if "error" in cell:
                    print(f"  {w.key} / {name} FAILED: {cell['error']}", file=sys.stderr)
            result["rows"].append({"key": w.key, "num": w.num, "label": w.label, "unit": w.unit, "cells": cells})
        result["served"], served_failed = per_row(workloads, SERVED_ROWS, served_share, ctx)
        result["recorded"], recorded_failed = ({}, False)
        if "hytrace record" in [c.name for c in columns]:
            result["recorded"], recorded_failed = per_row(workloads, RECORDED_ROWS, recorded, ctx)
        failed |= served_failed or recorded_failed
        if not args.no_format_bench:
            result["format_bench"], why = run_format_bench(build, size["format_min_time"])
            if why:
                result["format_bench_skipped"] = why
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    result["load_after"] = loadavg()
    result["duration_s"] = time.monotonic() - started
    print_report(result, COLUMNS)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
