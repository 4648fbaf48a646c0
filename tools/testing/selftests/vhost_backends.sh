#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The backends other than tun/tap that VHOST_NET_SET_BACKEND takes: a macvtap
# device (libvirt's <interface type='direct'>) and an AF_PACKET raw socket,
# each on one end of a veth pair; the test program is the guest and the other
# end of the pair is the wire (see vhost_backends.c); the packet socket once
# more with busy polling on, and once with the ring indices starting at 65534
# so that they wrap during the run. Stock vhost_net first
# (the reference), then vhost_zc, same expectations.
. /selftests/lib.sh
bin=/selftests/bin/vhost_backends
IP=/usr/sbin/ip
MAC=02:00:00:00:00:10

modprobe veth || fail "modprobe veth failed"
modprobe macvtap || fail "modprobe macvtap failed"
# No IPv6 autoconfiguration chatter on the test links.
for f in /proc/sys/net/ipv6/conf/default/disable_ipv6 /proc/sys/net/ipv6/conf/all/disable_ipv6; do
	[ -w $f ] && echo 1 >$f
done
$IP link add vb0 type veth peer name vb1 || fail "cannot create veth pair"
# The links go whatever the verdict (the macvtap with its lower device).
trap '$IP link del mvt0 2>/dev/null; $IP link del vb0' EXIT
$IP link set vb0 up && $IP link set vb1 up || fail "veth up failed"
$IP link add link vb0 name mvt0 address $MAC type macvtap mode bridge || fail "cannot create macvtap"
$IP link set mvt0 up || fail "macvtap up failed"
# The macvtap's character device, /dev/tap<ifindex> (devtmpfs makes it;
# without devtmpfs, from the numbers in sysfs).
idx=$(cat /sys/class/net/mvt0/ifindex)
dev=$(cat /sys/class/net/mvt0/macvtap/tap$idx/dev) || fail "no macvtap char device in sysfs"
[ -c /dev/tap$idx ] || mknod /dev/tap$idx c "${dev%:*}" "${dev#*:}" || fail "mknod /dev/tap$idx failed"

run_all() { # run_all [--reference]
	$bin "$@" --macvtap /dev/tap$idx --peer vb1 --mac $MAC &&
		$bin "$@" --packet vb0 --peer vb1 --mac $MAC &&
		$bin "$@" --busy-poll 50 --packet vb0 --peer vb1 --mac $MAC &&
		$bin "$@" --base 65534 --packet vb0 --peer vb1 --mac $MAC
}
both run_all "vhost_zc failed with a macvtap or packet backend"
