// SPDX-License-Identifier: GPL-2.0-only

//! Network hardware drivers of the module, and what they share.
//!
//! - `provider` — the [`provider::RxBufferProvider`] trait an RX ring takes
//!   its buffers from, with its contract (NIC-agnostic);
//! - `igbvf` — the 82576 SR-IOV VF.

pub(crate) mod igbvf;
pub(crate) mod provider;
