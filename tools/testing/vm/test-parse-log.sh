#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The VM judge (parse-log.sh) on recorded console logs: a clean run passes and
# every kind of bad run (failed test, KASAN, lockdep, kmemleak, a guest that
# died mid-test) fails and names what failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
td=$here/testdata
bad=0
expect() { # expect LOG RC PATTERN...: exit status RC and every PATTERN in the output
	local logf=$1 want=$2; shift 2
	local out rc
	out=$("$here/parse-log.sh" t "$td/$logf" 2>&1); rc=$?
	if [ "$rc" != "$want" ]; then echo "$logf: exit $rc, want $want"; echo "$out"; bad=1; fi
	for p in "$@"; do
		grep -qE "$p" <<<"$out" || { echo "$logf: output lacks /$p/:"; echo "$out"; bad=1; }
	done
}
expect good.log 0 '^PASS t/alpha$' '^SKIP t/beta$'
expect failed-test.log 1 '^PASS t/alpha$' '^FAIL t/broken$' 'reason: FAIL: deliberately broken'
expect kasan.log 1 '^FAIL t/kernel-log' 'KASAN: slab-out-of-bounds'
expect lockdep.log 1 '^FAIL t/kernel-log' 'circular locking'
expect kmemleak.log 1 '^FAIL t/kernel-log' 'unreferenced object'
expect died.log 1 '^FAIL t/alpha \(never finished\)' '^FAIL t/vm' 'Kernel panic'
expect boot-note.log 0 '^PASS t/alpha$' '^NOTE t/boot' 'wild-memory-access'
expect retry.log 0 '^PASS t/nested$' '^NOTE t/nested: vhost_zc_mq2: RETRY: the guest stopped' \
	'^NOTE t/nested: vhost_net_mq2: REFERENCE LOST' '^NOTE t/alpha: alpha: RETRY'
out=$("$here/parse-log.sh" t "$td/retry.log" 2>&1)
grep -q 'outside' <<<"$out" && { echo "retry.log: a RETRY line outside any test was noted"; bad=1; }
[ "$(grep -c '^NOTE' <<<"$out")" = 3 ] || { echo "retry.log: want 3 NOTE lines:"; echo "$out"; bad=1; }
[ $bad = 0 ] && echo "parse-log: 8 recorded logs judged as expected"
exit $bad
