#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# What `make demo` shows inside the VM (tools/testing/demo.sh boots it).
# Grows with each capability.
. /selftests/lib.sh
say() { printf '\n=== %s\n' "$*"; }

say "kernel $(uname -r) (Debian's own vmlinuz, unmodified)"
say "module: $(modinfo -F vermagic "$VZC_KO" | sed 's/^/vermagic /')"
modinfo "$VZC_KO" | grep -E '^(description|license|depends):'
say "insmod vhost_zc.ko"
vzc_insmod || fail "insmod failed"
dmesg | grep vhost_zc | tail -n 3 | sed 's/^/  dmesg| /'
echo "/sys/kernel/vhost_zc/version: $(cat /sys/kernel/vhost_zc/version)"
grep vhost_zc /proc/modules
say "/dev/vhost-net now belongs to vhost_zc (misc 10:238)"
ls -l /dev/vhost-net
say "the kernel's own tools/virtio/vhost_net_test, on vhost_zc: a tap, RX and TX rings, every byte checked"
tun_dev
/selftests/bin/vhost_net_test --buf-num 100000 >/tmp/vnt.out 2>&1 &
pid=$!
# The device's counters go away with its fd: keep the last snapshot.
snap=
while kill -0 $pid 2>/dev/null; do
	d=$(ls -d /sys/kernel/vhost_zc/devices/* 2>/dev/null | head -n 1)
	[ -n "$d" ] && s=$(cd "$d" && for f in rx_packets rx_bytes rx_kicks rx_calls tx_packets tx_bytes tx_kicks tx_calls; do
		printf '  %-11s %s\n' "$f" "$(cat $f)"; done 2>/dev/null) && snap=$s
	sleep 0.2
done
echo "last snapshot of /sys/kernel/vhost_zc/devices/$(basename "${d:-devN}")/ while it ran:"
echo "$snap"
wait $pid && echo "vhost_net_test: exit 0" || echo "vhost_net_test: FAILED"
cat /tmp/vnt.out
say "SR-IOV: the emulated 82576 PF and its VFs"
modprobe igb
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/sriov_totalvfs" ] && pf=$d
done
echo 2 >"$pf/sriov_numvfs"
for d in /sys/bus/pci/devices/*; do
	printf '%s %s:%s %s\n' "$(basename "$d")" "$(cat "$d/vendor")" "$(cat "$d/device")" \
		"$([ -e "$d/physfn" ] && echo "VF of $(basename "$(readlink "$d/physfn")")")"
done | grep -E '0x10c9|0x10ca'
echo 0 >"$pf/sriov_numvfs"
say "rmmod vhost_zc"
rmmod vhost_zc || fail "rmmod failed"
dmesg | grep vhost_zc | tail -n 1 | sed 's/^/  dmesg| /'
