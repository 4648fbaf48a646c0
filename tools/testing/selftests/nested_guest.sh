#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A real QEMU inside the test VM (nested KVM) boots a Linux guest (L2:
# Debian's stock kernel, virtio-net) with -netdev tap,vhost=on, so QEMU
# itself opens /dev/vhost-net and drives it as in production. Each
# configuration (the table at the end) is served by vhost_zc (the gate),
# then by stock vhost_net (the reference: proves the setup, and gives the
# throughput to compare against). For each:
#   - ping guest->host (the guest reports L2-PING-OK) and host->guest;
#   - a 4 MiB random file each way over HTTP (busybox httpd/wget on both
#     sides), md5 compared on both ends;
#   - for vhost_zc: rx_packets and tx_packets in
#     /sys/kernel/vhost_zc/devices/*/ are > 0 while QEMU runs, i.e. vhost_zc
#     carried the traffic, not QEMU's userspace virtio-net (behind a vIOMMU:
#     IOTLB misses counted too);
#   - iperf3 both ways for 5 s (printed, a benchmark, not a gate);
#   - QEMU killed with SIGKILL during an iperf3 --bidir run, then the
#     provider module unloads (on the debug kernel the run's kmemleak scan
#     judges what the kill left behind).
# A configuration whose L2 guest resets, or never reaches /init, runs again
# (l2_retry in nested/lib.sh says when and how often). The QEMU and L2
# lifecycle is nested/lib.sh, the forensics nested/report.sh. The L2
# kernel, initramfs and QEMU are added to the initramfs by
# nested_guest.payload. Without nested KVM in this VM the test skips.
. /selftests/lib.sh
. /selftests/nested/lib.sh
. /selftests/nested/report.sh

[ -f /nested/vmlinuz ] && [ -f /nested/initramfs.gz ] ||
	fail "no /nested payload (run.sh did not run nested_guest.payload?)"
$qemu --version >/tmp/qv 2>&1 || { cat /tmp/qv; fail "$qemu does not run (missing library?)"; }
echo "$(head -n 1 /tmp/qv)"

# Nested KVM: SVM must be visible (TCG's -cpu max offers it) and kvm_amd load.
grep -qw svm /proc/cpuinfo || skip "no svm flag in this VM's CPU: no nested KVM"
modprobe kvm_amd 2>/tmp/kvm.err || skip "modprobe kvm_amd failed: $(cat /tmp/kvm.err)"
[ -c /dev/kvm ] || skip "/dev/kvm absent after modprobe kvm_amd"
# Can QEMU create a KVM VM here at all? If not, this is the environment,
# not vhost: skip rather than fail.
echo quit | timeout 30 $qemu -M none -accel kvm -nodefaults -display none -monitor stdio \
	>/tmp/probe 2>&1 ||
	skip "QEMU cannot use KVM in this VM: $(tail -n 3 /tmp/probe | tr '\n' ' ')"

kvm_trace
tun_dev
rmmod vhost_zc 2>/dev/null
modprobe -r vhost_net 2>/dev/null

# Control: with nobody serving /dev/vhost-net, QEMU must refuse vhost=on
# rather than fall back to its userspace virtio-net; otherwise a guest that
# works below would prove nothing about the provider. -S: never run the guest.
/usr/sbin/ip tuntap add dev vt0 mode tap || fail "cannot create tap vt0"
timeout 60 $qemu -M pc -accel kvm -cpu qemu64 -m 64 -nodefaults -vga none -display none \
	-monitor none -S -netdev tap,id=n1,ifname=vt0,script=no,downscript=no,vhost=on \
	-device virtio-net-pci,netdev=n1,romfile= </dev/null >/tmp/control.err 2>&1
rc=$?
/usr/sbin/ip link del vt0
# busybox timeout exits with the killed QEMU's status, 143.
case $rc in 0 | 124 | 143) fail "control: QEMU ran with vhost=on and no /dev/vhost-net" ;; esac
grep -q vhost /tmp/control.err ||
	{ cat /tmp/control.err; fail "control: QEMU failed for another reason (above)"; }
echo "control: without /dev/vhost-net QEMU refuses vhost=on: $(grep -m 1 vhost /tmp/control.err)"

mkdir -p /tmp/www
dd if=/dev/urandom of=/tmp/www/h2g.bin bs=1024 count=4096 2>/dev/null
h2g_md5=$(md5sum /tmp/www/h2g.bin | cut -d' ' -f1)
# Serves h2g.bin to the guest; bound to any address, so it is up before the tap.
httpd -f -p 8080 -h /tmp/www &
hpid=$!
sleep 1
kill -0 $hpid 2>/dev/null || fail "httpd failed to start"

qpid=
cleanup() {
	[ -z "$qpid" ] || kill -9 "$qpid" 2>/dev/null
	kill "$hpid" 2>/dev/null
	/usr/sbin/ip link del vt0 2>/dev/null
}
trap cleanup EXIT
: >"$vars"

# The guest is up (it printed the md5 of the file it serves) and healthy.
guest_up() {
	g2h_md5=$(wait_l2 'L2-G2H-MD5 [0-9a-f]{32}' 90) ||
		l2_fail "guest did not come up (no L2-G2H-MD5)"
	g2h_md5=${g2h_md5#L2-G2H-MD5 }
	echo "$tag: guest up after $(( $(date +%s) - start ))s"
	grep -q "L2-ERROR" "$l2log" &&
		l2_fail "guest reported $(grep -o 'L2-ERROR.*' "$l2log" | head -n 1)"
}

# Ping both ways.
pings() {
	# Host->guest; the guest's stack may still be settling: retry.
	i=0
	until ping -c 1 -W 2 $guest_ip >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 30 ] || l2_fail "host->guest ping fails"
	done
	ping -c 3 -W 2 $guest_ip >/tmp/ping.out 2>&1 || { cat /tmp/ping.out
		l2_fail "host->guest ping: lost packets after the first reply"; }
	echo "$tag: ping host->guest: $(grep 'packets transmitted' /tmp/ping.out)"
	r=$(wait_l2 'L2-PING-(OK|FAIL)' 90) || l2_fail "guest never reported its ping"
	[ "$r" = L2-PING-OK ] || l2_fail "guest->host ping failed"
	echo "$tag: ping guest->host: ok"
}

# 4 MiB each way over HTTP, md5 compared.
transfers() {
	# Guest->host.
	i=0
	until wget -q -O /tmp/g2h.bin http://$guest_ip:8080/g2h.bin; do
		i=$((i + 1))
		[ $i -lt 10 ] || l2_fail "cannot fetch g2h.bin from the guest"
		sleep 1
	done
	got=$(md5sum /tmp/g2h.bin | cut -d' ' -f1)
	[ "$got" = "$g2h_md5" ] || l2_fail "guest->host transfer corrupt: md5 $got," \
		"guest sent $g2h_md5 ($(wc -c </tmp/g2h.bin) bytes)"
	echo "$tag: guest->host 4 MiB md5 $got ok"

	# Host->guest (the guest fetches h2g.bin from our httpd).
	r=$(wait_l2 'L2-H2G-(MD5 [0-9a-f]{32}|FAIL)' 120) ||
		l2_fail "guest never reported the host->guest transfer"
	[ "$r" != L2-H2G-FAIL ] || l2_fail "guest could not fetch h2g.bin"
	[ "${r#L2-H2G-MD5 }" = "$h2g_md5" ] ||
		l2_fail "host->guest transfer corrupt: guest md5 ${r#L2-H2G-MD5 }, host $h2g_md5"
	echo "$tag: host->guest 4 MiB md5 $h2g_md5 ok"
}

# vhost_zc carried the transfers: its counters, read while QEMU still holds
# the device (the directory goes with it); iperf3 below does not count here.
zc_carried() {
	ndev=$(ls -d /sys/kernel/vhost_zc/devices/*/ 2>/dev/null | wc -l)
	[ "$ndev" = "$q" ] || fail "$tag: $ndev vhost_zc devices while QEMU runs" \
		"with $q queue pair(s); expected one per pair"
	for d in /sys/kernel/vhost_zc/devices/*/; do
		echo "$tag: $d: $(zc_counters "$d" rx_packets tx_packets rx_bytes tx_bytes \
			rx_dropped tx_dropped tx_errors)"
	done
	rx=$(zc_sum rx_packets) tx=$(zc_sum tx_packets)
	rxb=$(zc_sum rx_bytes) txb=$(zc_sum tx_bytes)
	[ "$rx" -gt 0 ] || fail "vhost_zc rx_packets is 0: it did not carry host->guest traffic"
	[ "$tx" -gt 0 ] || fail "vhost_zc tx_packets is 0: it did not carry guest->host traffic"
	# Each 4 MiB file crossed once: fewer bytes means QEMU carried some of it.
	[ "$rxb" -ge 4194304 ] || fail "vhost_zc rx_bytes $rxb < 4 MiB sent host->guest"
	[ "$txb" -ge 4194304 ] || fail "vhost_zc tx_bytes $txb < 4 MiB sent guest->host"
	if [ -n "$viommu" ]; then
		# QEMU answered vhost_zc's IOTLB misses: the traffic above ran
		# through IOVAs, not through the memory table.
		m=$(( $(zc_sum rx_iotlb_misses) + $(zc_sum tx_iotlb_misses) ))
		echo "$tag: IOTLB misses answered by QEMU: $m"
		[ "$m" -gt 0 ] || fail "$tag: no IOTLB miss: QEMU did not use vhost_zc's IOTLB" \
			"(ACCESS_PLATFORM not negotiated?)"
	fi
}

# Benchmark only: the numbers are printed (and recorded in $vars), not
# judged. iperf3 has no deadline of its own when the data path stops, hence
# iperf_c's timeout; the ping after it judges whether the data path
# survived the load.
bench() {
	iperf_c -t 5 -f m -P $q ||
		echo "$tag: iperf3 host->guest exited $? (143: killed after 40 s)"
	mbps=$(awk '/receiver/ {v = $(NF-2)} END {print v}' /tmp/iperf.out)
	[ -n "$mbps" ] || tail -n 5 /tmp/iperf.out
	iperf_c -t 5 -f m -R -P $q ||
		echo "$tag: iperf3 guest->host exited $? (143: killed after 40 s)"
	mbps_r=$(awk '/receiver/ {v = $(NF-2)} END {print v}' /tmp/iperf.out)
	[ -n "$mbps_r" ] || tail -n 5 /tmp/iperf.out
	echo "$tag: iperf3 host->guest ${mbps:-?} Mbit/s, guest->host ${mbps_r:-?} Mbit/s"
	qemu_alive || l2_fail "QEMU exited during iperf3"
	if l2_stopped; then
		l2_report
		l2_retry "the guest stopped during iperf3 (reset or crash; above)"
	fi
	if [ "$prov" = vhost_zc ]; then
		for d in /sys/kernel/vhost_zc/devices/*/; do
			echo "$tag: after iperf3: $d: $(zc_counters "$d" rx_packets tx_packets \
				rx_kicks tx_kicks rx_calls tx_calls rx_dropped tx_dropped \
				rx_errors tx_errors)"
			# Ring state, for a data path that stalls.
			echo "$tag: ring state: $d: rx $(zc_ring "$d" rx); tx $(zc_ring "$d" tx)"
		done
		ring_dump
	fi
	ping -c 3 -W 2 $guest_ip >/tmp/ping.out 2>&1 || { cat /tmp/ping.out
		l2_fail "host->guest ping fails after iperf3:" \
			"the data path did not survive the load"; }
	echo "$tag: ping after iperf3: $(grep 'packets transmitted' /tmp/ping.out)"
	echo "mbps_$tag=${mbps:-0} mbps_r_$tag=${mbps_r:-0}" >>"$vars"
}

# SIGKILL during traffic: QEMU dies with packets in flight both ways
# (kmemleak, on the debug kernel, then judges what it left behind); the
# provider must unload.
killed() {
	$iperf -c $guest_ip -t 30 -P $q --bidir >/dev/null 2>&1 &
	ipid=$!
	sleep 3
	before=$(zc_sum rx_packets)
	kill -9 $qpid
	wait $qpid 2>/dev/null
	qpid=
	kill $ipid 2>/dev/null
	wait $ipid 2>/dev/null
	[ "$prov" != vhost_zc ] ||
		echo "$tag: SIGKILLed during iperf3 --bidir (rx_packets $before at the kill)"
	l2_teardown
	echo "$tag: QEMU SIGKILLed, $prov unloaded"
}

# run_guest PROVIDER QUEUES [viommu]: one configuration, one try (run by
# run_guest_tries in a subshell); records mbps_<tag> (host->guest) and
# mbps_r_<tag> (guest->host) in $vars.
run_guest() {
	# A subshell does not inherit the script's EXIT trap: a failed try
	# takes its QEMU with it here.
	trap '[ -z "$qpid" ] || kill -9 "$qpid" 2>/dev/null' EXIT
	l2_start "$@"
	l2_booted
	guest_up
	pings
	transfers
	[ "$prov" != vhost_zc ] || zc_carried
	bench
	killed
}

# "throughput LABEL: vhost_net N Mbit/s, vhost_zc Z Mbit/s, ratio Z/N".
ratio_line() {
	echo "throughput $1: vhost_net $2 Mbit/s, vhost_zc $3 Mbit/s," \
		"ratio $(awk "BEGIN { if ($2 > 0) printf \"%.2f\", $3 / $2; else print \"n/a\" }")"
}

# pair QUEUES VIOMMU LABEL: a configuration on vhost_zc, then on the vhost_net
# reference, then their throughput ratios ("throughput LABEL host->guest ...").
pair() {
	run_guest_tries vhost_zc "$1" $2
	run_guest_tries vhost_net "$1" $2
	zc=$(config_tag vhost_zc "$1" $2) net=$(config_tag vhost_net "$1" $2)
	eval "ratio_line \"\${3}host->guest\" \"\$mbps_$net\" \"\$mbps_$zc\""
	eval "ratio_line \"\${3}guest->host\" \"\$mbps_r_$net\" \"\$mbps_r_$zc\""
}

# The six configurations, in pairs (vhost_zc, then vhost_net), in order.
# queues=2: two vhost_zc devices serving one NIC (multiqueue). viommu:
# VIRTIO_F_ACCESS_PLATFORM, the device IOTLB.
#    QUEUES VIOMMU  LABEL of the ratio lines
pair 1      ""      ""
pair 2      ""      "queues=2 (iperf3 -P 2) "
pair 1      viommu  "behind a vIOMMU "
echo "configuration tries repeated (L2 reset, boot hang, or a failed reference):" \
	"$retries (RETRY above)"
