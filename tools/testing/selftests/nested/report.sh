# SPDX-License-Identifier: GPL-2.0-only
# nested_guest's forensics: what a failed or stopped L2 configuration leaves
# to read (l2_report), and the guest's side of its rings (ring_dump). Sourced
# by nested_guest.sh after nested/lib.sh (mon, qemu_alive); reads $tag,
# $l2log, $mon and $viommu of the configuration that runs, and $tr
# (tracefs, set by kvm_trace, empty without it).

# kvm_trace: KVM's side of an L2 reset, for l2_report: the shutdown exit (a
# triple fault, SVM_EXIT_SHUTDOWN = 127) with the guest RIP, exits on
# intercepted exceptions (64..95, but #PF, 78: all of shadow paging's) and
# the exceptions KVM injected. All rare, so cheap. Sets $tr.
kvm_trace() {
	tr=/sys/kernel/debug/tracing
	_filter='exit_reason == 127 ||'
	_filter="$_filter (exit_reason >= 64 && exit_reason < 96 && exit_reason != 78)"
	if [ -w $tr/events/kvm/kvm_exit/filter ]; then
		echo "$_filter" >$tr/events/kvm/kvm_exit/filter &&
			echo 1 >$tr/events/kvm/kvm_exit/enable &&
			echo 1 >$tr/events/kvm/kvm_inj_exception/enable ||
			echo "note: no KVM tracing (l2_report will lack KVM's side)"
	else
		tr=
		echo "note: no tracefs: l2_report will lack KVM's side of a reset"
	fi
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
				printf "guest ring %s (num %s):", q, n
				printf " avail flags %s idx %s used_event %s;", a[1], a[2], v[2]
				printf " used flags %s idx %s avail_event %s\n", u[1], u[2], v[4]}'
	done
}

# l2_sym RIP: the L2 kernel function at RIP (L2 boots with nokaslr, the
# same kernel as L1 on the stock flavor), from L1's kallsyms shifted by
# L1's KASLR offset. The low 32 bits suffice (kernel text, below 0xc0000000)
# and stay exact in awk's doubles.
l2_sym() {
	awk -v rip="$1" '
	function h(s,  i, v) {
		s = tolower(substr(s, length(s) - 7)); v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
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
		echo "--- KVM trace (shutdown and exception exits, injected exceptions)," \
			"last lines:"
		grep -v '^#' $tr/trace | tail -n 20 | tee /tmp/kvm-trace
		# On the stock kernel L2 runs L1's own kernel: name each RIP.
		if tr -d '\r' <"$l2log" 2>/dev/null | grep -qx "L2-BOOTED $(uname -r)"; then
			rips=$(grep -o 'rip 0x[0-9a-f]*' /tmp/kvm-trace | sort -u | cut -c7-)
			for rip in $rips; do echo "rip $rip: $(l2_sym "$rip")"; done
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
