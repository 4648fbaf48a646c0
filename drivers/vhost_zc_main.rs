// SPDX-License-Identifier: GPL-2.0-only

//! vhost-zc: a drop-in `vhost_net` with zero-copy RX through SR-IOV VFs.
//!
//! Crate root of `vhost_zc.ko`. One `mod` per concern:
//! - `vzc_core` — kernel-independent logic (virtio rings, memory table), the
//!   `no_std` cargo crate under `rust/vzc_core`, tested in userspace too;
//! - `glue` — safe wrappers over kernel APIs the `kernel` crate lacks; the only
//!   place with `unsafe`;
//! - `kunit` — KUnit suites that run the core inside the kernel.

use kernel::prelude::*;

/// The `no_std` core, compiled in from its cargo crate (see Documentation/build.rst).
/// `pub` so that its public API counts as reachable (kernel lint `unreachable_pub`).
#[path = "../rust/vzc_core/src/lib.rs"]
pub mod vzc_core;

#[path = "../rust/glue/mod.rs"]
mod glue;

#[cfg(CONFIG_KUNIT)]
mod kunit;

module! {
    type: VhostZc,
    name: "vhost_zc",
    authors: ["vhost-zc developers"],
    description: "vhost-net with zero-copy RX through SR-IOV VFs",
    license: "GPL",
}

/// Version shown in `/sys/kernel/vhost_zc/version`; kept equal to
/// `rust/vzc_core/Cargo.toml` by `make check`.
const VERSION: &CStr = c"0.1.0";

struct VhostZc {
    _sysfs: glue::sysfs::SysfsRoot,
}

impl kernel::Module for VhostZc {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let sysfs = glue::sysfs::SysfsRoot::new(VERSION)?;
        pr_info!("{} loaded\n", VERSION.to_str().unwrap_or("?"));
        Ok(Self { _sysfs: sysfs })
    }
}

impl Drop for VhostZc {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
