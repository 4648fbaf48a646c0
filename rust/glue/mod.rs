// SPDX-License-Identifier: GPL-2.0-only

//! Safe wrappers over kernel APIs that the upstream `kernel` crate lacks.
//!
//! Every `unsafe` block of the module lives under this directory; the rest of
//! the module (drivers/) is safe Rust.

mod ffi;
pub(crate) mod pci;
pub(crate) mod sysfs;
