# SPDX-License-Identifier: GPL-2.0-only
# Helpers for selftests; sourced. A selftest exits 0 (pass), 4 (skip) or other (fail).
. /selftests/env
KSFT_SKIP=4
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit $KSFT_SKIP; }
# modprobe of the initramfs' kmod (busybox's applet would shadow it and lacks deps).
modprobe() { /usr/sbin/modprobe "$@"; }
# vhost_zc.ko depends on tun.ko (tun_get_socket, like vhost_net); insmod
# does not resolve dependencies, so load them first.
vzc_insmod() { modprobe tun && insmod "$VZC_KO"; }
