#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A hostile guest breaks its TX ring in 8 ways; the device reports each on the
# ring's error eventfd, completes nothing, and the host stays healthy. Run
# against stock vhost_net (the reference) and then vhost_zc.
. /selftests/lib.sh
tun_dev
# vhost_zc logs one line per ring it stopped.
ring_log() {
	dmesg | grep 'vhost_zc: .* ring stopped' | tail -n 8
	logged=$(dmesg | grep -c 'vhost_zc: TX ring stopped: guest error')
}
both /selftests/bin/vhost_hostile "vhost_zc did not contain a hostile ring" ring_log
[ "$logged" = 8 ] || fail "want one log line per broken ring (8), got $logged"
