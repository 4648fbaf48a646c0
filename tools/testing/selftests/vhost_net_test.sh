#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The kernel's own tools/virtio/vhost_net_test (linux-source-7.3, built by
# tools/testing/vhost_net_test/build.sh) against /dev/vhost-net, in every
# combination it can pass: with and without INDIRECT_DESC and EVENT_IDX, each
# with normal and delayed TX interrupts. It drives a tap through vhost's RX
# then TX ring and checks every byte of every packet.
#
# Not run: --no-virtio-1. The program always sets the tap's vnet header to 12
# bytes (TUNSETVNETHDRSZ, sizeof(virtio_net_hdr_mrg_rxbuf)); without VERSION_1
# (and MRG_RXBUF) vhost_net expects a 10-byte header from the socket
# (vhost_net_set_features, net.c:1680), so handle_rx's recvmsg returns 2 bytes
# more than asked, every packet is discarded (net.c:1255) and the program's RX
# loop spins forever. Seen on stock 7.3: the variant never finishes.
#
# VHOST_PROVIDER selects who serves /dev/vhost-net: vhost_net (default, the
# stock module: the reference) or vhost_zc ($VZC_KO). run.sh passes the
# host's VHOST_PROVIDER into the VM; an argument overrides it.
# VNT_BUFS: packets per direction and variant (the program's default, 2^20,
# would take hours under TCG); 1024 wraps the 256-entry ring four times.
. /selftests/lib.sh
bin=/selftests/bin/vhost_net_test
provider=${1:-${VHOST_PROVIDER:-vhost_net}}
bufs=${VNT_BUFS:-1024}

[ -x $bin ] || fail "no $bin (build.sh failed on the host? see build/vhost_net_test/build.log)"
case $provider in
vhost_net)
	load() { modprobe vhost_net; }
	unload() { modprobe -r vhost_net; } ;;
vhost_zc)
	load() { vzc_insmod; }
	unload() { rmmod vhost_zc; } ;;
*) fail "unknown VHOST_PROVIDER '$provider' (vhost_net|vhost_zc)" ;;
esac

# The program opens /dev/net/tun for its tap.
tun_dev

# Control: with nobody serving /dev/vhost-net the program must fail, or its
# exit status below would prove nothing about the provider.
rmmod vhost_zc 2>/dev/null
modprobe -r vhost_net 2>/dev/null
[ ! -e /dev/vhost-net ] || fail "/dev/vhost-net exists with neither vhost_net nor vhost_zc loaded"
if $bin --buf-num 1 >/tmp/vnt.out 2>&1; then
	cat /tmp/vnt.out
	fail "vhost_net_test passed without /dev/vhost-net"
fi
grep -q "dev->control >= 0" /tmp/vnt.out || { cat /tmp/vnt.out; fail "without /dev/vhost-net the program failed for another reason (above)"; }
echo "control: without /dev/vhost-net the program fails: $(grep -o 'Assertion.*failed' /tmp/vnt.out)"

load || fail "loading $provider failed"
[ -c /dev/vhost-net ] || { unload; fail "$provider loaded but there is no /dev/vhost-net"; }

hex=$(printf '%x' "$bufs")
n=0 bad=0
for ind in "" --no-indirect; do
for evt in "" --no-event-idx; do
for dly in "" --delayed-interrupt; do
	n=$((n + 1))
	args=$(echo $ind $evt $dly --buf-num "$bufs")
	start=$(date +%s)
	# The program has no timeout of its own: a lost packet makes its RX loop
	# spin forever. 1024 packets take ~1 s under TCG; 60 s each keeps all
	# variants inside run.sh's 600 s even if every one hangs.
	# shellcheck disable=SC2086 # $args is a list of options
	timeout 60 $bin $args >/tmp/vnt.out 2>&1
	rc=$?
	t=$(( $(date +%s) - start ))
	rx=$(grep '^RX spurious wakeups:' /tmp/vnt.out)
	tx=$(grep '^TX spurious wakeups:' /tmp/vnt.out)
	why=
	[ $rc = 0 ] || why="exit status $rc"
	[ $rc != 143 ] || why="killed after 60 s (hung)"
	echo "$rx" | grep -Eqx "RX spurious wakeups: 0x[0-9a-f]+ started=0x$hex completed=0x$hex" || why="$why; RX line wrong"
	echo "$tx" | grep -Eqx "TX spurious wakeups: 0x[0-9a-f]+ started=0x$hex completed=0x$hex" || why="$why; TX line wrong"
	if [ -z "$why" ]; then
		echo "ok $n [$args] ${t}s: $rx | $tx"
	else
		echo "not ok $n [$args] ${t}s: ${why#; }; output:"
		sed 's/^/    /' /tmp/vnt.out
		bad=$((bad + 1))
	fi
done
done
done

unload || fail "unloading $provider failed"
[ ! -e /dev/vhost-net ] || fail "/dev/vhost-net still present after unloading $provider"
[ $bad = 0 ] || fail "$bad of $n variants failed against $provider"
echo "all $n variants passed against $provider ($bufs packets each way)"
