#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Load vhost_zc and check the KUnit suite it carries ran and passed. Needs a
# kernel with CONFIG_KUNIT=y (the debug kernel); skipped elsewhere.
. /selftests/lib.sh

[ -d /sys/kernel/debug/kunit ] || skip "kernel has no KUnit (CONFIG_KUNIT)"
vzc_insmod || fail "insmod failed"
res=/sys/kernel/debug/kunit/vhost_zc_core/results
[ -r "$res" ] || { rmmod vhost_zc; fail "no KUnit results for suite vhost_zc_core"; }
# The suite's debugfs directory goes away with the module: keep a copy.
cp "$res" /tmp/kunit.results
res=/tmp/kunit.results
cat "$res"
rmmod vhost_zc || fail "rmmod failed"
# KUnit's KTAP: "ok N case" per case, "not ok" for failures, then a
# "# vhost_zc_core: pass:P fail:F skip:S total:T" line and the suite's own "ok".
grep -q 'not ok' "$res" && fail "a KUnit case failed (KTAP above)"
grep -Eq '^ok [0-9]+ vhost_zc_core' "$res" || fail "suite vhost_zc_core did not report ok"
counts=$(grep -o 'pass:[0-9]* fail:[0-9]* skip:[0-9]* total:[0-9]*' "$res" | head -n 1)
pass=$(echo "$counts" | sed 's/pass:\([0-9]*\).*/\1/')
total=$(echo "$counts" | sed 's/.*total:\([0-9]*\)/\1/')
[ -n "$pass" ] && [ "$pass" -ge 6 ] && [ "$pass" = "$total" ] || fail "want >= 6 cases all passing, got '$counts'"
echo "KUnit suite vhost_zc_core: $counts"
