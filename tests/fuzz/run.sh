#!/bin/sh
# Builds the buffer reader's fuzz target with clang in its own build
# directory and runs it: tests/fuzz/run.sh [SECONDS] (default 120).
# Crashes are written to BUILD/fuzz-artifacts/, the corpus kept in BUILD/fuzz-corpus/.
set -eu
seconds=${1:-120}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${HYTRACE_FUZZ_BUILD:-$src/build-fuzz}
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DHYTRACE_FUZZ=ON >/dev/null
cmake --build "$build" --target buffer_reader_fuzz
mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts"
python3 "$src/tests/fuzz/make_seeds.py" "$build/fuzz-corpus"
exec "$build/tests/buffer_reader_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$build/fuzz-artifacts/" "$build/fuzz-corpus"
