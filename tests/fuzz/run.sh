#!/bin/sh
# Builds a fuzz target with clang in its own build directory and runs it:
#   tests/fuzz/run.sh buffer_reader [SECONDS]   (default 120)
#   tests/fuzz/run.sh trace_reader  [SECONDS]
#   tests/fuzz/run.sh policy        [SECONDS]
# The buffer reader starts from seeds made by make_seeds.py; the trace reader
# from tests/fuzz/corpus/tracefile/ (left as it is). New inputs go to
# BUILD/TARGET-corpus/, crashes to BUILD/fuzz-artifacts/.
set -eu
dict=
target=${1:?usage: tests/fuzz/run.sh buffer_reader|trace_reader|policy [SECONDS]}
seconds=${2:-120}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${HYTRACE_FUZZ_BUILD:-$src/build-fuzz}
case $target in
  buffer_reader) seeds= ;;
  trace_reader) seeds=$src/tests/fuzz/corpus/tracefile ;;
  policy) seeds=$src/tests/fuzz/corpus/policy; dict=-dict=$src/tests/fuzz/policy.dict ;;
  *) echo "run.sh: unknown target '$target' (buffer_reader, trace_reader, policy)" >&2; exit 2 ;;
esac
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DHYTRACE_FUZZ=ON >/dev/null
cmake --build "$build" --target "${target}_fuzz"
corpus=$build/$target-corpus
mkdir -p "$corpus" "$build/fuzz-artifacts"
[ "$target" = buffer_reader ] && python3 "$src/tests/fuzz/make_seeds.py" "$corpus"
exec "$build/tests/${target}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$build/fuzz-artifacts/" $dict "$corpus" $seeds
