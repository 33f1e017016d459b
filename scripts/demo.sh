#!/usr/bin/env bash
# Installs what is missing, builds, traces a real program, records it, and
# enforces the seccomp profile and the path rules of that recording.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target hytrace
set -x
build/tracer/hytrace trace -e trace=%file,%process -- sh -c 'ls -l /usr/share/doc | head -3'
# Record the same run, then read the recording back.
trace_file=$(mktemp -u /tmp/hytrace-demo-XXXXXX.hyt)
build/tracer/hytrace record -o "$trace_file" -- sh -c 'ls -l /usr/share/doc | head -3'
build/tracer/hytrace dump "$trace_file" | grep -E 'execve|exec "|getdents64' | head -8
build/tracer/hytrace stats "$trace_file" | head -8
# The seccomp profile and the path rules of what it did, then the same run
# enforcing them (the path rules by Landlock).
profile=$(mktemp /tmp/hytrace-demo-XXXXXX.json)
build/tracer/hytrace profile --paths -o "$profile" "$trace_file"
build/tracer/hytrace audit --policy "$profile" --enforce -q -- sh -c 'ls -l /usr/share/doc | head -3' 2>&1 | tail -12
rm -f "$trace_file" "$profile"
