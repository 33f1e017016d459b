#!/usr/bin/env bash
# Installs what is missing, builds, and traces a real program.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target hytrace
set -x
build/tracer/hytrace trace -e trace=%file,%process -- sh -c 'ls -l /usr/share/doc | head -3'
