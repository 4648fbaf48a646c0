#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A hostile guest breaks its TX ring in 8 ways; the device reports each on the
# ring's error eventfd, completes nothing, and the host stays healthy. Run
# against stock vhost_net (the reference) and then vhost_zc.
. /selftests/lib.sh
bin=/selftests/bin/vhost_hostile
tun_dev
reference $bin

vzc_insmod || fail "insmod vhost_zc failed"
echo "--- vhost_zc"
$bin; rc=$?
dmesg | grep 'vhost_zc: .* ring stopped' | tail -n 8
logged=$(dmesg | grep -c 'vhost_zc: TX ring stopped: guest error')
rmmod vhost_zc || fail "rmmod vhost_zc failed"
[ $rc = 0 ] || fail "vhost_zc did not contain a hostile ring (above)"
[ "$logged" = 8 ] || fail "want one log line per broken ring (8), got $logged"
