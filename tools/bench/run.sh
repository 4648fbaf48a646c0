#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: host CPU work per RX packet of the copy and zero-copy paths,
# from the core's own code (Documentation/benchmarks.rst). Builds
# tools/bench in release, runs every (path, size) under callgrind and
# natively, prints one table and writes build/bench/results.{json,csv} and
# build/bench/*.png.
#   --quick   3 sizes, few packets, no plots (the `make check` smoke: exits
#             non-zero unless the zero-copy path's instructions are flat from
#             64 to 1024 bytes and the copy path's grow with the frame)
# Runs niced (the machine is shared; callgrind counts do not care, the ns
# columns are noisy anyway). CARGO_BUILD_JOBS limits the build's jobs.
# Env: VZC_BENCH_OUT (default build/bench; build/bench/quick with --quick,
# so the smoke in `make check` leaves a full run's results alone).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
command -v valgrind >/dev/null || { echo "run.sh: valgrind is needed (callgrind is the instrument)" >&2; exit 1; }
echo "building tools/bench (release)" >&2
(cd tools/bench && nice -n 10 cargo build --release --locked --quiet)
out=build/bench
for a in "$@"; do [ "$a" = --quick ] && out=build/bench/quick; done
out=${VZC_BENCH_OUT:-$out}
mkdir -p "$out"
exec nice -n 10 tools/bench/target/release/vzc-bench run --out "$out" "$@"
