#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-static.sh: build zcctl as one static binary (glibc, crt-static) with
# the host's cargo, as check.sh's step 1 uses it, and print its path. The
# test VM's initramfs (tools/testing/vm/run.sh) takes it as /bin/zcctl: a
# static binary needs none of the build root's libraries. --target keeps
# crt-static off the proc-macros (clap's derive), which must stay dynamic.
set -euo pipefail
cd "$(dirname "$0")"
target=x86_64-unknown-linux-gnu
RUSTFLAGS="-C target-feature=+crt-static" nice -n 10 cargo build --release --locked -j 2 \
	--target "$target" >&2
bin=$PWD/target/$target/release/zcctl
# A dynamic binary would start in the VM only by luck of matching libraries.
if file "$bin" 2>/dev/null | grep -q 'dynamically linked'; then
	echo "error: $bin is not static" >&2
	exit 1
fi
echo "$bin"
