#!/bin/sh
# Builds the trace reader's fuzz target with clang in its own build
# directory and runs it: tests/fuzz/run_trace_reader.sh [SECONDS] (default 180).
# Starts from the seeds in tests/fuzz/corpus/tracefile/ (left as they are);
# new inputs go to BUILD/trace-reader-corpus/, crashes to BUILD/fuzz-artifacts/.
set -eu
seconds=${1:-180}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${HYTRACE_FUZZ_BUILD:-$src/build-fuzz}
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DHYTRACE_FUZZ=ON >/dev/null
cmake --build "$build" --target trace_reader_fuzz
mkdir -p "$build/trace-reader-corpus" "$build/fuzz-artifacts"
exec "$build/tests/trace_reader_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$build/fuzz-artifacts/" "$build/trace-reader-corpus" "$src/tests/fuzz/corpus/tracefile"
