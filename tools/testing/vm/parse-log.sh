#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# parse-log.sh LABEL CONSOLE_LOG — judge one VM run from its console log.
# Prints "PASS|FAIL|SKIP LABEL/test" per selftest, plus a FAIL line for
# anything that makes the whole run bad: a kernel splat (BUG/WARNING/Oops/
# panic/KASAN/lockdep/kmemleak) or a run that never reached its end.
# Exit status: 0 if nothing failed.
set -uo pipefail
label=$1 log=$2
fail=0

# Each selftest's own verdict. A failed test also shows its "FAIL:" reason
# and the tail of its output, so a CI log alone says what went wrong.
while read -r _ name res _; do
	echo "$res $label/$name"
	[ "$res" = FAIL ] || continue
	fail=1
	tr -d '\r' <"$log" | awk -v t="$name" '
		$0 == "VZC-TEST-BEGIN " t { on = 1; n = 0; next }
		on && index($0, "VZC-TEST-RESULT " t " ") == 1 { on = 0 }
		on { line[n++ % 25] = $0; if ($0 ~ /^FAIL: /) why = $0 }
		END {
			if (why != "") print "    reason: " why
			print "    last lines of its output:"
			for (i = (n > 25 ? n - 25 : 0); i < n; i++) print "    | " line[i % 25]
		}'
done < <(grep -a '^VZC-TEST-RESULT ' "$log" | tr -d '\r')

# What a test had to run again (nested_guest's RETRY and REFERENCE LOST
# lines): shown whatever the verdict, so a CI log says what a pass took.
tr -d '\r' <"$log" | awk -v l="$label" '
	/^VZC-TEST-BEGIN / { t = $2; next }
	/^VZC-TEST-RESULT / { t = ""; next }
	t != "" && /^[A-Za-z0-9_]+: (RETRY|REFERENCE LOST): / { print "NOTE " l "/" t ": " $0 }'

# Tests that started and never reported (the guest died inside them).
for t in $(grep -a '^VZC-TEST-BEGIN ' "$log" | tr -d '\r' | awk '{print $2}'); do
	grep -aq "^VZC-TEST-RESULT $t " "$log" || { echo "FAIL $label/$t (never finished)"; fail=1; }
done

# Kernel reports that fail the run whatever the tests said: those printed once
# userspace runs (the module is loaded only then). A report earlier in boot
# cannot come from vhost_zc; it is shown as a NOTE, not hidden.
booted=$(grep -an '^VZC-BOOTED' "$log" | head -n 1 | cut -d: -f1)
splat='(BUG:|WARNING:|Oops|Kernel panic|KASAN|UBSAN|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|kernel BUG|general protection fault|Call Trace:|unreferenced object|VZC-KMEMLEAK-REPORT-BEGIN)'
tmp=$(mktemp)
if [ -n "$booted" ] && head -n "$booted" "$log" | grep -aEn "$splat" >"$tmp"; then
	echo "NOTE $label/boot: kernel report before userspace (vhost_zc not loaded yet):"
	head -n 5 "$tmp" | sed 's/^/    /'
fi
if grep -aEn "$splat" "$log" | grep -av 'VZC-TEST-' |
	awk -F: -v b="${booted:-0}" '$1 > b' >"$tmp" && [ -s "$tmp" ]; then
	echo "FAIL $label/kernel-log (sanitizer or splat report; first lines:)"
	head -n 40 "$tmp" | sed 's/^/    /'
	fail=1
fi
rm -f "$tmp"

if ! grep -aq '^VZC-DONE' "$log"; then
	echo "FAIL $label/vm (did not reach the end: crash, hang or timeout; tail of $log:)"
	tail -n 30 "$log" | sed 's/^/    /'
	fail=1
fi
exit $fail
