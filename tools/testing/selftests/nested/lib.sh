# SPDX-License-Identifier: GPL-2.0-only
# nested_guest's QEMU and L2 guest lifecycle, sourced by nested_guest.sh
# after /selftests/lib.sh. A configuration (nested_guest.sh's run_guest) runs
# in a subshell per try; the state of the one that runs:
#   prov   its /dev/vhost-net provider: vhost_zc or vhost_net
#   tag    its name (vhost_zc, vhost_net_mq2, vhost_zc_viommu, ...), which
#          starts its output lines and names its numbers in $vars
#   q      its queue pairs; viommu: "viommu" if the NIC is behind a vIOMMU
#   qpid   the L2 QEMU's pid while it runs
#   l2log  the L2 console log; mon: the monitor's FIFOs ($mon.in, $mon.out)
#   try    which try this is (1..3, run_guest_tries)
qemu=/usr/bin/qemu-system-x86_64
iperf=/usr/bin/iperf3
host_ip=169.254.100.1 guest_ip=169.254.100.2
# The numbers of every configuration (mbps_<tag>, mbps_r_<tag>), as shell
# assignments: a try's subshell cannot set the test's variables.
vars=/tmp/nested.vars

# config_tag PROVIDER QUEUES [viommu]: the configuration's name.
config_tag() {
	_t=$1
	[ "$2" -le 1 ] || _t=${_t}_mq$2
	[ -z "${3:-}" ] || _t=${_t}_viommu
	echo "$_t"
}

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

# Whether the L2 guest stopped: one that reset itself (a triple fault) is
# paused, not gone (-action reboot=shutdown,shutdown=pause).
l2_stopped() {
	[ -p "$mon.in" ] && qemu_alive || return 1
	case $(mon "info status") in *shutdown* | *paused*) return 0 ;; esac
	return 1
}

# l2_start PROVIDER QUEUES [viommu]: load the provider, make the tap and
# boot the L2 guest (QEMU in the background, $qpid). QUEUES > 1: multiqueue,
# one /dev/vhost-net open per pair, a multi_queue tap, and as many L2 vCPUs
# so that the guest uses them all. viommu: the NIC behind an emulated Intel
# IOMMU (q35, intel-iommu, iommu_platform=on), so QEMU acks
# VIRTIO_F_ACCESS_PLATFORM and feeds vhost's IOTLB from its misses.
l2_start() {
	prov=$1 q=$2 viommu=${3:-}
	tag=$(config_tag "$prov" "$q" "$viommu")
	mq_tap='' mq_netdev='' mq_dev='' machine="-M pc" append='' iommu_dev='' iommu_nic=''
	if [ "$q" -gt 1 ]; then
		# No poll-us (QEMU's busy polling) here: Documentation/testing.rst,
		# "Known problems"; vhost_backends tests busy polling.
		mq_tap=multi_queue mq_netdev=,queues=$q mq_dev=,mq=on,vectors=$((2 * q + 2))
	fi
	if [ -n "$viommu" ]; then
		machine="-M q35,kernel-irqchip=split" append=" intel_iommu=on"
		iommu_dev="-device intel-iommu,intremap=on,device-iotlb=on"
		iommu_nic=,disable-legacy=on,iommu_platform=on,ats=on
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
	[ -z "$tr" ] || : >"$tr/trace"
	start=$(date +%s)
	# -cpu qemu64 and modern-pio-notify=on: the setup that runs nested under
	# TCG (Documentation/testing.rst, "A nested guest"); romfile= and
	# -nodefaults: no option ROMs.
	nic=virtio-net-pci,id=nic0,netdev=n1,mac=52:54:00:12:34:56,romfile=,modern-pio-notify=on
	# shellcheck disable=SC2086 # $machine and $iommu_dev are option lists
	$qemu $machine -accel kvm -cpu qemu64 -m 256 -smp "$q" -nodefaults -vga none \
		-display none -monitor pipe:"$mon" -action reboot=shutdown,shutdown=pause \
		$iommu_dev \
		-kernel /nested/vmlinuz -initrd /nested/initramfs.gz \
		-append "console=ttyS0 panic=-1 quiet nokaslr$append" \
		-serial "file:$l2log" \
		-netdev tap,id=n1,ifname=vt0,script=no,downscript=no,vhost=on$mq_netdev \
		-device "$nic$mq_dev$iommu_nic" \
		</dev/null >"/tmp/qemu-$tag.err" 2>&1 &
	qpid=$!
}

# l2_booted: the guest's /init started (L2-BOOTED) within 150 s, else this
# try ends (l2_retry). Before /init the guest has not loaded virtio-net: no
# ring is set up, nothing vhost does can have hurt it yet.
l2_booted() {
	wait_l2 'L2-BOOTED' 150 >/dev/null && return 0
	qemu_alive || l2_fail "QEMU exited while the guest booted"
	l2_report
	l2_stopped && l2_retry "the guest stopped (reset or crash; above) before it reached /init"
	l2_retry "the guest kernel did not reach /init in 150 s (before any vhost ring was set up)"
}

# A failed check (the words of the message: arguments, joined by spaces).
# If the guest stopped (reset) meanwhile, that is what broke, and it is
# retried (l2_retry) like a reset anywhere else. The vhost_net reference is
# not what is tested: any failure of it is retried the same way.
l2_fail() {
	l2_report
	! l2_stopped ||
		l2_retry "the guest stopped (reset or crash; above) while the test waited: $*"
	[ "$prov" != vhost_net ] || l2_retry "the reference failed: $*"
	fail "$tag: $*"
}

# The retry rule: a configuration whose L2 guest stopped (reset) at any
# point, or whose kernel never reached /init, and any failure of the
# vhost_net reference, ends this try (the report is already printed) and
# runs again, up to 3 tries. The third fails vhost_zc; for the vhost_net
# reference it only costs this run its numbers (REFERENCE LOST, ratio n/a).
# Why: Documentation/testing.rst, "Known problems". Exits run_guest's
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
	case $prov in
	vhost_zc) unload="rmmod vhost_zc" ;;
	vhost_net) unload="modprobe -r vhost_net" ;;
	esac
	i=0
	until $unload 2>/tmp/rmmod.err; do
		i=$((i + 1))
		[ $i -lt 20 ] ||
			fail "$unload fails 10 s after QEMU was SIGKILLed: $(cat /tmp/rmmod.err)"
		sleep 0.5
	done
	[ ! -e /dev/vhost-net ] || fail "/dev/vhost-net still present after unloading $prov"
}

# run_guest_tries PROVIDER QUEUES [viommu]: run_guest in a subshell, so
# that fail and l2_retry can end it from anywhere; again while it asks for
# another try (exit 75). Its numbers come back through $vars; $retries
# counts the tries repeated.
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
	why=$(grep -o 'Connection refused\|No route to host' /tmp/iperf.out | head -n 1)
	echo "$tag: iperf3 could not connect ($why); again in 2 s"
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

# zc_counters DIR COUNTER...: "COUNTER VALUE ..." of vhost_zc device DIR.
zc_counters() {
	_d=$1 _out=
	shift
	for _c in "$@"; do _out="$_out${_out:+ }$_c $(cat "$_d/$_c")"; done
	echo "$_out"
}

# zc_ring DIR rx|tx: that ring's state in vhost_zc device DIR: next avail
# and used index and 1 + the avail index a blocked run waits beyond.
zc_ring() {
	echo "avail $(cat "$1/$2_last_avail") used $(cat "$1/$2_last_used")" \
		"blocked_at $(cat "$1/$2_blocked_at")"
}
