// SPDX-License-Identifier: GPL-2.0-only

//! Zero-copy: what a vhost-net device holds for its port on the VF.
//!
//! - `pinned_mem` — the device's guest memory, pinned long-term and charged
//!   to the owner's RLIMIT_MEMLOCK while its port wants it
//!   (`vzc_core::control::port::Port::wants_pins`).
//!
//! The rest of the path (DMA mapping, posting guest buffers to the VF,
//! completions) plugs in here (Documentation/architecture.rst).

pub(crate) mod pinned_mem;
