#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# zcctl is in the test VM (/bin/zcctl, static) and keeps its exit-code
# contract (Documentation/zcctl.rst): 2 for a usage error, 3 when the
# generic netlink family vhost_zc is not registered.
# With vhost_zc loaded and nothing bound, `zcctl show -j` prints "[]";
# zc_control.sh tests the rest.
. /selftests/lib.sh
command -v zcctl >/dev/null || fail "no zcctl in PATH ($PATH)"
no_family="zcctl: family vhost_zc not found: is the module loaded?"

# expect RC MSG CMD...: CMD exits RC and its stderr's first line is MSG (or
# starts with MSG when MSG ends in '*').
expect() {
	_rc=$1 _msg=$2; shift 2
	_err=$("$@" 2>&1 >/tmp/zcctl.out); _got=$?
	echo "\$ $* -> rc $_got: $_err"
	[ "$_got" = "$_rc" ] || fail "$*: exit $_got, expected $_rc"
	_first=$(printf '%s\n' "$_err" | head -n 1)
	case $_first in
	$_msg) ;;
	*) fail "$*: said '$_first', expected '$_msg'" ;;
	esac
}

grep -q '^vhost_zc ' /proc/modules && fail "vhost_zc loaded before the test"
expect 3 "$no_family" zcctl show
expect 3 "$no_family" zcctl show -j tap0
expect 3 "$no_family" zcctl bind tap0 0000:01:10.0 --mac 52:54:00:12:34:56
expect 2 "error: invalid value 'nonsense'*" zcctl bind tap0 nonsense
expect 2 "error: invalid value '01:00:5e:00:00:01'*" zcctl bind tap0 0000:01:10.0 --mac 01:00:5e:00:00:01
[ ! -s /tmp/zcctl.out ] || fail "zcctl printed to stdout on an error: $(cat /tmp/zcctl.out)"

vzc_insmod || fail "insmod vhost_zc failed"
out=$(zcctl show -j) || fail "zcctl show -j with vhost_zc loaded: exit $?"
[ "$out" = "[]" ] || fail "zcctl show -j with nothing bound printed '$out', expected []"
rmmod vhost_zc || fail "rmmod vhost_zc failed"
echo "zcctl: usage errors exit 2, a missing vhost_zc family exits 3, an empty table is []"
