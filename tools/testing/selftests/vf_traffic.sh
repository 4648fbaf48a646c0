#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Traffic through vhost_zc's VF driver on the emulated 82576, checked end to
# end with self-test frames (EtherType 0x88b5, rust/vzc_core/src/vf/frame.rs)
# and their payload hash: for 60, 1514 and 9000-byte frames the PF (stock
# igb, through vf_pkt on its netdev) sends N frames to VF0, which must count
# exactly N good ones with the PF's hash; then VF0 sends N frames to the PF's
# address, which the PF's capture must see intact, in order (same hash).
# The driver's counters and the VF's statistics registers (QEMU models
# VFGPRC/GPTC/GORC/GOTC/MPRC) must agree.
. /selftests/lib.sh

IP=/usr/sbin/ip
PKT=/selftests/bin/vf_pkt
MAC0=52:54:00:00:00:20
MAC1=52:54:00:00:00:21
N=200
# Frames per tx_send write, the PF's capture drained in between: QEMU moves
# a VF's frames into the PF's 256-descriptor RX ring at once, faster than
# the PF's NAPI empties it under TCG.
BATCH=20
PROG=/tmp/vf_traffic.progress
FNV_BASIS=0xcbf29ce484222325

# The C tool and the Rust core implement one format: the fixed vector of
# vf/frame.rs's `fixed_vector` test.
[ -x $PKT ] || fail "$PKT missing"
v=$($PKT hash 3 60)
[ "$v" = 0xd806920e9454fa7b ] || fail "vf_pkt hash 3 60 = $v; vzc_core::vf::frame says 0xd806920e9454fa7b"

pf_up
pf_fresh
# Jumbo frames on the PF before the VFs exist (an MTU change resets igb).
$IP link set "$pfdev" mtu 9000 || fail "PF MTU 9000 refused"
$IP link set "$pfdev" up || fail "ip link set $pfdev up failed"
pf_carrier || fail "PF $pfdev has no carrier 15 s after link up"
pfmac=$(cat "/sys/class/net/$pfdev/address")

echo 2 >"$pf/sriov_numvfs" || fail "writing 2 to sriov_numvfs failed"
# igb_sriov_reinit bounced the PF link: let its link-up ping pass first.
pf_carrier || fail "PF $pfdev has no carrier 15 s after enabling SR-IOV"
$IP link set "$pfdev" vf 0 mac $MAC0 || fail "ip link set $pfdev vf 0 mac failed"
$IP link set "$pfdev" vf 1 mac $MAC1 || fail "ip link set $pfdev vf 1 mac failed"
vf0=$(basename "$(readlink -f "$pf/virtfn0")")
vzc_insmod || fail "insmod failed"
d=/sys/bus/pci/devices/$vf0/vzc
[ -d "$d" ] || fail "VF0 $vf0 not bound to vhost_zc_vf"
a() { cat "$d/$1"; }
n=0
while [ "$(a link)" != up ]; do
	n=$((n + 1))
	[ $n -le 30 ] || fail "VF0 link '$(a link)' 15 s after probe"
	sleep 0.5
done
[ "$(a mac)" = $MAC0 ] || fail "VF0 mac $(a mac), PF set $MAC0"

# --- tx_send input: rejected with the right errno, nothing sent ---
# expect_err ERRTEXT INPUT: the write fails with that error message.
expect_err() {
	out=$( (echo "$2" >"$d/tx/send") 2>&1) && fail "tx_send '$2' succeeded"
	case $out in
	*"$1"*) ;;
	*) fail "tx_send '$2': '$out', want '$1'" ;;
	esac
}
[ "$(a max_frame)" = 1522 ] || fail "max_frame $(a max_frame), want the default 1522"
for bad in "$pfmac" "$pfmac 0" "$pfmac 1001" "zz:00:00:00:00:00 1" "$pfmac 1 59" "$pfmac 1 9001" \
	"$pfmac 1 60 -1" "$pfmac 1 60 4294967296" "$pfmac 1 60 0 x" "$pfmac x"; do
	expect_err "Invalid argument" "$bad"
done
# 1518 + CRC = max_frame; one byte more needs a larger max_frame.
expect_err "too long" "$pfmac 1 1519"
expect_err "too long" "$pfmac 1 9000"
[ "$(a tx/sent)" = 0 ] && [ "$(a tx/bytes)" = 0 ] || fail "rejected tx_send input sent frames: tx_sent $(a tx/sent)"

# hw_* counters: the VF's statistics registers, extended to 64 bits.
hw() { echo "$(a hw/rx_packets) $(a hw/rx_bytes) $(a hw/tx_packets) $(a hw/tx_bytes) $(a hw/rx_multicast)"; }
mc0=$(a hw/rx_multicast)

for size in 60 1514 9000; do
	if [ $size -gt 1518 ]; then
		echo 9018 >"$d/max_frame" || fail "max_frame 9018 refused"
	fi
	# A fresh ring: counters and hash start over. 1024 descriptors hold
	# N frames of 5 buffers each (nothing cleans the ring until we read).
	[ "$(a rx/ring)" = 0 ] || echo 0 >"$d/rx/ring" || fail "stopping the RX ring failed"
	echo 1024 >"$d/rx/ring" || fail "starting a 1024-descriptor RX ring failed"
	[ "$(a rx/hash)" = $FNV_BASIS ] && [ "$(a rx/good)" = 0 ] || fail "new ring: rx_hash $(a rx/hash) rx_good $(a rx/good)"
	[ "$(a rx/posted)" = 1023 ] || fail "rx_posted $(a rx/posted), want 1023"
	set -- $(hw)
	hrp=$1 hrb=$2 htp=$3 htb=$4

	# --- PF -> VF0 ---
	out=$($PKT send "$pfdev" $MAC0 $N $size) || fail "vf_pkt send $size: $out"
	want=${out##* hash }
	[ "$want" = "$($PKT hash $N $size)" ] || fail "vf_pkt send printed '$out'"
	n=0
	while [ $(($(a rx/good) + $(a rx/bad))) -lt $N ]; do
		n=$((n + 1))
		[ $n -le 100 ] || fail "size $size: VF0 got $(a rx/good) good $(a rx/bad) bad of $N in 20 s (frames $(a rx/frames) drops $(a rx/drop_too_long)/$(a rx/drop_error)/$(a rx/drop_bad_len))"
		sleep 0.2
	done
	sleep 0.5
	[ "$(a rx/good)" = $N ] && [ "$(a rx/bad)" = 0 ] || fail "size $size: rx_good $(a rx/good) rx_bad $(a rx/bad), want $N/0"
	[ "$(a rx/hash)" = "$want" ] || fail "size $size: rx_hash $(a rx/hash), PF sent $want"
	[ "$(a rx/bytes)" = $((N * size)) ] || fail "size $size: rx_bytes $(a rx/bytes), want $((N * size))"
	[ "$(a rx/frames)" = $N ] && [ "$(a rx/frame_bytes)" = $((N * size)) ] || fail "size $size: rx_frames $(a rx/frames) rx_frame_bytes $(a rx/frame_bytes)"
	multi=0
	[ $size -le 2048 ] || multi=$N
	[ "$(a rx/multi_desc)" = $multi ] || fail "size $size: rx_multi_desc $(a rx/multi_desc), want $multi"
	for c in rx/drop_error rx/drop_too_long rx/drop_bad_len rx/drop_bufs rx/refill_failed; do
		[ "$(a $c)" = 0 ] || fail "size $size: $c = $(a $c)"
	done
	[ "$(a rx/posted)" = 1023 ] || fail "size $size: ring not refilled, rx_posted $(a rx/posted)"
	set -- $(hw)
	# QEMU counts the frame with its CRC in the octet counters.
	[ $(($1 - hrp)) = $N ] && [ $(($2 - hrb)) = $((N * (size + 4))) ] ||
		fail "size $size: hw_rx_packets +$(($1 - hrp)) hw_rx_bytes +$(($2 - hrb)), want +$N +$((N * (size + 4)))"
	echo "size $size: PF -> VF0 $N frames good, rx_hash $want, rx_bytes $(a rx/bytes), multi-descriptor $(a rx/multi_desc), hw +$(($1 - hrp)) pkts +$(($2 - hrb)) bytes"

	# --- VF0 -> PF ---
	sent0=$(a tx/sent) done0=$(a tx/done) bytes0=$(a tx/bytes)
	rm -f $PROG
	$PKT recv "$pfdev" $MAC0 $N $size 120 $PROG >/tmp/vf_traffic.recv 2>&1 &
	rpid=$!
	n=0
	while [ ! -s $PROG ]; do
		n=$((n + 1))
		[ $n -le 50 ] || fail "vf_pkt recv did not start: $(cat /tmp/vf_traffic.recv)"
		sleep 0.1
	done
	seq=0
	while [ $seq -lt $N ]; do
		echo "$pfmac $BATCH $size $seq" >"$d/tx/send" || fail "size $size: tx_send at seq $seq failed"
		seq=$((seq + BATCH))
		n=0
		while [ "$(tr -d ' ' <$PROG)" -lt $seq ]; do
			n=$((n + 1))
			[ $n -le 100 ] || break
			sleep 0.1
		done
	done
	wait $rpid
	rc=$?
	res=$(cat /tmp/vf_traffic.recv)
	[ $rc = 0 ] || fail "size $size: PF capture failed (rc $rc): $res; VF0 tx_sent +$(($(a tx/sent) - sent0)) tx_done +$(($(a tx/done) - done0))"
	case $res in
	"count $N good $N bad 0 "*" hash $want expected $want") ;;
	*) fail "size $size: PF capture: $res (want hash $want)" ;;
	esac
	[ $(($(a tx/sent) - sent0)) = $N ] && [ $(($(a tx/done) - done0)) = $N ] || fail "size $size: tx_sent +$(($(a tx/sent) - sent0)) tx_done +$(($(a tx/done) - done0))"
	[ $(($(a tx/bytes) - bytes0)) = $((N * size)) ] || fail "size $size: tx_bytes +$(($(a tx/bytes) - bytes0))"
	set -- $(hw)
	[ $(($3 - htp)) = $N ] && [ $(($4 - htb)) = $((N * (size + 4))) ] ||
		fail "size $size: hw_tx_packets +$(($3 - htp)) hw_tx_bytes +$(($4 - htb)), want +$N +$((N * (size + 4)))"
	echo "size $size: VF0 -> PF $res"
done

# Nothing multicast reached VF0 (no multicast filter was set).
[ "$(a hw/rx_multicast)" = "$mc0" ] || fail "hw_rx_multicast moved: $mc0 -> $(a hw/rx_multicast)"
echo 0 >"$d/rx/ring" || fail "stopping the RX ring failed"
[ "$(a rx/reclaimed)" = 1023 ] || fail "rx_reclaimed $(a rx/reclaimed), want 1023"
echo "counters: $(for c in tx/sent tx/done tx/bytes hw/rx_packets hw/tx_packets hw/rx_bytes hw/tx_bytes hw/rx_multicast resets; do printf '%s %s ' $c "$(a $c)"; done)"

rmmod vhost_zc || fail "rmmod failed"
echo 0 >"$pf/sriov_numvfs" || fail "sriov_numvfs 0 failed"
$IP link set "$pfdev" mtu 1500 || fail "PF MTU 1500 refused"
echo 0 >"/proc/sys/net/ipv6/conf/$pfdev/disable_ipv6" 2>/dev/null
exit 0
