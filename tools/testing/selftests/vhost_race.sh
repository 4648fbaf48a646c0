#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A guest that moves its ring indices while the device reads them (and reads
# the used index while the device writes it): no torn index may be seen on
# either side. Stock vhost_net first (the reference), then vhost_zc.
. /selftests/lib.sh
bin=/selftests/bin/vhost_race
tun_dev
reference $bin

vzc_insmod || fail "insmod vhost_zc failed"
echo "--- vhost_zc"
before=$(dmesg | grep -c 'vhost_zc: .* ring stopped')
$bin; rc=$?
dmesg | grep 'vhost_zc: .* ring stopped' | tail -n +$((before + 1))
rmmod vhost_zc || fail "rmmod vhost_zc failed"
[ $rc = 0 ] || fail "vhost_zc saw or wrote a torn ring index (above)"
