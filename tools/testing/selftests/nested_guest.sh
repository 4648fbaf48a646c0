#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A real QEMU inside the test VM (nested KVM) boots a Linux guest (L2:
# Debian's stock kernel, virtio-net) with -netdev tap,vhost=on, so QEMU
# itself opens /dev/vhost-net and drives it as in production. First served
# by vhost_zc (the gate), then by stock vhost_net (the reference: proves the
# setup, and gives the throughput to compare against). For each:
#   - ping guest->host (the guest reports L2-PING-OK) and host->guest;
#   - a 4 MiB random file each way over HTTP (busybox httpd/wget on both
#     sides), md5 compared on both ends;
#   - for vhost_zc: rx_packets and tx_packets in
#     /sys/kernel/vhost_zc/devices/*/ are > 0 while QEMU runs, i.e. vhost_zc
#     carried the traffic, not QEMU's userspace virtio-net;
#   - iperf3 host->guest for 5 s (printed, a benchmark, not a gate);
#   - QEMU killed with SIGKILL during an iperf3 --bidir run, then the
#     provider module unloads (on the debug kernel the run's kmemleak scan
#     judges what the kill left behind).
# Then vhost_zc again with queues=2 (multiqueue): the same checks, one
# vhost_zc device per queue pair (busy polling, QEMU's poll-us, is not used
# here: see the note at run_guest). Last, vhost_zc with the NIC behind an emulated IOMMU
# (ACCESS_PLATFORM): the same checks, and IOTLB misses counted; then
# vhost_net behind it, the reference for that throughput.
# A configuration whose L2 guest resets (at any point), or whose kernel does
# not reach /init, is reported and run again, up to 3 tries
# (run_guest_tries): the nested setup does that now and then with either
# provider (stock vhost_net twice in a row once).
# The L2 kernel, initramfs and QEMU are added to the initramfs by
# nested_guest.payload. Without nested KVM in this VM the test skips.
. /selftests/lib.sh
qemu=/usr/bin/qemu-system-x86_64
iperf=/usr/bin/iperf3
host_ip=169.254.100.1 guest_ip=169.254.100.2

[ -f /nested/vmlinuz ] && [ -f /nested/initramfs.gz ] || fail "no /nested payload (run.sh did not run nested_guest.payload?)"
$qemu --version >/tmp/qv 2>&1 || { cat /tmp/qv; fail "$qemu does not run (missing library?)"; }
echo "$(head -n 1 /tmp/qv)"

# Nested KVM: SVM must be visible (TCG's -cpu max offers it) and kvm_amd load.
grep -qw svm /proc/cpuinfo || skip "no svm flag in this VM's CPU: no nested KVM"
modprobe kvm_amd 2>/tmp/kvm.err || skip "modprobe kvm_amd failed: $(cat /tmp/kvm.err)"
[ -c /dev/kvm ] || skip "/dev/kvm absent after modprobe kvm_amd"
# Can QEMU create a KVM VM here at all? If not, this is the environment,
# not vhost: skip rather than fail.
echo quit | timeout 30 $qemu -M none -accel kvm -nodefaults -display none -monitor stdio >/tmp/probe 2>&1 ||
	skip "QEMU cannot use KVM in this VM: $(tail -n 3 /tmp/probe | tr '\n' ' ')"

# KVM's side of an L2 reset, for l2_report: the shutdown exit (a triple
# fault, SVM_EXIT_SHUTDOWN = 127) with the guest RIP, exits on intercepted
# exceptions (64..95, but #PF, 78: all of shadow paging's) and the
# exceptions KVM injected. All rare, so cheap.
# L2 runs with nokaslr, so l2_sym can name the RIPs (stock kernel).
tr=/sys/kernel/debug/tracing
if [ -w $tr/events/kvm/kvm_exit/filter ]; then
	echo 'exit_reason == 127 || (exit_reason >= 64 && exit_reason < 96 && exit_reason != 78)' >$tr/events/kvm/kvm_exit/filter &&
		echo 1 >$tr/events/kvm/kvm_exit/enable && echo 1 >$tr/events/kvm/kvm_inj_exception/enable ||
		echo "note: no KVM tracing (l2_report will lack KVM's side)"
else
	tr=
	echo "note: no tracefs: l2_report will lack KVM's side of a reset"
fi

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
grep -q vhost /tmp/control.err || { cat /tmp/control.err; fail "control: QEMU failed for another reason (above)"; }
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

# Whether QEMU still runs: one that exited is a zombie until waited for;
# kill -0 still succeeds on it, its state letter does not.
qemu_alive() {
	case $(cut -d' ' -f3 "/proc/$qpid/stat" 2>/dev/null) in "" | Z) return 1 ;; esac
}

# The first match of the extended regex $1 in the L2 console log $l2log,
# waiting up to $2 s; fails early if QEMU died or the guest stopped.
wait_l2() {
	w=0
	while [ $w -lt "$2" ]; do
		m=$(grep -Eo "$1" "$l2log" 2>/dev/null | head -n 1)
		[ -z "$m" ] || { echo "$m"; return 0; }
		qemu_alive || return 1
		[ $((w % 10)) != 9 ] || ! l2_stopped || return 1
		sleep 1
		w=$((w + 1))
	done
	return 1
}
# QEMU's human monitor, on two FIFOs: commands in (one per argument), their
# text out (whatever came within 2 s).
mon() {
	for c in "$@"; do echo "$c"; done >"$mon.in"
	(timeout 2 cat "$mon.out") 2>/dev/null | tr -d '\r' | grep -v '^(qemu)\|^QEMU .* monitor'
}

# The guest's side of both rings, read from guest memory through the
# monitor (vhost owns the device, so QEMU's own indices are stale): avail
# flags, idx and used_event; used flags, idx and avail_event. For a stalled
# data path, next to vhost_zc's state this says who waits for whom. Without
# a vIOMMU only (ring addresses are IOVAs behind one).
ring_dump() {
	[ -p "$mon.in" ] && [ -z "$viommu" ] && qemu_alive || return 0
	path=/machine/peripheral/nic0/virtio-backend
	# "queue num avail used" per ring.
	rings=$(mon "info virtio-queue-status $path 0" "info virtio-queue-status $path 1" |
		awk '$1 == "queue_index:" {q = $2} $1 == "num:" {n[q] = $2}
			$1 == "avail:" {a[q] = $2} $1 == "used:" {u[q] = $2}
			END {for (q in n) print q, n[q], a[q], u[q]}')
	[ -n "$rings" ] || { echo "guest rings: no status from QEMU's monitor"; return 0; }
	echo "$rings" | while read -r q num av us; do
		# Four lines back, in order: avail flags+idx, used_event, used
		# flags+idx, avail_event.
		mon "xp /2hx $av" "xp /1hx $(printf 0x%x $((av + 4 + 2 * num)))" \
			"xp /2hx $us" "xp /1hx $(printf 0x%x $((us + 4 + 8 * num)))" |
			awk -F': ' -v q="$q" -v n="$num" 'NF > 1 {v[++i] = $2}
				END {split(v[1], a, " "); split(v[3], u, " ")
				printf "guest ring %s (num %s): avail flags %s idx %s used_event %s; used flags %s idx %s avail_event %s\n",
					q, n, a[1], a[2], v[2], u[1], u[2], v[4]}'
	done
}

# Whether the L2 guest stopped: one that reset itself (a triple fault) is
# paused, not gone (-action reboot=shutdown,shutdown=pause).
l2_stopped() {
	[ -p "$mon.in" ] && qemu_alive || return 1
	case $(mon "info status") in *shutdown* | *paused*) return 0 ;; esac
	return 1
}

# l2_sym RIP: the L2 kernel function at RIP (L2 boots with nokaslr, the
# same kernel as L1 on the stock flavor), from L1's kallsyms shifted by
# L1's KASLR offset. The low 32 bits suffice (kernel text, below 0xc0000000)
# and stay exact in awk's doubles.
l2_sym() {
	awk -v rip="$1" '
	function h(s,  i, v) {
		s = tolower(substr(s, length(s) - 7)); v = 0
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	$3 == "_text" { off = h($1) - h("81000000"); next }
	NF == 3 && ($2 == "t" || $2 == "T") { a[NR] = $1; n[NR] = $3 }
	END {
		want = h(rip) + off
		for (i in a) { v = h(a[i]); if (v <= want && v > best) { best = v; name = n[i] } }
		if (name == "") print "?"; else printf "%s+0x%x\n", name, want - best
	}' /proc/kallsyms
}

# Where a stopped guest's CPUs stood says what broke.
l2_state() {
	[ -p "$mon.in" ] && qemu_alive || return 0
	st=$(mon "info status")
	echo "L2 $st"
	case $st in *shutdown* | *paused*) ;; *) return 0 ;; esac
	for c in 0 1; do
		mon "cpu $c" "info registers" "x/8i \$pc" | grep -v '^$' | head -n 40
	done
}

# What a failed configuration leaves to read: CPUs, rings, counters, the
# guest's console, QEMU's stderr.
l2_report() {
	l2_state
	if [ -n "$tr" ]; then
		echo "--- KVM trace (shutdown and exception exits, injected exceptions), last lines:"
		grep -v '^#' $tr/trace | tail -n 20 | tee /tmp/kvm-trace
		# On the stock kernel L2 runs L1's own kernel: name each RIP.
		if tr -d '\r' <"$l2log" 2>/dev/null | grep -qx "L2-BOOTED $(uname -r)"; then
			for rip in $(grep -o 'rip 0x[0-9a-f]*' /tmp/kvm-trace | sort -u | cut -c7-); do
				echo "rip $rip: $(l2_sym "$rip")"
			done
		fi
	fi
	ring_dump
	for d in /sys/kernel/vhost_zc/devices/*/; do
		[ -d "$d" ] || continue
		echo "vhost_zc $d: $(cd "$d" && grep . * | tr '\n' ' ')"
	done
	echo "--- L2 console ($l2log), last lines:"
	tail -n 30 "$l2log" 2>/dev/null
	echo "--- QEMU stderr:"
	cat "/tmp/qemu-$tag.err" 2>/dev/null
}

# A failed check. If the guest stopped (reset) meanwhile, that is what
# broke, and it is retried (l2_retry) like a reset anywhere else.
# The vhost_net reference is not what is tested: any failure of it is
# retried the same way.
l2_fail() {
	l2_report
	! l2_stopped || l2_retry "the guest stopped (reset or crash; above) while the test waited: $*"
	[ "$prov" != vhost_net ] || l2_retry "the reference failed: $*"
	fail "$tag: $*"
}

# Ends this try of the configuration when the L2 guest reset itself, or its
# kernel never reached /init: the nested setup (L1 under TCG) does both now
# and then, with either provider (Documentation/testing.rst, "Known
# problems"). Up to 3 tries; the report is already printed. The third fails
# vhost_zc; for the vhost_net reference it only costs this run its numbers
# (ratio n/a): the reference is not what is tested. Exits run_guest's
# subshell: 75 asks run_guest_tries for another try.
l2_retry() {
	if [ "$try" -ge 3 ]; then
		[ "$prov" = vhost_net ] || fail "$tag: $1, in all 3 tries"
		echo "$tag: REFERENCE LOST: $1, in all 3 tries; no vhost_net numbers in this run"
		l2_teardown
		echo "mbps_$tag=0 mbps_r_$tag=0" >>"$vars"
		exit 0
	fi
	echo "$tag: RETRY: $1; running this configuration again (try $((try + 1)) of 3)"
	l2_teardown
	exit 75
}

# Ends a configuration: QEMU (if still there), the tap, the provider module.
# The vhost worker and the file's last reference go with the killed
# process, but its exit can finish after wait returns: allow 10 s.
l2_teardown() {
	if [ -n "$qpid" ]; then
		kill -9 $qpid 2>/dev/null
		wait $qpid 2>/dev/null
		qpid=
	fi
	/usr/sbin/ip link del vt0
	i=0
	case $prov in
	vhost_zc) until rmmod vhost_zc 2>/tmp/rmmod.err; do
			i=$((i + 1))
			[ $i -lt 20 ] || fail "rmmod vhost_zc fails 10 s after QEMU was SIGKILLed: $(cat /tmp/rmmod.err)"
			sleep 0.5
		done ;;
	vhost_net) until modprobe -r vhost_net 2>/tmp/rmmod.err; do
			i=$((i + 1))
			[ $i -lt 20 ] || fail "modprobe -r vhost_net fails 10 s after QEMU was SIGKILLed: $(cat /tmp/rmmod.err)"
			sleep 0.5
		done ;;
	esac
	[ ! -e /dev/vhost-net ] || fail "/dev/vhost-net still present after unloading $prov"
}

# run_guest in a subshell, so that fail and l2_retry can end it from
# anywhere; again while it asks for another try (exit 75). Its numbers come
# back through $vars.
vars=/tmp/nested.vars
: >"$vars"
retries=0
run_guest_tries() {
	try=1
	while :; do
		(run_guest "$@")
		rc=$?
		case $rc in
		0) break ;;
		75) try=$((try + 1)) retries=$((retries + 1)) ;;
		*) exit $rc ;;
		esac
	done
	. "$vars"
}

# iperf3 client against the guest (output in /tmp/iperf.out); once more if
# the guest's server was restarting (it restarts itself, see l2-init).
iperf_c() {
	timeout 40 $iperf -c $guest_ip "$@" >/tmp/iperf.out 2>&1 && return 0
	rc=$?
	grep -q "unable to connect" /tmp/iperf.out || return $rc
	echo "$tag: iperf3 could not connect ($(grep -o 'Connection refused\|No route to host' /tmp/iperf.out | head -n 1)); again in 2 s"
	sleep 2
	timeout 40 $iperf -c $guest_ip "$@" >/tmp/iperf.out 2>&1
}

# Sum of counter $1 over all vhost_zc devices.
zc_sum() {
	s=0
	for f in /sys/kernel/vhost_zc/devices/*/"$1"; do
		[ -r "$f" ] || continue
		s=$((s + $(cat "$f")))
	done
	echo $s
}

# run_guest PROVIDER QUEUES [viommu]: the whole flow against one
# /dev/vhost-net provider, with QUEUES queue pairs (multiqueue: one
# /dev/vhost-net open per pair, a multi_queue tap, and as many L2 vCPUs so
# the guest uses them all). viommu: the guest's NIC sits behind an emulated
# Intel IOMMU (q35, intel-iommu, iommu_platform=on), so QEMU acks
# VIRTIO_F_ACCESS_PLATFORM and feeds vhost's IOTLB from its misses.
# Records mbps_<tag> (host->guest) and mbps_r_<tag> (guest->host) in $vars.
run_guest() {
	prov=$1 q=$2 viommu=${3:-}
	# A subshell does not inherit the script's EXIT trap: a failed try
	# takes its QEMU with it here.
	trap '[ -z "$qpid" ] || kill -9 "$qpid" 2>/dev/null' EXIT
	tag=$prov mq_tap= mq_netdev= mq_dev=
	machine="-M pc" append= iommu_dev= iommu_nic=
	if [ "$q" -gt 1 ]; then
		# No poll-us while the lost-guest incidents are open
		# (Documentation/testing.rst, "Known problems"); vhost_backends
		# tests busy polling.
		tag=${prov}_mq$q mq_tap=multi_queue mq_netdev=,queues=$q mq_dev=,mq=on,vectors=$((2 * q + 2))
	fi
	if [ -n "$viommu" ]; then
		tag=${tag}_viommu machine="-M q35,kernel-irqchip=split" append=" intel_iommu=on"
		iommu_dev="-device intel-iommu,intremap=on,device-iotlb=on" iommu_nic=,disable-legacy=on,iommu_platform=on,ats=on
	fi
	l2log=/tmp/l2-$tag.log
	case $prov in
	vhost_zc) vzc_insmod || fail "insmod vhost_zc failed" ;;
	vhost_net) modprobe vhost_net || fail "modprobe vhost_net failed" ;;
	esac
	[ -c /dev/vhost-net ] || fail "$prov loaded but no /dev/vhost-net"

	/usr/sbin/ip tuntap add dev vt0 mode tap $mq_tap || fail "cannot create tap vt0"
	/usr/sbin/ip addr add $host_ip/24 dev vt0
	/usr/sbin/ip link set vt0 up
	mon=/tmp/mon-$tag
	rm -f "$l2log" "$mon.in" "$mon.out"
	mkfifo "$mon.in" "$mon.out"
	[ -z "$tr" ] || : >$tr/trace
	start=$(date +%s)
	# -cpu qemu64 and modern-pio-notify=on: what proved reliable nested under
	# TCG (see toolchain notes); romfile= and -nodefaults: no option ROMs.
	# shellcheck disable=SC2086 # $machine and $iommu_dev are option lists
	$qemu $machine -accel kvm -cpu qemu64 -m 256 -smp "$q" -nodefaults -vga none \
		-display none -monitor pipe:"$mon" -action reboot=shutdown,shutdown=pause $iommu_dev \
		-kernel /nested/vmlinuz -initrd /nested/initramfs.gz \
		-append "console=ttyS0 panic=-1 quiet nokaslr$append" \
		-serial "file:$l2log" \
		-netdev tap,id=n1,ifname=vt0,script=no,downscript=no,vhost=on$mq_netdev \
		-device virtio-net-pci,id=nic0,netdev=n1,mac=52:54:00:12:34:56,romfile=,modern-pio-notify=on$mq_dev$iommu_nic \
		</dev/null >"/tmp/qemu-$tag.err" 2>&1 &
	qpid=$!

	# Before /init, the guest has not loaded virtio-net: no ring is set up,
	# nothing vhost does can have hurt it yet.
	if ! wait_l2 'L2-BOOTED' 150 >/dev/null; then
		qemu_alive || l2_fail "QEMU exited while the guest booted"
		l2_report
		l2_stopped && l2_retry "the guest stopped (reset or crash; above) before it reached /init"
		l2_retry "the guest kernel did not reach /init in 150 s (before any vhost ring was set up)"
	fi
	g2h_md5=$(wait_l2 'L2-G2H-MD5 [0-9a-f]{32}' 90) || l2_fail "guest did not come up (no L2-G2H-MD5)"
	g2h_md5=${g2h_md5#L2-G2H-MD5 }
	echo "$tag: guest up after $(( $(date +%s) - start ))s"
	grep -q "L2-ERROR" "$l2log" && l2_fail "guest reported $(grep -o 'L2-ERROR.*' "$l2log" | head -n 1)"

	# Host->guest ping; the guest's stack may still be settling: retry.
	i=0
	until ping -c 1 -W 2 $guest_ip >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 30 ] || l2_fail "host->guest ping fails"
	done
	ping -c 3 -W 2 $guest_ip >/tmp/ping.out 2>&1 || { cat /tmp/ping.out; l2_fail "host->guest ping: lost packets after the first reply"; }
	echo "$tag: ping host->guest: $(grep 'packets transmitted' /tmp/ping.out)"
	r=$(wait_l2 'L2-PING-(OK|FAIL)' 90) || l2_fail "guest never reported its ping"
	[ "$r" = L2-PING-OK ] || l2_fail "guest->host ping failed"
	echo "$tag: ping guest->host: ok"

	# Guest->host transfer.
	i=0
	until wget -q -O /tmp/g2h.bin http://$guest_ip:8080/g2h.bin; do
		i=$((i + 1))
		[ $i -lt 10 ] || l2_fail "cannot fetch g2h.bin from the guest"
		sleep 1
	done
	got=$(md5sum /tmp/g2h.bin | cut -d' ' -f1)
	[ "$got" = "$g2h_md5" ] || l2_fail "guest->host transfer corrupt: md5 $got, guest sent $g2h_md5 ($(wc -c </tmp/g2h.bin) bytes)"
	echo "$tag: guest->host 4 MiB md5 $got ok"

	# Host->guest transfer (the guest fetches h2g.bin from our httpd).
	r=$(wait_l2 'L2-H2G-(MD5 [0-9a-f]{32}|FAIL)' 120) || l2_fail "guest never reported the host->guest transfer"
	[ "$r" != L2-H2G-FAIL ] || l2_fail "guest could not fetch h2g.bin"
	[ "${r#L2-H2G-MD5 }" = "$h2g_md5" ] || l2_fail "host->guest transfer corrupt: guest md5 ${r#L2-H2G-MD5 }, host $h2g_md5"
	echo "$tag: host->guest 4 MiB md5 $h2g_md5 ok"

	if [ "$prov" = vhost_zc ]; then
		# Read while QEMU still holds the device: the directory goes with it.
		# The transfers above are done; iperf3 below does not count here.
		ndev=$(ls -d /sys/kernel/vhost_zc/devices/*/ 2>/dev/null | wc -l)
		[ "$ndev" = "$q" ] || fail "$tag: $ndev vhost_zc devices while QEMU runs with $q queue pair(s); expected one per pair"
		for d in /sys/kernel/vhost_zc/devices/*/; do
			echo "$tag: $d: rx_packets $(cat "$d/rx_packets") tx_packets $(cat "$d/tx_packets") rx_bytes $(cat "$d/rx_bytes") tx_bytes $(cat "$d/tx_bytes") rx_dropped $(cat "$d/rx_dropped") tx_dropped $(cat "$d/tx_dropped") tx_errors $(cat "$d/tx_errors")"
		done
		rx=$(zc_sum rx_packets) tx=$(zc_sum tx_packets) rxb=$(zc_sum rx_bytes) txb=$(zc_sum tx_bytes)
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
			[ "$m" -gt 0 ] || fail "$tag: no IOTLB miss: QEMU did not use vhost_zc's IOTLB (ACCESS_PLATFORM not negotiated?)"
		fi
	fi

	# Benchmark only: the numbers are printed, not judged. iperf3 has no
	# deadline of its own when the data path stops (seen once with vhost_zc:
	# the client never returned), hence timeout; the ping below then judges
	# whether the data path survived the load.
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
			echo "$tag: after iperf3: $d: rx_packets $(cat "$d/rx_packets") tx_packets $(cat "$d/tx_packets") rx_kicks $(cat "$d/rx_kicks") tx_kicks $(cat "$d/tx_kicks") rx_calls $(cat "$d/rx_calls") tx_calls $(cat "$d/tx_calls") rx_dropped $(cat "$d/rx_dropped") tx_dropped $(cat "$d/tx_dropped") rx_errors $(cat "$d/rx_errors") tx_errors $(cat "$d/tx_errors")"
			# Ring state, for a data path that stalls: next avail/used
			# index and 1 + the avail index a blocked run waits beyond.
			echo "$tag: ring state: $d: rx avail $(cat "$d/rx_last_avail") used $(cat "$d/rx_last_used") blocked_at $(cat "$d/rx_blocked_at"); tx avail $(cat "$d/tx_last_avail") used $(cat "$d/tx_last_used") blocked_at $(cat "$d/tx_blocked_at")"
		done
	fi
	[ "$prov" != vhost_zc ] || ring_dump
	ping -c 3 -W 2 $guest_ip >/tmp/ping.out 2>&1 || { cat /tmp/ping.out; l2_fail "host->guest ping fails after iperf3: the data path did not survive the load"; }
	echo "$tag: ping after iperf3: $(grep 'packets transmitted' /tmp/ping.out)"
	echo "mbps_$tag=${mbps:-0} mbps_r_$tag=${mbps_r:-0}" >>"$vars"

	# SIGKILL during traffic: QEMU dies with packets in flight both ways
	# (kmemleak, on the debug kernel, then judges what it left behind).
	$iperf -c $guest_ip -t 30 -P $q --bidir >/dev/null 2>&1 &
	ipid=$!
	sleep 3
	before=$(zc_sum rx_packets)
	kill -9 $qpid
	wait $qpid 2>/dev/null
	qpid=
	kill $ipid 2>/dev/null
	wait $ipid 2>/dev/null
	[ "$prov" != vhost_zc ] || echo "$tag: SIGKILLed during iperf3 --bidir (rx_packets $before at the kill)"
	l2_teardown
	echo "$tag: QEMU SIGKILLed, $prov unloaded"
}

# "throughput LABEL: vhost_net N Mbit/s, vhost_zc Z Mbit/s, ratio Z/N".
ratio_line() {
	echo "throughput $1: vhost_net $2 Mbit/s, vhost_zc $3 Mbit/s, ratio $(awk "BEGIN { if ($2 > 0) printf \"%.2f\", $3 / $2; else print \"n/a\" }")"
}

run_guest_tries vhost_zc 1
run_guest_tries vhost_net 1
ratio_line "host->guest" "$mbps_vhost_net" "$mbps_vhost_zc"
ratio_line "guest->host" "$mbps_r_vhost_net" "$mbps_r_vhost_zc"
# Multiqueue: queues=2, i.e. two vhost_zc devices serving one NIC.
run_guest_tries vhost_zc 2
run_guest_tries vhost_net 2
ratio_line "queues=2 (iperf3 -P 2) host->guest" "$mbps_vhost_net_mq2" "$mbps_vhost_zc_mq2"
ratio_line "queues=2 (iperf3 -P 2) guest->host" "$mbps_r_vhost_net_mq2" "$mbps_r_vhost_zc_mq2"
# Behind a vIOMMU: VIRTIO_F_ACCESS_PLATFORM, the device IOTLB.
run_guest_tries vhost_zc 1 viommu
run_guest_tries vhost_net 1 viommu
ratio_line "behind a vIOMMU host->guest" "$mbps_vhost_net_viommu" "$mbps_vhost_zc_viommu"
ratio_line "behind a vIOMMU guest->host" "$mbps_r_vhost_net_viommu" "$mbps_r_vhost_zc_viommu"
echo "configuration tries repeated (L2 reset, boot hang, or a failed reference): $retries (RETRY above)"
