// SPDX-License-Identifier: GPL-2.0-only
//! Network types, independent of vhost and of the NIC.
//!
//! - [`eth`]: Ethernet addresses.
//! - the virtio-net header and RX buffer planning (from `virtio_net`,
//!   re-exported here: `net::HeaderSplit`, `net::plan_rx`, ...).

pub mod eth;
mod virtio_net;

#[allow(unused_imports)]
pub use self::virtio_net::{
    plan_rx, HeaderSplit, RxChain, RxPlan, HDR_LEN, HDR_MRG_LEN, NUM_BUFFERS_OFF, UIO_MAXIOV,
};
