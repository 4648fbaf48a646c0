#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make demo`: build everything needed (cached after the first run), boot the
# stock Debian kernel in QEMU with the module and show what it does.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/buildroot/common.sh"
log "make demo: first run builds the Debian 13 build root and the stock kernel's Rust metadata (~5 min), later runs take ~30 s"
# Show the demo's own output: drop firmware noise, terminal escapes and the
# kernel's console messages (the demo quotes the relevant dmesg lines itself).
"$top/tools/testing/vm/run.sh" -k stock -L "$top/tools/testing/demo/in_vm.sh" |
	sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' |
	grep -av '^\[ *[0-9]*\.[0-9]*\] \|^VZC-\|SeaBIOS\|Probing EDD\|^iPXE\|^Booting\|^$' || true
grep -aq 'VZC-TEST-RESULT in_vm PASS' "$top/build/logs/vm-stock.log"
