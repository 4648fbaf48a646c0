// SPDX-License-Identifier: GPL-2.0-only

//! Safe wrappers over kernel APIs that the upstream `kernel` crate lacks.
//!
//! Every `unsafe` block of the module lives under this directory; the rest of
//! the module (drivers/) is safe Rust.
//!
//! C header: `rust/glue/vzc_shim.h`, the shim for what the kernel offers only
//! as macros or inlines (declared in `ffi.rs`); each module names its own.

pub(crate) mod dwork;
pub(crate) mod eventfd;
mod ffi;
pub(crate) mod genl;
pub(crate) mod global;
pub(crate) mod irq;
pub(crate) mod miscdev;
pub(crate) mod pci;
pub(crate) mod pin;
pub(crate) mod poll;
pub(crate) mod socket;
pub(crate) mod stats;
pub(crate) mod sysfs;
pub(crate) mod user;
pub(crate) mod worker;
