#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh [-k stock|debug] [-t TIMEOUT] [-L] TEST...
#   Boot the kernel of that flavor under QEMU (-M q35, -device igb with
#   SR-IOV), run the selftests TEST... inside with vhost_zc.ko at hand, and
#   judge the console log (parse-log.sh). A TEST is the name of
#   tools/testing/selftests/TEST.sh or a path to another script (the demo).
#   -L: also show the guest's console live on stdout.
# Prints one PASS/FAIL/SKIP line per test and exits non-zero if any failed.
set -euo pipefail
. "$(dirname "$0")/../../buildroot/common.sh"

flavor=stock timeout=1200 live=0
while getopts k:t:L o; do
	case $o in
	k) flavor=$OPTARG ;;
	t) timeout=$OPTARG ;;
	L) live=1 ;;
	*) die "usage: run.sh [-k stock|debug] [-t TIMEOUT] [-L] TEST..." ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || die "no selftest named"
st="$VZC_TOP/tools/testing/selftests"
tests=() extra=()
for t in "$@"; do
	if [ -f "$st/$t.sh" ]; then
		tests+=("$t")
	elif [ -f "$t" ]; then
		extra+=("$t")
		tests+=("$(basename "$t" .sh)")
	else
		die "no selftest $st/$t.sh"
	fi
done

kdir=$("$VZC_TOP/tools/buildroot/kernel.sh" "$flavor")
ko=$("$VZC_TOP/tools/buildroot/build-module.sh" "$flavor")
rel=$(cat "$kdir/release")

run=$(mktemp -d "$VZC_CACHE/run-$flavor.XXXXXX")
trap 'rm -rf "$run"' EXIT
crun=/cache/${run#"$VZC_CACHE"/}
ckdir=/cache/${kdir#"$VZC_CACHE"/}
mkdir -p "$VZC_TOP/build/logs"
log="$VZC_TOP/build/logs/vm-$flavor.log"

# --- initramfs: busybox, iproute2, the kernel's modules we need, the selftests ---
ir="$run/initramfs"
mkdir -p "$ir"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib/modules,selftests}
cp "$VZC_ROOT/usr/bin/busybox" "$ir/bin/busybox"
for a in $(chroot "$VZC_ROOT" /usr/bin/busybox --list); do
	[ -e "$ir/bin/$a" ] || ln -s busybox "$ir/bin/$a"
done
# iproute2's ip (busybox's lacks netns) and the kmod tools, with their libraries.
# busybox-static runs its own applets ahead of PATH, so tests call these by path.
mkdir -p "$ir/usr/sbin"
for b in /usr/bin/ip /usr/bin/kmod; do
	cp "$VZC_ROOT$b" "$ir/usr/sbin/"
	chroot "$VZC_ROOT" ldd "$b" | awk '/=>/ {print $3} /^\s*\/lib/ {print $1}' | while read -r l; do
		[ -n "$l" ] || continue
		mkdir -p "$ir$(dirname "$l")"
		cp -L "$VZC_ROOT$l" "$ir$l"
	done
done
for t in insmod rmmod modprobe modinfo lsmod depmod; do ln -sf kmod "$ir/usr/sbin/$t"; done
# Where the kernel's request_module() and modprobe.d "install" lines expect it.
ln -sf /usr/sbin/kmod "$ir/sbin/modprobe"
mkdir -p "$ir/lib64" && cp -L "$VZC_ROOT/lib64/ld-linux-x86-64.so.2" "$ir/lib64/"

# Modules the selftests may load, with their dependencies, decompressed.
mods="igb igbvf tun veth vhost_net macvtap vxlan bridge kvm_amd nf_tables nf_conntrack"
mkdir -p "$ir/lib/modules/$rel"
in_root sh -ec "
	cd $ckdir/image/lib/modules/$rel
	for m in $mods; do
		modprobe -d $ckdir/image -S $rel --show-depends \$m 2>/dev/null | awk '/^insmod/ {print \$2}'
	done | sort -u | while read -r f; do
		rel_f=\${f#$ckdir/image/lib/modules/$rel/}
		mkdir -p $crun/initramfs/lib/modules/$rel/\$(dirname \$rel_f)
		case \$f in
		*.xz) xz -dc \$f >$crun/initramfs/lib/modules/$rel/\${rel_f%.xz} ;;
		*.zst) zstd -qdc \$f >$crun/initramfs/lib/modules/$rel/\${rel_f%.zst} ;;
		*) cp \$f $crun/initramfs/lib/modules/$rel/\$rel_f ;;
		esac
	done
	cp modules.order modules.builtin modules.builtin.modinfo $crun/initramfs/lib/modules/$rel/ 2>/dev/null || true
	depmod -b $crun/initramfs $rel 2>&1 | { grep -v 'could not open modules' || true; }"

# C selftests: static binaries built in the root (gcc-14, trixie's uapi headers).
mkdir -p "$ir/selftests/bin"
for c in "$st"/*.c; do
	[ -e "$c" ] || continue
	b=$(basename "$c" .c)
	in_root gcc -static -O2 -Wall -Wextra -Werror -I/src/include/uapi -o "$crun/initramfs/selftests/bin/$b" \
		"/src/tools/testing/selftests/$b.c" || die "building selftest $b.c failed"
done

# zcctl, the control CLI (tools/zcctl): static, built on the host with its
# cargo; the selftests call it as zcctl (/bin/zcctl).
zcctl=$("$VZC_TOP/tools/zcctl/build-static.sh" 2>"$VZC_TOP/build/logs/zcctl-build.log") ||
	die "building zcctl failed (build/logs/zcctl-build.log)"
cp "$zcctl" "$ir/bin/zcctl"

# The kernel's own tools/virtio/vhost_net_test, built statically with the
# project's shims (cached). A failed build does not stop the other selftests:
# the vhost_net_test selftest then fails, naming the build log.
if vnt=$("$VZC_TOP/tools/testing/vhost_net_test/build.sh" "$flavor"); then
	cp "$vnt" "$ir/selftests/bin/vhost_net_test"
else
	log "warning: vhost_net_test did not build; the vhost_net_test selftest will fail"
fi

# A selftest that needs more than the above (nested_guest: QEMU, an L2
# kernel) brings an executable TEST.payload that adds it to the initramfs,
# so the other tests' VM stays small.
for t in "${tests[@]}"; do
	if [ -x "$st/$t.payload" ]; then
		log "adding $t's payload"
		"$st/$t.payload" "$ir" || die "$st/$t.payload failed"
	fi
done

cp "$ko" "$ir/vhost_zc.ko"
cp "$VZC_TOP/tools/testing/vm/init" "$ir/init"
cp "$st"/*.sh "$ir/selftests/"
# A test's own helpers live in a folder beside it (nested/: nested_guest's).
for d in "$st"/*/; do
	[ -d "$d" ] || continue
	mkdir -p "$ir/selftests/$(basename "$d")"
	cp "$d"*.sh "$ir/selftests/$(basename "$d")/"
done
for t in "${extra[@]}"; do cp "$t" "$ir/selftests/"; done
cp "$VZC_TOP"/tools/modprobe.d/*.conf "$ir/selftests/"
printf '%s\n' "${tests[@]}" >"$ir/selftests/list"
cat >"$ir/selftests/env" <<EOS
export VZC_KO=/vhost_zc.ko
export VZC_FLAVOR=$flavor
export VZC_RELEASE=$rel
EOS
# Who serves /dev/vhost-net in selftests that can target either (vhost_net_test).
if [ -n "${VHOST_PROVIDER:-}" ]; then echo "export VHOST_PROVIDER=$VHOST_PROVIDER" >>"$ir/selftests/env"; fi
in_root sh -c "cd $crun/initramfs && find . | cpio -o -H newc --quiet | gzip -1 > $crun/initramfs.cpio.gz"

# --- boot ---
# KVM only where a smoke boot of this kernel proves it works: on these hosts
# /dev/kvm is paravirtual (kvm_pvm) and fails on a stock kernel ("failed to
# set MSR"). The verdict is cached per kernel; VZC_ACCEL=tcg|kvm overrides.
accel=${VZC_ACCEL:-}
verdict="$kdir/accel"
if [ -z "$accel" ] && [ -f "$verdict" ]; then accel=$(cat "$verdict"); fi
if [ -z "$accel" ]; then
	accel=tcg
	if [ -c /dev/kvm ]; then
		log "smoke-booting $flavor with -accel kvm (once per kernel)"
		if in_root timeout 60 qemu-system-x86_64 -M q35 -accel kvm -cpu host -m 1024 -smp 1 \
			-nographic -no-reboot -kernel "$ckdir/vmlinuz" -initrd "$crun/initramfs.cpio.gz" \
			-append "console=ttyS0 panic=-1 vzc.smoke" </dev/null 2>&1 | grep -aq VZC-SMOKE-OK; then
			accel=kvm
		fi
	fi
	log "accelerator for $flavor: $accel"
	echo "$accel" >"$verdict"
fi
case $accel in
kvm) cpu=host ;;
# la57=off: with -cpu max the guest uses 5-level paging, and the debug
# kernel then intermittently reports a KASAN wild-memory-access from an
# interrupt taken during identify_cpu() at early boot (seen twice; never
# with 4-level paging). Unrelated to the module, which is not loaded yet.
*) accel=tcg cpu=max,la57=off ;;
esac
# -M q35 for PCIe extended config space (SR-IOV).
qemu=(qemu-system-x86_64 -M q35 -accel "$accel" -cpu "$cpu" -m 2048 -smp 2
	-nographic -no-reboot -kernel "$ckdir/vmlinuz" -initrd "$crun/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 loglevel=7 oops=panic"
	-d cpu_reset -D "/src/build/logs/qemu-$flavor.log"
	-netdev user,id=n0,restrict=on
	-device pcie-root-port,id=rp0,chassis=1
	-device igb,netdev=n0,bus=rp0)
log "booting $flavor kernel $rel: ${tests[*]} (console: $log)"
start=$(date +%s)
# A VM whose console says nothing for $silence seconds has frozen: a live
# guest prints far sooner (the longest quiet stretch measured is 37 s on the
# stock kernel; nested_guest's longest silent wait, an L2 boot, is 180 s;
# a stuck task gets hung-task and RCU stall reports every 20-120 s as long
# as any timer fires). Seen once under TCG: the guest's timers stopped
# firing (an RCU stall "timer wakeup didn't happen" on an idle CPU), then
# all output stopped and QEMU sat idle until the timeout. Stop it then.
silence=${VZC_VM_SILENCE:-600}
frozen=$run/frozen
watch_console() {
	local size last=-1 since=$SECONDS
	while sleep 10; do
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size since=$SECONDS
		elif (( SECONDS - since >= silence )); then
			touch "$frozen"
			pkill -TERM -f -- "-initrd $crun/initramfs.cpio.gz" || true
			return
		fi
	done
}
: >"$log"
watch_console &
watcher=$!
set +e
if [ "$live" = 1 ]; then
	in_root timeout "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
else
	in_root timeout "$timeout" "${qemu[@]}" </dev/null >"$log" 2>&1
fi
qrc=${PIPESTATUS[0]}
set -e
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
log "VM exited (rc $qrc) after $(( $(date +%s) - start ))s"
[ "$qrc" != 124 ] || echo "note: QEMU killed after the ${timeout}s timeout" >>"$log"
if [ -e "$frozen" ]; then
	echo "note: QEMU stopped: no console output for ${silence}s (the VM froze)" >>"$log"
	log "no console output for ${silence}s: the VM froze ($log)"
fi
# A guest that dies without a word: QEMU's reset log (-d cpu_reset) ends
# with "Triple fault" if that was it (with -no-reboot no reset follows, so
# no CPU state is logged for it).
qlog=$VZC_TOP/build/logs/qemu-$flavor.log
if ! grep -aq '^VZC-DONE' "$log" && grep -aq '^Triple fault' "$qlog" 2>/dev/null; then
	log "no end marker: the VM triple-faulted ($qlog)"
fi
"$VZC_TOP/tools/testing/vm/parse-log.sh" "$flavor" "$log"
