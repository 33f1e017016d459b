#!/usr/bin/env python3
"""Side-by-side benchmark of hytrace against native runs and strace.

Every cell is measured in the same run, interleaving the columns in each
repetition so drift in the machine hits all of them alike. Prints ns per
syscall and ratios to native; --json FILE writes the same table.

    bench/bench.py --build build            # full run
    bench/bench.py --build build --quick    # few repetitions: CI keeps it from rotting
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys

# One line per column: name -> command prefix ({hytrace} is the binary).
COLUMNS = {
    "native": [],
    "hytrace -e openat": ["{hytrace}", "trace", "-e", "trace=openat", "-o", "/dev/null", "--"],
    "hytrace -e read": ["{hytrace}", "trace", "-e", "trace=read", "-o", "/dev/null", "--"],
    "strace -e read": ["strace", "-f", "-e", "trace=read", "-o", "/dev/null"],
    "strace --seccomp-bpf -e read": ["strace", "-f", "--seccomp-bpf", "-e", "trace=read", "-o", "/dev/null"],
}

# Columns in which the benchmark's read does not stop: they need more iterations.
UNTRACED = {"native", "hytrace -e openat"}


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def run_cell(prefix, program, pin):
    cmd = (["taskset", "-c", "0"] if pin else []) + prefix + program
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
    return float(out.stdout.strip().splitlines()[-1])


def measure(cells, reps, pin):
    """cells: name -> full command. Columns take turns within each repetition."""
    samples = {name: [] for name in cells}
    for _ in range(reps):
        for name, cmd in cells.items():
            samples[name].append(run_cell(cmd, [], pin))
    return {name: (statistics.median(v), (max(v) - min(v)) / 2) for name, v in samples.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="the CMake build directory")
    ap.add_argument("--quick", action="store_true", help="few repetitions and iterations")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    hytrace = os.path.join(args.build, "tracer", "hytrace")
    loop = os.path.join(args.build, "bench", "read_loop")
    reps, native_iters, traced_iters = (2, 20000, 2000) if args.quick else (7, 2000000, 100000)
    columns = {n: [a.replace("{hytrace}", hytrace) for a in p] for n, p in COLUMNS.items()}
    if not shutil.which("strace"):
        columns = {n: p for n, p in columns.items() if not n.startswith("strace")}
        print("strace not found: its columns are left out", file=sys.stderr)

    print(f"machine: {machine()}")
    results = {}
    for pin in (False, True):
        label = "pinned to CPU 0" if pin else "unpinned"
        # Untraced columns need many iterations to be measurable; traced ones few.
        cells = {}
        for name, prefix in columns.items():
            iters = native_iters if name in UNTRACED else traced_iters
            cells[name] = prefix + [loop, str(iters)]
        rows = measure(cells, reps, pin)
        native = rows["native"][0]
        print(f"\n64-byte read from /dev/zero, ns per call ({label}, median of {reps}):")
        print(f"  {'column':32} {'ns/call':>10} {'spread':>8} {'x native':>9}")
        for name, (ns, spread) in rows.items():
            print(f"  {name:32} {ns:10.1f} {spread:8.1f} {ns / native:9.2f}")
        results[label] = {n: {"ns": v[0], "spread": v[1], "ratio": v[0] / native} for n, v in rows.items()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "read_64": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
