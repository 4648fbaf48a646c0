// SPDX-License-Identifier: GPL-2.0-only

//! What a ring's packets are moved by: its backend, set with
//! `VHOST_NET_SET_BACKEND`, and the dispatchers the worker calls for a run
//! (upstream `handle_tx`, which picks `handle_tx_copy` or
//! `handle_tx_zerocopy`, and `handle_rx`).
//!
//! Today one backend: a tap socket, served by the copy engine in `tap.rs`.
//! The zero-copy backend plugs in as a second [`Backend`] variant with its
//! own engine; the dispatchers do what every engine shares (the descriptor
//! table before a run, publishing the used index and the signal decision
//! after it).

use kernel::prelude::*;

use super::guest_mem::{Guest, UserDescTable};
use super::vq::{Broken, RingState};
use super::worker::Kicker;
use crate::control::attach::Attachment;
use crate::glue::{
    poll::Polled,
    socket::{BackendSocket, IoVec},
};
use crate::vzc_core::{
    net::{HeaderSplit, UIO_MAXIOV},
    Segment, SegmentSink, SinkFull,
};

mod tap;

/// A ring's backend.
pub(super) enum Backend {
    /// A tun/tap, macvtap or AF_PACKET socket, polled for readiness (TX:
    /// writable, RX: readable); its packets are copied by the socket.
    Tap {
        sock: Polled<BackendSocket, Kicker>,
        /// A tun tap is registered with the control plane while it is
        /// the backend (a bound port then knows its device).
        tap_use: Option<Attachment>,
    },
}

impl Backend {
    /// Stops listening to the backend's readiness (before the worker stops).
    pub(super) fn stop(&mut self) {
        match self {
            Backend::Tap { sock, .. } => sock.stop(),
        }
    }

    /// Whether a packet waits to be received (tap: the socket's queue is
    /// not empty).
    pub(super) fn rx_ready(&self) -> bool {
        match self {
            Backend::Tap { sock, .. } => sock.file().peek_len() > 0,
        }
    }

    /// The device acked `features`: a bound port re-decides its mode.
    pub(super) fn set_features(&self, features: u64) {
        match self {
            Backend::Tap {
                tap_use: Some(a), ..
            } => a.set_features(features),
            Backend::Tap { tap_use: None, .. } => {}
        }
    }
}

/// What an engine works with during one run of a ring.
pub(super) struct Run<'r, 'a> {
    /// The ring, read and advanced by the engine.
    ring: &'r mut RingState<'a>,
    /// The ring's descriptor table.
    table: UserDescTable<'a>,
    /// Guest memory, where the buffers are.
    guest: &'r Guest<'a>,
    /// Who owns the virtio-net header: vhost, the socket, or neither.
    hdr: HeaderSplit,
    scratch: &'r mut Scratch,
    /// What the run did.
    counts: &'r mut Counts,
    /// The used position when the run began: the elements the engine
    /// wrote are those from here to the ring's `last_used_idx`.
    used_from: u16,
}

impl<'r, 'a> Run<'r, 'a> {
    /// A run of `ring` over `guest`, reporting into `counts`.
    pub(super) fn new(
        ring: &'r mut RingState<'a>,
        guest: &'r Guest<'a>,
        hdr: HeaderSplit,
        scratch: &'r mut Scratch,
        counts: &'r mut Counts,
    ) -> Self {
        let table = UserDescTable {
            addr: ring.desc,
            size: ring.size(),
            mem: ring.io.mem,
        };
        let used_from = ring.queue.last_used_idx();
        Self {
            ring,
            table,
            guest,
            hdr,
            scratch,
            counts,
            used_from,
        }
    }

    /// Runs `engine`, then publishes the used elements it wrote with one
    /// used-index update and notes whether the guest is to be signalled.
    /// A run that broke the ring publishes nothing.
    fn with(
        mut self,
        engine: impl FnOnce(&mut Self) -> Result<Outcome, Broken>,
    ) -> Result<Outcome, Broken> {
        let outcome = engine(&mut self)?;
        if self.ring.queue.last_used_idx() != self.used_from && self.ring.publish()? {
            self.counts.signalled = true;
        }
        Ok(outcome)
    }
}

/// Guest → backend: one run of a TX ring (upstream `handle_tx`).
pub(super) fn handle_tx(backend: &Backend, run: Run<'_, '_>) -> Result<Outcome, Broken> {
    run.with(|run| match backend {
        Backend::Tap { sock, .. } => tap::handle_tx_copy(run, sock.file()),
    })
}

/// Backend → guest: one run of an RX ring (upstream `handle_rx`).
pub(super) fn handle_rx(backend: &Backend, run: Run<'_, '_>) -> Result<Outcome, Broken> {
    run.with(|run| match backend {
        Backend::Tap { sock, .. } => tap::handle_rx_copy(run, sock.file()),
    })
}

/// What a run did.
pub(super) enum Outcome {
    /// The queue is drained (or waits for the guest / the socket).
    Idle,
    /// The weight ran out with work left: run again after the other queue.
    More,
    /// Work is left but cannot proceed: TX, the socket is full (its
    /// writability wakes us); RX, a packet waits for more guest buffers
    /// than the ring holds now (a kick or a busy poll seeing new ones).
    Blocked,
}

/// Per-device scratch space of the engines, allocated once at
/// `VHOST_SET_OWNER` (`UIO_MAXIOV` entries each).
pub(super) struct Scratch {
    /// The segments of the chains a packet uses, back to back.
    segs: KVec<Segment>,
    /// The user iovecs of one packet.
    iov: KVec<IoVec>,
    /// The heads of the chains an RX packet uses, with their writable bytes.
    heads: KVec<(u16, u32)>,
}

impl Scratch {
    /// Allocates the space (`ENOMEM`).
    pub(super) fn new() -> Result<Self> {
        Ok(Self {
            segs: KVec::with_capacity(UIO_MAXIOV, GFP_KERNEL)?,
            iov: KVec::with_capacity(UIO_MAXIOV, GFP_KERNEL)?,
            heads: KVec::with_capacity(UIO_MAXIOV, GFP_KERNEL)?,
        })
    }
}

/// What a run did: counters for sysfs, and whether to signal the guest.
#[derive(Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) packets: u64,
    /// Frame bytes (without the virtio-net header).
    pub(super) bytes: u64,
    pub(super) dropped: u64,
    /// Times the run stopped short: TX, a send failed for a full socket or
    /// memory (retried); RX, too few guest buffers for the next packet.
    pub(super) waits: u64,
    /// The guest must be signalled (call eventfd).
    pub(super) signalled: bool,
}

/// A scratch list of segments: full at its capacity (`UIO_MAXIOV`), as the
/// fixed array before it was.
impl SegmentSink for KVec<Segment> {
    fn push_segment(&mut self, seg: Segment) -> Result<(), SinkFull> {
        self.push_within_capacity(seg).map_err(|_| SinkFull)
    }
}
