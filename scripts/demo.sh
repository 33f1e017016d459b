#!/usr/bin/env bash
# Installs what is missing, builds, traces a real program, and records it.
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
rm -f "$trace_file"
