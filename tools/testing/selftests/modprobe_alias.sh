#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Drop-in loading, as on an installed host (make install): with
# tools/modprobe.d/vhost-zc.conf, "modprobe vhost_net" loads vhost_zc, and
# opening a 10:238 node with no driver (what udev's devname alias and the
# kernel's char-major-10-238 request do) loads vhost_zc, not vhost_net.
. /selftests/lib.sh
rel=$VZC_RELEASE
# Later selftests in this VM need "modprobe vhost_net" to mean vhost_net.
cleanup() {
	rm -f /etc/modprobe.d/vhost-zc.conf "/lib/modules/$rel/extra/vhost_zc.ko"
	/usr/sbin/depmod -a "$rel" 2>/dev/null
}
trap cleanup EXIT
mkdir -p "/lib/modules/$rel/extra" /etc/modprobe.d
cp "$VZC_KO" "/lib/modules/$rel/extra/vhost_zc.ko"
cp /selftests/vhost-zc.conf /etc/modprobe.d/ || fail "no modprobe.d file in the initramfs"
# (depmod's notes about files a minimal module tree lacks are not news.)
/usr/sbin/depmod -a "$rel" 2>/dev/null || fail "depmod failed"

loaded() { grep -q "^$1 " /proc/modules; }

modprobe vhost_net || fail "modprobe vhost_net failed"
loaded vhost_zc || fail "modprobe vhost_net did not load vhost_zc"
! loaded vhost_net || fail "modprobe vhost_net loaded vhost_net despite the blacklist"
rmmod vhost_zc || fail "rmmod vhost_zc failed"

mknod /tmp/vhost-net c 10 238
exec 3</tmp/vhost-net || fail "opening 10:238 did not autoload a driver"
loaded vhost_zc || fail "opening 10:238 loaded $(grep -o '^vhost_[a-z]*' /proc/modules) instead of vhost_zc"
exec 3<&-
rmmod vhost_zc || fail "rmmod vhost_zc failed"
echo "modprobe vhost_net -> vhost_zc; open(10:238) -> vhost_zc"
