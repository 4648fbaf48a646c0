#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The control plane end to end: zcctl against the generic netlink family
# vhost_zc with real taps and the real VFs of the emulated 82576, driven by
# vhost_zc_vf. Binding, the JSON contract of `zcctl show -j`
# (Documentation/zcctl.rst), every refusal's errno and extack text as zcctl
# prints them, ports per network namespace and dropped with it, a VF that
# goes and comes back, ports following the devices that use their taps
# (zc_attach), the message-level refusals and permissions (zc_nl),
# and rmmod with ports bound.
. /selftests/lib.sh

IP=/usr/sbin/ip
DRV=/sys/bus/pci/drivers/vhost_zc_vf
MAC=52:54:00:12:34:56

# expect RC TEXT CMD...: CMD exits RC and its stderr contains TEXT.
expect() {
	_rc=$1 _txt=$2; shift 2
	_err=$("$@" 2>&1 >/tmp/zcctl.out); _got=$?
	echo "\$ $* -> rc $_got: $_err"
	[ "$_got" = "$_rc" ] || fail "$*: exit $_got, expected $_rc"
	case $_err in
	*"$_txt"*) ;;
	*) fail "$*: said '$_err', expected it to contain '$_txt'" ;;
	esac
}
# ok CMD...: CMD succeeds and says nothing on stderr.
ok() {
	_err=$("$@" 2>&1 >/tmp/zcctl.out) || fail "$*: exit $?: $_err"
	[ -z "$_err" ] || fail "$*: succeeded but said '$_err'"
}
# show_j [ip netns exec NS]: `zcctl show -j` there; has JSON KV...: JSON has them all.
show_j() { "$@" zcctl show -j || fail "zcctl show -j failed"; }
has() {
	_j=$1; shift
	for kv in "$@"; do
		case $_j in
		*"$kv"*) ;;
		*) fail "show -j: no $kv in $_j" ;;
		esac
	done
}
ports() { printf '%s' "$1" | grep -o '"tap":' | wc -l; }

pf_up
pf_fresh
$IP link set "$pfdev" up || fail "ip link set $pfdev up failed"
pf_carrier || fail "PF $pfdev has no carrier 15 s after link up"
echo 2 >"$pf/sriov_numvfs" || fail "writing 2 to sriov_numvfs failed"
# igb reopens the PF on enabling SR-IOV and pings the VFs when its link is
# back: probe after that (vf_probe.sh says why).
pf_carrier || fail "PF $pfdev has no carrier 15 s after enabling SR-IOV"
vf0=$(basename "$(readlink -f "$pf/virtfn0")")
vf1=$(basename "$(readlink -f "$pf/virtfn1")")
pfbdf=$(basename "$pf")

vzc_insmod || fail "insmod vhost_zc failed"
for v in "$vf0" "$vf1"; do
	[ -e "$DRV/$v" ] || fail "VF $v not bound to vhost_zc_vf"
done
$IP tuntap add tap0 mode tap || fail "ip tuntap add tap0 failed"
$IP tuntap add tap1 mode tap || fail "ip tuntap add tap1 failed"
$IP tuntap add tun0 mode tun || fail "ip tuntap add tun0 failed"

j=$(show_j)
[ "$j" = "[]" ] || fail "show -j with nothing bound: '$j'"

# --- bind, and what show says of it ---
ok zcctl bind tap0 "$vf0" --mac $MAC
j=$(show_j)
[ "$(ports "$j")" = 1 ] || fail "one port bound, show -j: $j"
has "$j" '"tap":"tap0"' "\"vf\":\"$vf0\"" '"mode":"copy"' '"copy_reason":"detached"' \
	"\"mac\":\"$MAC\"" '"mac_source":"configured"' "\"ifindex\":$(cat /sys/class/net/tap0/ifindex)" \
	'"queue_pairs":0' '"rings":0' '"rx_zc_packets":0' '"rx_copy_packets":0'
j1=$(zcctl show -j tap0) || fail "zcctl show -j tap0 failed"
[ "$j1" = "$j" ] || fail "show -j tap0 '$j1' differs from the dump '$j'"
zcctl show | grep -q "^tap0 .*copy(detached)" || fail "table: $(zcctl show)"

# --- refusals: errno (as strerror) and extack text ---
expect 1 "bind tap0: File exists (tap is bound already" zcctl bind tap0 "$vf1"
expect 1 "bind tap1: Device or resource busy (the VF is bound to another tap)" zcctl bind tap1 "$vf0"
expect 1 "No such device (no PCI device at this address)" zcctl bind tap1 0000:ff:1f.7
expect 1 "No such device (no interface of this name" zcctl bind nosuch "$vf1"
expect 1 "Operation not supported (the PCI device is not driven by vhost_zc_vf" zcctl bind tap1 "$pfbdf"
expect 1 "Invalid argument (the interface is not a tap" zcctl bind lo "$vf1"
expect 1 "Invalid argument (the interface is not a tap" zcctl bind tun0 "$vf1"
expect 1 "unbind tap1: No such file or directory (tap is not bound)" zcctl unbind tap1
expect 1 "show tap1: No such file or directory (tap is not bound)" zcctl show tap1
j=$(show_j)
[ "$(ports "$j")" = 1 ] || fail "refused binds changed the ports: $j"

# --- the port follows the vhost-net devices using its tap ---
/selftests/bin/zc_attach tap0 tap1 "$vf0" "$vf1" || fail "zc_attach (above)"
j=$(show_j)
[ "$(ports "$j")" = 1 ] || fail "zc_attach left ports behind: $j"

# --- a second port, MAC to be learned ---
ok zcctl bind tap1 "$vf1"
j=$(show_j)
[ "$(ports "$j")" = 2 ] || fail "two ports bound, show -j: $j"
has "$j" '"tap":"tap1"' '"mac":null' '"mac_source":"none"'
ok zcctl unbind tap1

# --- network namespaces: ports are per namespace and go with it ---
mkdir -p /run/netns
$IP netns add zc1 || fail "ip netns add failed"
NS="$IP netns exec zc1"
$NS $IP tuntap add tap0 mode tap || fail "tuntap in zc1 failed"
j=$(show_j $NS)
[ "$j" = "[]" ] || fail "zc1 sees the init namespace's ports: $j"
expect 1 "Device or resource busy" $NS zcctl bind tap0 "$vf0"
ok $NS zcctl bind tap0 "$vf1"
j=$(show_j $NS)
has "$j" '"tap":"tap0"' "\"vf\":\"$vf1\""
j=$(show_j)
[ "$(ports "$j")" = 1 ] || fail "the init namespace sees zc1's port: $j"
has "$j" "\"vf\":\"$vf0\""
expect 1 "Device or resource busy" zcctl bind tap1 "$vf1"
$IP netns del zc1 || fail "ip netns del failed"
# cleanup_net runs from a workqueue: the VF is free once it has run.
n=0
until zcctl bind tap1 "$vf1" 2>/dev/null; do
	n=$((n + 1))
	[ $n -le 50 ] || fail "VF $vf1 still bound 5 s after its namespace was deleted"
	sleep 0.1
done
echo "namespace zc1 gone: its port went with it after $n polls"

# --- the VF goes and comes back ---
echo "$vf0" >"$DRV/unbind" || fail "unbind $vf0 from vhost_zc_vf failed"
has "$(zcctl show -j tap0)" '"copy_reason":"vf-down"'
$IP tuntap add tap2 mode tap || fail "ip tuntap add tap2 failed"
expect 1 "Operation not supported (the PCI device is not driven by vhost_zc_vf" zcctl bind tap2 "$vf0"
echo "$vf0" >"$DRV/bind" || fail "bind $vf0 to vhost_zc_vf failed"
has "$(zcctl show -j tap0)" '"copy_reason":"detached"'

# --- the tap goes: the port stays (keyed by name), ifindex 0 ---
$IP link del tap1 || fail "ip link del tap1 failed"
has "$(zcctl show -j tap1)" '"ifindex":0'
$IP tuntap add tap1 mode tap || fail "ip tuntap add tap1 again failed"
has "$(zcctl show -j tap1)" "\"ifindex\":$(cat /sys/class/net/tap1/ifindex)"
ok zcctl unbind tap1

# --- the message level: malformed requests, no permission ---
/selftests/bin/zc_nl malformed tap1 "$vf1" || fail "zc_nl malformed (above)"
/selftests/bin/zc_nl perms tap0 "$vf1" || fail "zc_nl perms (above)"
j=$(show_j)
[ "$(ports "$j")" = 1 ] || fail "zc_nl changed the ports: $j"

# --- rmmod with a port bound; a new module starts empty ---
rmmod vhost_zc || fail "rmmod vhost_zc with a port bound failed"
vzc_insmod || fail "insmod vhost_zc again failed"
j=$(show_j)
[ "$j" = "[]" ] || fail "a fresh module has ports: $j"
rmmod vhost_zc || fail "rmmod vhost_zc failed"
echo 0 >"$pf/sriov_numvfs"
echo "zc_control: bind/unbind/show, 9 refusals, attach, netns, VF down/up, tap gone, zc_nl"
