# SPDX-License-Identifier: GPL-2.0-only
#
# vhost-zc. The two commands (README.md):
#   make demo    boot a VM with the module and show what it does
#   make check   every test: core (cargo), module build + lints, VM selftests
#   make bench   host CPU work per RX packet, copy vs zero-copy (Documentation/benchmarks.rst)
#   make fuzz    every fuzz target of the core, 2 M executions each (Documentation/fuzzing.rst)
#
# Building the module for a host:
#   make KDIR=/lib/modules/$(uname -r)/build      (kernel tree with Rust metadata)
#   make                                          (KDIR defaults as below)
# Kbuild reads ./Kbuild, not this file, when it descends into this directory.

KREL := $(shell . tools/buildroot/versions.env && echo $$KREL)
RUNNING_BUILD := /lib/modules/$(shell uname -r)/build

.PHONY: all modules install check bench fuzz demo clean rust-metadata core-test

all: modules

# With no KDIR: the running kernel's tree if it carries the Rust metadata a
# Rust module needs, else the harness's stock $(KREL) tree in the build root.
modules:
ifneq ($(KDIR),)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
else
	@if [ -f $(RUNNING_BUILD)/rust/libkernel.rmeta ]; then \
		echo "building against the running kernel: $(RUNNING_BUILD)"; \
		$(MAKE) -C $(RUNNING_BUILD) M=$(CURDIR) modules; \
	else \
		echo "no KDIR, and $(RUNNING_BUILD) has no Rust metadata: building against the harness's stock $(KREL) tree (tools/buildroot)"; \
		tools/buildroot/build-module.sh stock; \
	fi
endif

# Install into the running kernel's (or KDIR's) module tree, with the
# modprobe.d file that makes /dev/vhost-net load vhost_zc instead of vhost_net.
INSTALL_KDIR := $(or $(KDIR),$(RUNNING_BUILD))
install:
	$(MAKE) -C $(INSTALL_KDIR) M=$(CURDIR) modules_install
	install -D -m 0644 tools/modprobe.d/vhost-zc.conf $(DESTDIR)/etc/modprobe.d/vhost-zc.conf
	depmod -a $(shell $(MAKE) -s -C $(INSTALL_KDIR) kernelrelease 2>/dev/null)

check:
	tools/testing/check.sh

bench:
	tools/bench/run.sh

fuzz:
	tools/fuzz/run.sh

demo:
	tools/testing/demo.sh

core-test:
	cd rust/vzc_core && cargo test

# Rust metadata for Debian's $(KREL) headers: unpack into
# /usr/src/linux-headers-$(KREL) on a host to build with KDIR pointing there.
rust-metadata:
	tools/buildroot/rust-metadata.sh

clean:
	rm -rf build
	cd rust/vzc_core && cargo clean
	cd tools/bench && cargo clean
