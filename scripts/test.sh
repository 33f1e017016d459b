#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, runs every test.
#   scripts/test.sh            the whole suite (unit + integration)
#   scripts/test.sh --sanitize the unit tests under ASan+UBSan, in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

if [[ ${1:-} == --sanitize ]]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHYTRACE_WERROR=ON -DHYTRACE_SANITIZE=ON >/dev/null
  cmake --build build-asan
  exec ctest --test-dir build-asan -L unit --output-on-failure
fi

cmake -S . -B build -G Ninja -DHYTRACE_WERROR=ON >/dev/null
cmake --build build
exec ctest --test-dir build --output-on-failure
