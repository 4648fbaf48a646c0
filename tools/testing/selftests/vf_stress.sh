#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vhost_zc's VF driver under stress on the emulated 82576, in four parts:
#  1. fault injection: probes failed on purpose (module parameter
#     vf_inject_probe_fail) leave nothing behind and binding works after;
#     each allocation point of an RX and a TX ring start fails on demand
#     (sysfs inject_alloc_fail) with ENOMEM, nothing half-started remains,
#     and the next attempt succeeds;
#  2. with traffic running the whole time (PF -> VF0 frames from vf_pkt,
#     VF0 -> PF tx_send bursts): 50 unbind/bind cycles of VF0 (its RX ring
#     restarted after each bind), sriov_numvfs 2 -> 0 -> 2 twice, and the PF
#     taken down and up twice (the watchdog recovers and restarts the
#     running ring without any sysfs access);
#  3. then a clean, exact traffic check both ways (counts, hashes) and sane
#     counters (interrupts delivered through MSI-X);
#  4. the polled fallback (module parameter vf_polled): the same exact RX
#     check and TX completions without interrupts.
# The harness fails the run on any splat and scans kmemleak at the end.
. /selftests/lib.sh

IP=/usr/sbin/ip
PKT=/selftests/bin/vf_pkt
DRV=/sys/bus/pci/drivers/vhost_zc_vf
MAC0=52:54:00:00:00:30
MAC1=52:54:00:00:00:31
N=200
BATCH=20
STOP=/tmp/vf_stress.stop
PROG=/tmp/vf_stress.progress
T0=$(date +%s)
# The background traffic ends with the script, whatever way it ends.
trap 'touch $STOP' EXIT
rm -f $STOP

say() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
drv_of() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	basename "$(readlink -f "/sys/bus/pci/devices/$1/driver")"
}
vf_bdf() { basename "$(readlink -f "$pf/virtfn$1")"; }
a() { cat "$d/$1"; }
# until_ok SECONDS 'CMD': evaluate CMD (quoted: its $(...) run every
# time) every 0.2 s until it succeeds.
until_ok() {
	lim=$(($1 * 5)); shift
	n=0
	until eval "$*"; do
		n=$((n + 1))
		[ $n -le $lim ] || return 1
		sleep 0.2
	done
}
progress() { tr -d ' ' <$PROG; }
link_up() { [ "$(cat "$d/link" 2>/dev/null)" = up ]; }
carrier() { [ "$(cat "/sys/class/net/$pfdev/carrier" 2>/dev/null)" = 1 ]; }
# expect_err ERRTEXT FILE VALUE: the write fails with that error message.
expect_err() {
	out=$( (echo "$3" >"$2") 2>&1) && fail "writing '$3' to $2 succeeded"
	case $out in
	*"$1"*) ;;
	*) fail "writing '$3' to $2: '$out', want '$1'" ;;
	esac
}
# The counters that tell why frames did not arrive.
diag() {
	for c in link rx/ring rx/posted rx/good rx/bad rx/frames hw/rx_packets irq/rx irq/mbx mbx/pf_resets \
		resets recovery/recoveries recovery/waits recovery/deferred recovery/failures recovery/ring_restarts \
		recovery/ring_restart_failures tx/sent tx/done tx/lost mbx/timeouts; do
		printf '%s %s ' $c "$(a $c)"
	done
}
# Every counter reads as a plain decimal number below 2^48 (no garbage,
# nothing negative).
sane() {
	for f in "$d"/* "$d"/*/*; do
		[ -f "$f" ] && [ -r "$f" ] || continue
		case ${f#"$d"/} in
		mac | mac_source | link | speed | rx/hash | irq/mode | selftest/inject_alloc_fail) continue ;;
		vlan_add | vlan_del | mc_list | reset | tx/send) continue ;; # write-only
		esac
		v=$(cat "$f") || fail "reading $f failed"
		case $v in
		'' | *[!0-9]*) fail "${f##*/} = '$v'" ;;
		esac
		[ ${#v} -le 15 ] || fail "${f##*/} = $v: implausibly large"
	done
}

[ -x $PKT ] || fail "$PKT missing"
pf_up
pf_fresh
$IP link set "$pfdev" up || fail "ip link set $pfdev up failed"
until_ok 15 carrier || fail "PF $pfdev has no carrier"
pfmac=$(cat "/sys/class/net/$pfdev/address")
vfs_up() {
	echo 2 >"$pf/sriov_numvfs" || fail "writing 2 to sriov_numvfs failed"
	# igb_sriov_reinit bounced the PF link: let its link-up ping pass first.
	until_ok 15 carrier || fail "PF $pfdev has no carrier after enabling SR-IOV"
	$IP link set "$pfdev" vf 0 mac $MAC0 || fail "ip link set $pfdev vf 0 mac failed"
	$IP link set "$pfdev" vf 1 mac $MAC1 || fail "ip link set $pfdev vf 1 mac failed"
	vf0=$(vf_bdf 0)
	vf1=$(vf_bdf 1)
	d=/sys/bus/pci/devices/$vf0/vzc
}
vfs_up

# --- 1a. probes failed on purpose ---
modprobe tun && modprobe tap || fail "modprobe tun/tap failed"
insmod "$VZC_KO" vf_inject_probe_fail=2 || fail "insmod vf_inject_probe_fail=2 failed"
for bdf in $vf0 $vf1; do
	[ -z "$(drv_of "$bdf")" ] || fail "$bdf bound although its probe was to fail"
	[ ! -e "/sys/bus/pci/devices/$bdf/vzc" ] || fail "$bdf: vzc dir left by a failed probe"
done
[ "$(dmesg | grep -c 'probe fails: injected')" -ge 2 ] || fail "injected probe failures not logged"
for bdf in $vf0 $vf1; do
	echo "$bdf" >$DRV/bind || fail "bind of $bdf after the injected failures failed"
done
[ "$(a mac)" = $MAC0 ] || fail "VF0 mac $(a mac) after bind"
until_ok 15 link_up || fail "VF0 link $(a link) after bind"
[ "$(a irq/mode)" = msix ] || fail "irq_mode $(a irq/mode), want msix"
grep -q vhost_zc_vf-rx /proc/interrupts || fail "no vhost_zc_vf-rx in /proc/interrupts"
say "2 probes failed on purpose, nothing left; both VFs bound afterwards (irq_mode msix)"

# --- 1b. ring allocation failures ---
for bad in x -1 65 "1 65" "1 2 3"; do
	expect_err "Invalid argument" "$d/selftest/inject_alloc_fail" "$bad"
done
[ "$(a selftest/inject_alloc_fail)" = "0 0" ] || fail "inject_alloc_fail reads '$(a selftest/inject_alloc_fail)' after bad input"
# RX start: pool, descriptors, shadow array, start (queue enabled, buffers
# posted: they must come back).
for skip in 0 1 2 3; do
	hits=$(a selftest/inject_hits)
	echo "1 $skip" >"$d/selftest/inject_alloc_fail" || fail "arming inject_alloc_fail '1 $skip' failed"
	expect_err "Cannot allocate memory" "$d/rx/ring" 64
	[ "$(a selftest/inject_hits)" = $((hits + 1)) ] || fail "inject_hits $(a selftest/inject_hits), want $((hits + 1))"
	[ "$(a selftest/inject_alloc_fail)" = "0 0" ] || fail "inject_alloc_fail '$(a selftest/inject_alloc_fail)' after it fired"
	[ "$(a rx/ring)" = 0 ] && [ "$(a rx/posted)" = 0 ] || fail "RX point $skip: ring $(a rx/ring) posted $(a rx/posted) after a failed start"
	echo 64 >"$d/rx/ring" || fail "RX start after injected failure at point $skip failed"
	[ "$(a rx/posted)" = 63 ] || fail "rx_posted $(a rx/posted) after recovery from point $skip"
	echo 0 >"$d/rx/ring" || fail "stopping the RX ring failed"
	[ "$(a rx/reclaimed)" = 63 ] || fail "rx_reclaimed $(a rx/reclaimed) after point $skip"
done
# TX ring (created by the first tx_send): slot array, descriptors, buffers, start.
for skip in 0 1 2 3; do
	echo "1 $skip" >"$d/selftest/inject_alloc_fail" || fail "arming '1 $skip' failed"
	expect_err "Cannot allocate memory" "$d/tx/send" "$pfmac 1"
	[ "$(a tx/sent)" = 0 ] || fail "tx_sent $(a tx/sent) after a failed TX start"
done
# Two failures armed: the first fails a start, the second the retry.
echo 2 >"$d/selftest/inject_alloc_fail" || fail "arming 2 failed"
expect_err "Cannot allocate memory" "$d/rx/ring" 64
expect_err "Cannot allocate memory" "$d/rx/ring" 64
echo "$pfmac 1" >"$d/tx/send" || fail "tx_send after the injected failures failed"
until_ok 5 'test "$(a tx/done)" = 1' || fail "tx_done $(a tx/done), want 1"
[ "$(a selftest/inject_hits)" = 10 ] || fail "inject_hits $(a selftest/inject_hits), want 10"
say "10 injected ring allocation failures: ENOMEM each, nothing half-started, next attempt fine"

# --- 2. stress with traffic running ---
echo 256 >"$d/rx/ring" || fail "starting VF0's RX ring failed"
(
	while [ ! -e $STOP ]; do
		$PKT send "$pfdev" $MAC0 40 60 >/dev/null 2>&1
		sleep 0.05
	done
) &
rx_pid=$!
(
	while [ ! -e $STOP ]; do
		# (The directory comes and goes with the driver.)
		{ echo "$pfmac 20" >"/sys/bus/pci/devices/$vf0/vzc/tx/send"; } 2>/dev/null
		sleep 0.1
	done
) &
tx_pid=$!
sleep 1
until_ok 10 'test "$(a rx/good)" -gt 0' || fail "no background traffic reached VF0"

i=0
while [ $i -lt 50 ]; do
	i=$((i + 1))
	echo "$vf0" >$DRV/unbind || fail "unbind #$i failed"
	[ ! -e "$d" ] || fail "vzc dir left after unbind #$i"
	echo "$vf0" >$DRV/bind || fail "bind #$i failed"
	[ "$(a mac)" = $MAC0 ] || fail "VF0 mac '$(a mac)' after bind #$i"
	echo 256 >"$d/rx/ring" || fail "ring start after bind #$i failed"
done
until_ok 15 link_up || fail "VF0 link down after 50 rebinds"
until_ok 10 'test "$(a rx/good)" -gt 0' || fail "no traffic after 50 rebinds: $(diag)"
say "50 unbind/bind cycles of VF0 under traffic; then rx_good $(a rx/good) rx_bad $(a rx/bad) irq_rx $(a irq/rx)"

for k in 1 2; do
	echo 0 >"$pf/sriov_numvfs" || fail "sriov_numvfs 0 (#$k) failed under traffic"
	[ ! -e "/sys/bus/pci/devices/$vf0" ] || fail "VF0 still present after sriov_numvfs=0"
	vfs_up
	# The VFs probed (random MACs: the PF forgot them) before the admin
	# set the MACs: a VF reset fetches them.
	for bdf in $vf0 $vf1; do
		[ "$(drv_of "$bdf")" = vhost_zc_vf ] || fail "new $bdf bound to '$(drv_of "$bdf")'"
		echo 1 >"/sys/bus/pci/devices/$bdf/vzc/reset" || fail "reset of new $bdf failed"
	done
	[ "$(a mac)" = $MAC0 ] || fail "new VF0 mac $(a mac) after reset"
	echo 256 >"$d/rx/ring" || fail "ring start on new VF0 failed"
	until_ok 15 link_up || fail "new VF0 link down: $(diag)"
	until_ok 10 'test "$(a rx/good)" -gt 0' || fail "no traffic on new VF0 (#$k): $(diag)"
done
say "sriov_numvfs 2->0->2 twice under traffic; new VF0 rx_good $(a rx/good)"

for k in 1 2; do
	rec=$(a recovery/recoveries)
	rst=$(a recovery/ring_restarts)
	pfr=$(a mbx/pf_resets)
	$IP link set "$pfdev" down || fail "PF down (#$k) failed"
	sleep 1
	$IP link set "$pfdev" up || fail "PF up (#$k) failed"
	until_ok 15 carrier || fail "PF no carrier after up #$k"
	# Only the watchdog can notice and recover: no sysfs write here.
	until_ok 30 'test "$(a recovery/recoveries)" -gt "$rec"' ||
		fail "no recovery after PF down/up #$k (pf_resets $pfr -> $(a mbx/pf_resets), waits $(a recovery/waits), deferred $(a recovery/deferred), failures $(a recovery/failures))"
	until_ok 10 'test "$(a recovery/ring_restarts)" -gt "$rst"' || fail "ring not restarted after recovery #$k"
	until_ok 15 link_up || fail "VF0 link down after PF down/up #$k"
	g=$(a rx/good)
	until_ok 10 'test "$(a rx/good)" -gt "$g"' || fail "no traffic after PF down/up #$k: $(diag)"
done
say "PF down/up twice under traffic: recoveries $(a recovery/recoveries) ring_restarts $(a recovery/ring_restarts)" \
	"waits $(a recovery/waits) deferred $(a recovery/deferred) failures $(a recovery/failures) tx_lost $(a tx/lost)"

touch $STOP
wait $rx_pid $tx_pid
sleep 1
sane

# --- 3. a clean, exact check after all that ---
until_ok 15 link_up || fail "VF0 link down before the clean check"
echo 0 >"$d/rx/ring" || fail "stopping the stress ring failed"
echo 1024 >"$d/rx/ring" || fail "starting the check ring failed"
irq0=$(a irq/rx)
out=$($PKT send "$pfdev" $MAC0 $N 60) || fail "vf_pkt send: $out"
want=${out##* hash }
until_ok 20 'test $(($(a rx/good) + $(a rx/bad))) -ge $N' || fail "VF0 got $(a rx/good) good $(a rx/bad) bad of $N"
sleep 0.5
[ "$(a rx/good)" = $N ] && [ "$(a rx/bad)" = 0 ] || fail "clean check: rx_good $(a rx/good) rx_bad $(a rx/bad), want $N/0"
[ "$(a rx/hash)" = "$want" ] || fail "clean check: rx_hash $(a rx/hash), PF sent $want"
[ "$(a rx/bytes)" = $((N * 60)) ] || fail "clean check: rx_bytes $(a rx/bytes)"
for c in rx/drop_error rx/drop_too_long rx/drop_bad_len rx/drop_bufs rx/refill_failed; do
	[ "$(a $c)" = 0 ] || fail "clean check: $c = $(a $c)"
done
[ "$(a irq/rx)" -gt "$irq0" ] || fail "frames arrived without RX interrupts (irq_rx $(a irq/rx))"
sent0=$(a tx/sent) done0=$(a tx/done)
rm -f $PROG
$PKT recv "$pfdev" $MAC0 $N 60 120 $PROG 1000 >/tmp/vf_stress.recv 2>&1 &
rpid=$!
until_ok 10 'test -s $PROG' || fail "vf_pkt recv did not start: $(cat /tmp/vf_stress.recv)"
seq=0
while [ $seq -lt $N ]; do
	echo "$pfmac $BATCH 60 $((1000 + seq))" >"$d/tx/send" || fail "clean check: tx_send at $seq failed"
	seq=$((seq + BATCH))
	until_ok 20 'test "$(progress)" -ge $seq' || break
done
wait $rpid
rc=$?
res=$(cat /tmp/vf_stress.recv)
[ $rc = 0 ] || fail "clean check: PF capture failed (rc $rc): $res"
until_ok 5 'test $(($(a tx/done) - done0)) = $N' || fail "clean check: tx_done +$(($(a tx/done) - done0))"
[ $(($(a tx/sent) - sent0)) = $N ] || fail "clean check: tx_sent +$(($(a tx/sent) - sent0))"
[ "$(a irq/tx)" -gt 0 ] || fail "irq_tx 0"
echo 0 >"$d/rx/ring" || fail "stopping the check ring failed"
[ "$(a rx/reclaimed)" = 1023 ] || fail "rx_reclaimed $(a rx/reclaimed), want 1023"
sane
say "clean check: $N frames each way exact (rx_hash $want; PF: $res);" \
	"irq_tx $(a irq/tx) irq_rx $(a irq/rx) irq_mbx $(a irq/mbx) watchdog_runs $(a irq/watchdog_runs)"
echo "$vf0" >$DRV/unbind && echo "$vf0" >$DRV/bind || fail "final unbind/bind failed"
[ "$(a mac)" = $MAC0 ] || fail "VF0 mac $(a mac) after the final bind"
until_ok 15 link_up || fail "VF0 link after the final bind"

# --- 4. the polled fallback ---
rmmod vhost_zc || fail "rmmod failed"
insmod "$VZC_KO" vf_polled=1 || fail "insmod vf_polled=1 failed"
[ "$(a irq/mode)" = polled ] || fail "irq_mode $(a irq/mode) with vf_polled=1"
! grep -q vhost_zc_vf /proc/interrupts || fail "IRQs requested in polled mode"
until_ok 15 link_up || fail "VF0 link in polled mode"
echo 1024 >"$d/rx/ring" || fail "RX ring in polled mode failed"
out=$($PKT send "$pfdev" $MAC0 $N 60) || fail "vf_pkt send: $out"
want=${out##* hash }
until_ok 20 'test $(($(a rx/good) + $(a rx/bad))) -ge $N' || fail "polled: VF0 got $(a rx/good) of $N"
sleep 0.5
[ "$(a rx/good)" = $N ] && [ "$(a rx/bad)" = 0 ] && [ "$(a rx/hash)" = "$want" ] ||
	fail "polled: rx_good $(a rx/good) rx_bad $(a rx/bad) rx_hash $(a rx/hash) (want $want)"
echo "$pfmac $BATCH" >"$d/tx/send" || fail "polled: tx_send failed"
until_ok 5 'test "$(a tx/done)" = $BATCH' || fail "polled: tx_done $(a tx/done), want $BATCH"
[ "$(a irq/polls)" -gt 0 ] && [ "$(a irq/rx)" = 0 ] || fail "polled: polls $(a irq/polls) irq_rx $(a irq/rx)"
sane
say "polled mode: $N frames exact, $BATCH sent and completed, polls $(a irq/polls)"

rmmod vhost_zc || fail "rmmod failed"
echo 0 >"$pf/sriov_numvfs" || fail "sriov_numvfs 0 failed"
echo 0 >"/proc/sys/net/ipv6/conf/$pfdev/disable_ipv6" 2>/dev/null
exit 0
