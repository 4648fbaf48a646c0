#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A guest that moves its ring indices while the device reads them (and reads
# the used index while the device writes it): no torn index may be seen on
# either side. Stock vhost_net first (the reference), then vhost_zc.
. /selftests/lib.sh
tun_dev
# The rings vhost_zc stopped during the run, if any.
stopped() { zc_dmesg | grep 'vhost_zc: .* ring stopped'; }
both /selftests/bin/vhost_race "vhost_zc saw or wrote a torn ring index" stopped
