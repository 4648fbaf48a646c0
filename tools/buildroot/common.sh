# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers of the build-root and VM scripts. Sourced, not executed.

VZC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=versions.env
. "$VZC_TOP/tools/buildroot/versions.env"
VZC_CACHE=${VZC_CACHE:-/var/cache/vhost-zc}
VZC_DEBS="$VZC_CACHE/debs"
# The root is keyed by the pinned inputs (versions.env, including ROOT_RECIPE):
# editing them makes a new root; old ones stay until removed by hand.
VZC_ROOT_KEY=$(sha256sum <"$VZC_TOP/tools/buildroot/versions.env" | cut -c1-12)
VZC_ROOT="$VZC_CACHE/root-$VZC_ROOT_KEY"

vzc_t0=${vzc_t0:-$(date +%s)}
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - vzc_t0 ))" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a long command in the background, printing a progress line every 30 s so
# nobody stares at a silent terminal; its output goes to $2 and its tail is shown on failure.
run_logged() {
	local what=$1 logf=$2; shift 2
	local start pid rc
	start=$(date +%s)
	log "$what (log: $logf)"
	"$@" >"$logf" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if (( ($(date +%s) - start) % 30 < 5 )); then
			log "  ... $what: $(( $(date +%s) - start ))s so far; last: $(tail -c 200 "$logf" | tr '\n\r' '  ' | tail -c 100)"
		fi
	done
	wait "$pid"; rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$logf" >&2
		die "$what failed (exit $rc), full log: $logf"
	fi
	log "$what done in $(( $(date +%s) - start ))s"
}

# Run a command inside the build root with /proc, /dev, the repo (/src) and the
# cache (/cache) mounted. Each call gets a private mount namespace, so the
# mounts vanish with the command: nothing to unmount, and concurrent calls
# (two kernel builds, a module build) cannot pull mounts from under each other.
in_root() {
	local root=$VZC_ROOT
	[ -d "$root/usr" ] || die "build root $root missing; run tools/buildroot/mkroot.sh"
	mkdir -p "$root/src" "$root/cache"
	unshare --mount --propagation private -- /bin/sh -ec '
		root=$1; top=$2; cache=$3; shift 3
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mount --bind "$top" "$root/src"
		mount --bind "$cache" "$root/cache"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
	' in_root "$root" "$VZC_TOP" "$VZC_CACHE" "$@"
}
