# SPDX-License-Identifier: GPL-2.0-only
# Helpers for selftests; sourced. A selftest exits 0 (pass), 4 (skip) or other (fail).
. /selftests/env
KSFT_SKIP=4
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit $KSFT_SKIP; }
# modprobe of the initramfs' kmod (busybox's applet would shadow it and lacks deps).
modprobe() { /usr/sbin/modprobe "$@"; }
# vhost_zc.ko depends on tun.ko and tap.ko (tun_get_socket, tap_get_socket,
# like vhost_net); insmod does not resolve dependencies, so load them first.
vzc_insmod() { modprobe tun && modprobe tap && insmod "$VZC_KO"; }
# The emulated 82576 PF (8086:10c9) with igb bound: sets $pf to its sysfs dir.
pf_up() {
	pf=
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10c9 ] && pf=$d
	done
	[ -n "$pf" ] || fail "no 82576 PF (8086:10c9) on the PCI bus"
	modprobe igb || fail "modprobe igb failed"
	[ -e "$pf/driver" ] || fail "igb did not bind the PF"
}
