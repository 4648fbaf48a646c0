#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vhost_zc's VF driver (vhost_zc_vf) on the emulated 82576: binds the VFs the
# igb PF creates, gets their MACs from the PF through the mailbox, reports
# link and mailbox counters in /sys/bus/pci/devices/<vf>/vzc/, survives
# unbind/bind, a PF reset, sriov_numvfs 2->0->2 and rmmod with VFs bound.
# igbvf is never loaded (no udev in the VM), so the VFs are ours.
. /selftests/lib.sh

IP=/usr/sbin/ip
DRV=/sys/bus/pci/drivers/vhost_zc_vf
MAC0=52:54:00:00:00:10
MAC1=52:54:00:00:00:11

pf_up
# A test before us may have failed half-way with vhost_zc loaded.
if grep -q '^vhost_zc ' /proc/modules; then rmmod vhost_zc || fail "rmmod of a leftover vhost_zc failed"; fi
pfdev=$(ls "$pf/net" 2>/dev/null | head -n 1)
[ -n "$pfdev" ] || fail "PF has no netdev"
$IP link set "$pfdev" up || fail "ip link set $pfdev up failed"
# The PF pings VFs through their mailboxes when its link comes up; wait for
# that to be over so that the probe's counters below are deterministic (the
# driver copes with the race by retrying: reset_retries).
pf_carrier || fail "PF $pfdev has no carrier 15 s after link up"

drv_of() {
	[ -e "/sys/bus/pci/devices/$1/driver" ] || return 0
	basename "$(readlink -f "/sys/bus/pci/devices/$1/driver")"
}
attr() { cat "/sys/bus/pci/devices/$1/vzc/$2" 2>/dev/null; }
vf_bdf() { basename "$(readlink -f "$pf/virtfn$1")"; }
# wait_link BDF: the PF brings its link up asynchronously; give it 15 s.
wait_link() {
	n=0
	while [ "$(attr "$1" link)" != up ]; do
		n=$((n + 1))
		[ $n -le 30 ] || return 1
		sleep 0.5
	done
}

echo 2 >"$pf/sriov_numvfs" || fail "writing 2 to sriov_numvfs failed"
# Enabling SR-IOV closes and reopens the PF (igb_sriov_reinit): its link
# comes up again ~1.5 s later and it pings the mailboxes then. A ping that
# lands on the probe's VF_RESET costs a timeout and a retry (CI saw it
# once): wait for the link here too.
pf_carrier || fail "PF $pfdev has no carrier 15 s after enabling SR-IOV"
$IP link set "$pfdev" vf 0 mac $MAC0 || fail "ip link set $pfdev vf 0 mac failed"
$IP link set "$pfdev" vf 1 mac $MAC1 || fail "ip link set $pfdev vf 1 mac failed"
vf0=$(vf_bdf 0)
vf1=$(vf_bdf 1)
[ -z "$(drv_of "$vf0")" ] || fail "VF $vf0 already bound to $(drv_of "$vf0") before insmod"

vzc_insmod || fail "insmod failed"

# --- probe: bound, MAC from the PF, link up ---
for i in 0 1; do
	eval bdf=\$vf$i want=\$MAC$i
	[ "$(drv_of "$bdf")" = vhost_zc_vf ] || fail "VF$i $bdf bound to '$(drv_of "$bdf")', want vhost_zc_vf"
	[ "$(attr "$bdf" mac)" = "$want" ] || fail "VF$i mac '$(attr "$bdf" mac)', PF set $want"
	[ "$(attr "$bdf" mac_source)" = pf ] || fail "VF$i mac_source '$(attr "$bdf" mac_source)', want pf"
	wait_link "$bdf" || fail "VF$i link '$(attr "$bdf" link)' 15 s after probe"
	[ "$(attr "$bdf" speed)" = "1000 full" ] || fail "VF$i speed '$(attr "$bdf" speed)'"
	# Probe: VF_RESET + SET_LPE, both ACKed, nothing lost.
	[ "$(attr "$bdf" mbx/acks)" -ge 2 ] || fail "VF$i mbx_acks $(attr "$bdf" mbx/acks) < 2"
	for c in mbx/timeouts mbx/bad_replies reset_failures reset_retries; do
		[ "$(attr "$bdf" $c)" = 0 ] || fail "VF$i $c = $(attr "$bdf" $c)"
	done
	echo "VF$i $bdf: driver vhost_zc_vf mac $(attr "$bdf" mac) link $(attr "$bdf" link) $(attr "$bdf" speed)" \
		"tx $(attr "$bdf" mbx/tx) acks $(attr "$bdf" mbx/acks) resets $(attr "$bdf" resets)"
done

# --- mailbox requests through sysfs ---
d=/sys/bus/pci/devices/$vf0/vzc
acks=$(cat $d/mbx/acks)
echo 9018 >$d/max_frame || fail "SET_LPE 9018 refused"
[ "$(cat $d/max_frame)" = 9018 ] || fail "max_frame reads $(cat $d/max_frame)"
echo 100 >$d/vlan_add || fail "SET_VLAN add 100 refused"
echo 100 >$d/vlan_del || fail "SET_VLAN del 100 refused"
echo "01:00:5e:00:00:01 33:33:00:00:00:01" >$d/mc_list || fail "SET_MULTICAST refused"
[ "$(cat $d/mbx/acks)" -eq $((acks + 4)) ] || fail "mbx_acks $(cat $d/mbx/acks), want $((acks + 4))"
# Invalid input never reaches the PF.
tx=$(cat $d/mbx/tx)
for bad in "max_frame 20000" "vlan_add 4096" "mc_list 52:54:00:00:00:01" "mac 01:00:00:00:00:01" "mac zz"; do
	set -- $bad
	if echo "$2" >$d/$1 2>/dev/null; then fail "writing '$2' to $1 succeeded"; fi
done
[ "$(cat $d/mbx/tx)" = "$tx" ] || fail "invalid writes sent mailbox messages"
# The PF set this VF's MAC: it NACKs a different one (untrusted VF).
nacks=$(cat $d/mbx/nacks)
if echo 02:00:00:00:00:99 >$d/mac 2>/dev/null; then fail "PF accepted a MAC over its administrative one"; fi
[ "$(cat $d/mbx/nacks)" -eq $((nacks + 1)) ] || fail "mbx_nacks $(cat $d/mbx/nacks), want $((nacks + 1))"
[ "$(cat $d/mac)" = $MAC0 ] || fail "mac changed to $(cat $d/mac) after a NACK"
# A VF-initiated reset redoes the handshake and restores the frame size.
resets=$(cat $d/resets)
echo 1 >$d/reset || fail "reset failed"
[ "$(cat $d/resets)" -eq $((resets + 1)) ] || fail "resets $(cat $d/resets), want $((resets + 1))"
[ "$(cat $d/mac)" = $MAC0 ] && [ "$(cat $d/max_frame)" = 9018 ] || fail "state after reset: $(cat $d/mac) $(cat $d/max_frame)"
wait_link "$vf0" || fail "VF0 link down after reset"
echo "mailbox: LPE/VLAN/MC acked, foreign MAC nacked, reset ok (acks $(cat $d/mbx/acks) nacks $(cat $d/mbx/nacks))"

# --- queue 0: VF0 sends to VF1 through the PF's VM-to-VM switch ---
d1=/sys/bus/pci/devices/$vf1/vzc
echo 64 >$d1/rx/ring || fail "starting VF1's RX ring failed"
[ "$(cat $d1/rx/ring)" = 64 ] || fail "rx_ring reads $(cat $d1/rx/ring)"
# One slot stays empty (head == tail means empty).
[ "$(cat $d1/rx/posted)" = 63 ] || fail "rx_posted $(cat $d1/rx/posted), want 63"
if echo 64 >$d1/rx/ring 2>/dev/null; then fail "a second RX ring was accepted"; fi
if echo 12 >$d/rx/ring 2>/dev/null; then fail "a 12-descriptor ring was accepted"; fi
if echo "$MAC1 1001" >$d/tx/send 2>/dev/null; then fail "1001 frames at once were accepted"; fi
echo "$MAC1 10" >$d/tx/send || fail "VF0 tx_send failed"
n=0
while [ "$(cat $d1/rx/good)" -lt 10 ]; do
	n=$((n + 1))
	[ $n -le 25 ] || fail "VF1 received $(cat $d1/rx/good) good / $(cat $d1/rx/bad) bad of 10 frames in 5 s (VF0 tx_done $(cat $d/tx/done))"
	sleep 0.2
done
[ "$(cat $d1/rx/good)" = 10 ] && [ "$(cat $d1/rx/bad)" = 0 ] || fail "VF1 rx good $(cat $d1/rx/good) bad $(cat $d1/rx/bad)"
[ "$(cat $d1/rx/bytes)" = 600 ] || fail "VF1 rx_bytes $(cat $d1/rx/bytes), want 10 x 60"
[ "$(cat $d/tx/sent)" = 10 ] && [ "$(cat $d/tx/done)" = 10 ] || fail "VF0 tx sent $(cat $d/tx/sent) done $(cat $d/tx/done)"
[ "$(cat $d1/rx/posted)" = 63 ] || fail "VF1 ring not refilled: rx_posted $(cat $d1/rx/posted)"
# Frames for an address nobody has do not reach VF1.
echo "52:54:00:00:00:99 5" >$d/tx/send || fail "tx_send to an unknown MAC failed"
sleep 1
[ "$(cat $d1/rx/good)" = 10 ] && [ "$(cat $d1/rx/bad)" = 0 ] || fail "VF1 got frames not addressed to it"
echo 0 >$d1/rx/ring || fail "stopping VF1's RX ring failed"
[ "$(cat $d1/rx/reclaimed)" = 63 ] || fail "rx_reclaimed $(cat $d1/rx/reclaimed), want 63"
[ "$(cat $d1/rx/ring)" = 0 ] || fail "rx_ring $(cat $d1/rx/ring) after stop"
echo "rings: VF0 -> VF1 10 frames, 600 bytes, pattern ok; 63 buffers reclaimed on stop"
# Leave a ring with buffers posted for the teardowns below (sriov_numvfs=0).
echo 64 >$d1/rx/ring || fail "restarting VF1's RX ring failed"

# --- PF-initiated reset: the VF notices RSTI/RSTD and redoes the handshake ---
pfr=$(cat $d/mbx/pf_resets)
resets=$(cat $d/resets)
$IP link set "$pfdev" down || fail "PF down failed"
$IP link set "$pfdev" up || fail "PF up failed"
wait_link "$vf0" || fail "VF0 link '$(attr "$vf0" link)' after PF reset"
[ "$(cat $d/mbx/pf_resets)" -gt "$pfr" ] || fail "PF reset not seen (pf_resets $(cat $d/mbx/pf_resets))"
[ "$(cat $d/resets)" -gt "$resets" ] || fail "no VF reset after the PF reset"
[ "$(cat $d/mac)" = $MAC0 ] || fail "mac $(cat $d/mac) after PF reset"
[ "$(cat $d/reset_failures)" = 0 ] || fail "reset_failures $(cat $d/reset_failures) after PF reset"
echo "PF reset: pf_resets $pfr -> $(cat $d/mbx/pf_resets), resets $resets -> $(cat $d/resets)" \
	"(retries $(cat $d/reset_retries), mbx_timeouts $(cat $d/mbx/timeouts)), link up"

# --- probe failure: with the PF down (igb frees its IRQs) nobody answers
# the mailbox; the probe must fail with a reason and leave nothing behind ---
echo "$vf0" >$DRV/unbind || fail "unbind before the PF-down probe failed"
$IP link set "$pfdev" down || fail "PF down failed"
t0=$(date +%s)
echo "$vf0" >$DRV/bind 2>/dev/null
[ -z "$(drv_of "$vf0")" ] || fail "VF0 bound while the PF cannot answer"
[ ! -e "/sys/bus/pci/devices/$vf0/vzc" ] || fail "vzc dir left by a failed probe"
# (igb_down resets the PF and only igb_up clears RSTI: PfInReset.)
dmesg | grep -q "$vf0: VF reset handshake with the PF failed (PfInReset" ||
	fail "no logged reason for the failed probe: $(dmesg | grep "$vf0" | tail -n 2)"
echo "probe with the PF down: failed after $(( $(date +%s) - t0 )) s: $(dmesg | grep "$vf0: VF reset handshake" | tail -n 1 | cut -d] -f2-)"
$IP link set "$pfdev" up || fail "PF up failed"
pf_carrier || fail "PF $pfdev has no carrier 15 s after link up"
echo "$vf0" >$DRV/bind || fail "bind after the PF came back failed"
[ "$(attr "$vf0" mac)" = $MAC0 ] || fail "VF0 mac '$(attr "$vf0" mac)' after the PF came back"
wait_link "$vf0" || fail "VF0 link down after the PF came back"

# --- unbind/bind VF0 20 times ---
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	echo "$vf0" >$DRV/unbind || fail "unbind #$i failed"
	[ -z "$(drv_of "$vf0")" ] || fail "VF0 still bound after unbind #$i"
	[ ! -e "/sys/bus/pci/devices/$vf0/vzc" ] || fail "vzc dir left after unbind #$i"
	echo "$vf0" >$DRV/bind || fail "bind #$i failed"
	[ "$(drv_of "$vf0")" = vhost_zc_vf ] || fail "VF0 not bound after bind #$i"
	[ "$(attr "$vf0" mac)" = $MAC0 ] || fail "VF0 mac '$(attr "$vf0" mac)' after bind #$i"
done
wait_link "$vf0" || fail "VF0 link down after 20 rebinds"
[ "$(drv_of "$vf1")" = vhost_zc_vf ] || fail "VF1 lost its driver"
echo "20 unbind/bind cycles of VF0"

# --- sriov_numvfs 2 -> 0 -> 2 with the module loaded ---
echo 0 >"$pf/sriov_numvfs" || fail "sriov_numvfs 0 failed with VFs bound"
[ ! -e "/sys/bus/pci/devices/$vf0" ] || fail "VF0 still present after sriov_numvfs=0"
echo 2 >"$pf/sriov_numvfs" || fail "sriov_numvfs 2 (again) failed"
for i in 0 1; do
	bdf=$(vf_bdf $i)
	[ "$(drv_of "$bdf")" = vhost_zc_vf ] || fail "new VF$i $bdf bound to '$(drv_of "$bdf")'"
	# The PF forgot the MACs with the VFs: it NACKs VF_RESET and the driver
	# registers a random locally administered address.
	m=$(attr "$bdf" mac)
	[ "$(attr "$bdf" mac_source)" = random ] || fail "new VF$i mac_source '$(attr "$bdf" mac_source)' (mac $m)"
	case $m in
	?[2367abef]:??:??:??:??:??) ;;
	*) fail "new VF$i mac '$m' is not unicast locally administered" ;;
	esac
	wait_link "$bdf" || fail "new VF$i link '$(attr "$bdf" link)'"
	echo "new VF$i $bdf: mac $m (random) link up"
done

# --- rmmod with both VFs bound ---
rmmod vhost_zc || fail "rmmod with VFs bound failed"
for i in 0 1; do
	bdf=$(vf_bdf $i)
	[ -z "$(drv_of "$bdf")" ] || fail "VF$i still bound to '$(drv_of "$bdf")' after rmmod"
done
[ ! -e $DRV ] || fail "$DRV left after rmmod"
echo 0 >"$pf/sriov_numvfs" || fail "sriov_numvfs 0 after rmmod failed"
echo "rmmod with 2 VFs bound: clean"
