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
# tun_dev: tun loaded and /dev/net/tun there (devtmpfs makes the node once
# tun is loaded; no udev in the VM, so a kernel without it leaves it to us).
tun_dev() {
	mkdir -p /dev/net
	modprobe tun || fail "modprobe tun failed"
	[ -c /dev/net/tun ] || mknod /dev/net/tun c 10 200 || fail "cannot create /dev/net/tun"
}
# reference BIN [ARG...]: BIN --reference ARG... against stock vhost_net
# (loaded for it, unloaded after): the expectations must hold there first.
# BIN may be a shell function.
reference() {
	_bin=$1; shift
	modprobe vhost_net || fail "modprobe vhost_net failed"
	echo "--- reference: stock vhost_net"
	"$_bin" --reference "$@"; _rc=$?
	modprobe -r vhost_net || fail "modprobe -r vhost_net failed"
	[ $_rc = 0 ] || fail "the expectations do not hold for stock vhost_net"
}
# both BIN WHY [HOOK]: the one program of a test against both providers:
# BIN --reference against stock vhost_net (reference), then BIN against
# vhost_zc, loaded for it and unloaded after; if BIN fails there, the test
# fails with "WHY (above)". HOOK (a command, or a shell function that may
# set variables for the test) runs after BIN while vhost_zc is still loaded;
# zc_dmesg prints the kernel log lines since vhost_zc was loaded.
both() {
	reference "$1"
	vzc_insmod || fail "insmod vhost_zc failed"
	echo "--- vhost_zc"
	_zc_dmesg_from=$(($(dmesg | wc -l) + 1))
	"$1"; _both_rc=$?
	[ -z "${3:-}" ] || $3
	rmmod vhost_zc || fail "rmmod vhost_zc failed"
	[ $_both_rc = 0 ] || fail "$2 (above)"
}
zc_dmesg() { dmesg | tail -n +"$_zc_dmesg_from"; }
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
# pf_carrier: the PF netdev $pfdev has carrier within 15 s (igb brings its
# link up asynchronously and pings the VFs' mailboxes when it does).
pf_carrier() {
	_n=0
	while [ "$(cat "/sys/class/net/$pfdev/carrier" 2>/dev/null)" != 1 ]; do
		_n=$((_n + 1))
		[ $_n -le 30 ] || return 1
		sleep 0.5
	done
}
# pf_fresh: after pf_up, start from no VFs and no vhost_zc (a test before
# may have failed half-way); sets $pfdev, without IPv6 chatter (ND/MLD
# frames would count as strays).
pf_fresh() {
	if grep -q '^vhost_zc ' /proc/modules; then rmmod vhost_zc || fail "rmmod of a leftover vhost_zc failed"; fi
	echo 0 >"$pf/sriov_numvfs" || fail "sriov_numvfs 0 failed"
	pfdev=$(ls "$pf/net" 2>/dev/null | head -n 1)
	[ -n "$pfdev" ] || fail "PF has no netdev"
	echo 1 >"/proc/sys/net/ipv6/conf/$pfdev/disable_ipv6" 2>/dev/null
}
