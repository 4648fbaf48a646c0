// SPDX-License-Identifier: GPL-2.0-only

//! vhost-zc: a drop-in `vhost_net` with zero-copy RX through SR-IOV VFs.
//!
//! Crate root of `vhost_zc.ko`. One `mod` per concern:
//! - `vzc_core` — kernel-independent logic (virtio rings, memory table), the
//!   `no_std` cargo crate under `rust/vzc_core`, tested in userspace too;
//! - `glue` — safe wrappers over kernel APIs the `kernel` crate lacks; the only
//!   place with `unsafe`;
//! - `vhost` — `/dev/vhost-net` (misc minor 238) and its ioctl ABI;
//! - `control` — the generic netlink family `vhost_zc`: ports (tap -> VF);
//! - `net` — hardware drivers: `net::igbvf`, the 82576 SR-IOV VF;
//! - `kunit` — KUnit suites that run the core inside the kernel.

use kernel::prelude::*;

/// The `no_std` core, compiled in from its cargo crate (see Documentation/build.rst).
/// `pub` so that its public API counts as reachable (kernel lint `unreachable_pub`).
#[path = "../rust/vzc_core/src/lib.rs"]
pub mod vzc_core;

#[path = "../rust/glue/mod.rs"]
mod glue;

mod control;
mod net;
mod zc;

#[cfg(CONFIG_KUNIT)]
mod kunit;

mod vhost;

module! {
    type: VhostZc,
    name: "vhost_zc",
    authors: ["vhost-zc developers"],
    description: "vhost-net with zero-copy RX through SR-IOV VFs",
    license: "GPL",
    // What udev and kmod ask for when /dev/vhost-net is opened (as vhost_net).
    alias: ["char-major-10-238", "devname:vhost-net"],
    params: {
        vf_polled: bool {
            default: false,
            description: "VF driver: poll the rings instead of using MSI-X (tests the fallback)",
        },
        vf_inject_probe_fail: u32 {
            default: 0,
            description: "VF driver, testing: the first N VF probes after loading fail at their last step (ENOMEM)",
        },
    },
}

/// Version shown in `/sys/kernel/vhost_zc/version`; kept equal to
/// `rust/vzc_core/Cargo.toml` by `make check`.
const VERSION: &CStr = c"0.1.0";

/// The misc minor of `/dev/vhost-net` (`VHOST_NET_MINOR`).
const VHOST_NET_MINOR: u32 = kernel::bindings::VHOST_NET_MINOR;

#[pin_data(PinnedDrop)]
struct VhostZc {
    /// The generic netlink family `vhost_zc`; unregistered first on unload,
    /// so no handler runs while the rest goes.
    _netlink: glue::genl::Family,
    #[pin]
    vhost_net: glue::miscdev::Registration<vhost::VhostNet>,
    sysfs: glue::sysfs::SysfsRoot,
    /// The 82576 VF driver; unregistered on unload, which unbinds every VF.
    #[pin]
    vf_driver: kernel::driver::Registration<kernel::pci::Adapter<net::igbvf::IgbVfDriver>>,
}

impl kernel::InPlaceModule for VhostZc {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        glue::global::init();
        try_pin_init!(Self {
            _netlink: glue::genl::Family::register()?,
            sysfs: glue::sysfs::SysfsRoot::new(VERSION)?,
            vhost_net <- glue::miscdev::Registration::register(
                c"vhost-net",
                VHOST_NET_MINOR,
                c"minor 238 is taken: unload vhost_net (and blacklist it) to use vhost_zc",
            ),
            vf_driver <- kernel::driver::Registration::new(net::igbvf::DRIVER_NAME, module),
        })
        .pin_chain(|_| {
            pr_info!("{} loaded\n", VERSION.to_str().unwrap_or("?"));
            Ok(())
        })
    }
}

#[pinned_drop]
impl PinnedDrop for VhostZc {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("unloaded\n");
    }
}
