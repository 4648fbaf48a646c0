// SPDX-License-Identifier: GPL-2.0-only

//! The vhost-net character device: `/dev/vhost-net`, minor 238.
//!
//! `net.rs` is the open file (device state and the ioctl ABI of upstream
//! `drivers/vhost/net.c` + `vhost.c`); argument decoding and validation live in
//! the core (`vzc_core::vhost::abi`) so they are tested in userspace.

mod datapath;
mod net;
mod ring;

pub(crate) use net::VhostNet;
