#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make fuzz`: every coverage-guided fuzz target of the core
# (rust/vzc_core/fuzz, Documentation/fuzzing.rst), with libFuzzer through
# cargo-fuzz on stable Rust (--sanitizer none: the core is safe no_std code,
# and AddressSanitizer would need nightly).
#
#   tools/fuzz/run.sh             each target until VZC_FUZZ_RUNS executions
#                                 (default 2,000,000), at most VZC_FUZZ_SECS
#                                 seconds each (default 600)
#   tools/fuzz/run.sh --quick     make check: the committed corpus replayed,
#                                 then VZC_FUZZ_SECS (default 6) s per target
#   tools/fuzz/run.sh T...        only those targets
#
# New inputs go to build/fuzz/corpus (the committed corpus is only read);
# crashes to build/fuzz/artifacts/<target>/. Prints one line per target
# (executions, coverage, crashes) and writes build/fuzz/results.csv. Fails
# if any target crashed or failed an assertion.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/buildroot/common.sh"
fuzz_dir=$top/rust/vzc_core/fuzz
out=$top/build/fuzz
quick=0
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
if [ $quick = 1 ]; then
	secs=${VZC_FUZZ_SECS:-6} runs=0
else
	secs=${VZC_FUZZ_SECS:-600} runs=${VZC_FUZZ_RUNS:-2000000}
fi
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} CARGO_TERM_COLOR=never

# cargo-fuzz, pinned, cached outside the repo (~30 s to build when cold).
ver=0.13.2
root=$VZC_CACHE/cargo-fuzz-$ver
if [ ! -x "$root/bin/cargo-fuzz" ]; then
	log "installing cargo-fuzz $ver into $root"
	cargo install --quiet --locked --version "$ver" --root "$root" cargo-fuzz || die "cargo install cargo-fuzz failed"
fi
export PATH=$root/bin:$PATH

mkdir -p "$out"
cd "$fuzz_dir"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
log "building ${#targets[@]} fuzz targets"
cargo fuzz build --sanitizer none >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; die "fuzz build failed (log: $out.build.log)"; }
bin_dir=$fuzz_dir/target/x86_64-unknown-linux-gnu/release

mkdir -p "$out"
echo "target,executions,cov,ft,crashes,seconds" >"$out/results.csv"
printf '%-10s %12s %6s %7s %8s %5s\n' target executions cov ft crashes secs
bad=0
for t in "${targets[@]}"; do
	mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$fuzz_dir/corpus/$t"
	logf=$out/$t.log t0=$(date +%s) crashes=0
	# The committed corpus first, every input once: its regressions.
	if ! "$bin_dir/$t" -runs=0 "$fuzz_dir/corpus/$t" >"$out/$t.replay.log" 2>&1; then
		crashes=1
		grep -m1 -A3 panicked "$out/$t.replay.log" | sed 's/^/    /'
	fi
	args=(-seed=1 -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/")
	[ "$runs" = 0 ] || args+=(-runs="$runs")
	if ! "$bin_dir/$t" "${args[@]}" "$out/corpus/$t" "$fuzz_dir/corpus/$t" >"$logf" 2>&1; then
		crashes=$((crashes + $(find "$out/artifacts/$t" -type f | wc -l)))
		[ "$crashes" -gt 0 ] || crashes=1
		grep -m1 -A3 panicked "$logf" | sed 's/^/    /'
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -n1)
	read -r cov ft < <(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$logf" | tail -n1 | awk '{print $2, $4}')
	dt=$(($(date +%s) - t0))
	printf '%-10s %12s %6s %7s %8s %5s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$dt"
	echo "$t,${execs:-},${cov:-},${ft:-},$crashes,$dt" >>"$out/results.csv"
	[ "$crashes" = 0 ] || bad=1
done
[ $bad = 0 ] || { echo "crashes: build/fuzz/artifacts (replay: cd rust/vzc_core/fuzz && cargo fuzz run --sanitizer none <target> <file>)"; exit 1; }
