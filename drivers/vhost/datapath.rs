// SPDX-License-Identifier: GPL-2.0-only

//! The copy data path between a split ring and the tap socket (upstream
//! `handle_tx` / `handle_rx` of drivers/vhost/net.c, without zero-copy TX
//! and XDP batching).
//!
//! Per packet: read the avail index and head (guest values, validated by the
//! core), walk the chain (`vzc_core::DescChain`: bounds, loops, indirect),
//! turn its segments into user iovecs through the memory table, move the
//! packet with one sendmsg/recvmsg, write the used element. The used index is
//! published and the guest signalled once per batch. Nothing allocates.

use core::cell::Cell;
use kernel::prelude::*;

use super::ring::{self, Guest, Log, RingMem, UserDescTable};
use crate::glue::socket::{iovec, BackendSocket, IoVec};
use crate::vzc_core::{
    net::{plan_rx, HeaderSplit, RxChain, RxPlan, NUM_BUFFERS_OFF, UIO_MAXIOV},
    virtio::{
        queue::{QueueError, QueueState, RingIo, SplitQueue},
        split::{used_elem, Notifier},
    },
    DescChain, Error, QueueSize, Segment, SegmentSink, SinkFull,
};

/// Packets per run before yielding to the other queue (`VHOST_NET_PKT_WEIGHT`).
const PKT_WEIGHT: usize = 256;
/// Bytes per run before yielding (`VHOST_NET_WEIGHT`).
const BYTE_WEIGHT: usize = 0x80000;

/// Why a queue stops working: the guest broke the ring.
#[derive(Debug, Clone, Copy)]
#[expect(
    dead_code,
    reason = "the fields are read through Debug, in the log line"
)]
pub(super) enum Broken {
    /// The avail index moved by more than the ring size.
    AvailJump,
    /// A head index is not below the ring size.
    BadHead(u16),
    /// The descriptor chain is malformed (loop, bounds, indirect rules …).
    Chain(crate::vzc_core::Error),
    /// A TX chain has device-writable buffers, or an RX chain readable ones.
    Direction,
    /// A TX packet is shorter than the header vhost must strip.
    ShortHeader,
    /// More iovecs than `UIO_MAXIOV` for one packet.
    TooManyIovecs,
    /// The rings are not readable/writable (fault on a ring address).
    RingFault,
    /// The dirty log could not be written.
    Log,
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

/// Per-device scratch space, allocated once (`UIO_MAXIOV` entries each).
/// The lists start empty and are filled by push within their capacity, so
/// they only ever hold segments the walker produced.
pub(super) struct Scratch {
    segs: KVec<Segment>,
    iov: KVec<IoVec>,
    heads: KVec<(u16, u32)>,
}

impl Scratch {
    pub(super) fn new() -> Result<Self> {
        Ok(Self {
            segs: KVec::with_capacity(UIO_MAXIOV, GFP_KERNEL)?,
            iov: KVec::with_capacity(UIO_MAXIOV, GFP_KERNEL)?,
            heads: KVec::with_capacity(UIO_MAXIOV, GFP_KERNEL)?,
        })
    }
}

/// The ring state the data path reads and advances.
pub(super) struct RingState<'a> {
    pub(super) size: QueueSize,
    pub(super) desc: u64,
    pub(super) avail: u64,
    pub(super) used: u64,
    /// How the three ring addresses reach memory.
    pub(super) mem: RingMem<'a>,
    /// Guest address of the used ring, when its writes are logged.
    pub(super) log_used: Option<u64>,
    pub(super) last_avail_idx: &'a mut u16,
    pub(super) last_used_idx: &'a mut u16,
    pub(super) notifier: &'a mut Notifier,
    pub(super) event_idx: bool,
    pub(super) log: Option<Log>,
    /// The guest's avail index as last read: what notifications are armed
    /// against (upstream `vq->avail_idx`).
    pub(super) avail_seen: Cell<u16>,
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

/// The core's engine (`vzc_core::virtio::queue`) over this ring: its
/// indices live in the `Vring` (borrowed here), so each operation copies
/// them into a [`SplitQueue`] and back.
impl RingState<'_> {
    fn queue(&self) -> SplitQueue {
        SplitQueue::new(
            self.size,
            self.event_idx,
            QueueState {
                last_avail_idx: *self.last_avail_idx,
                last_used_idx: *self.last_used_idx,
                avail_seen: self.avail_seen.get(),
                notifier: *self.notifier,
            },
        )
    }

    fn sync(&mut self, q: &SplitQueue) {
        let s = q.state();
        *self.last_avail_idx = s.last_avail_idx;
        *self.last_used_idx = s.last_used_idx;
        self.avail_seen.set(s.avail_seen);
        *self.notifier = s.notifier;
    }

    /// Buffers the guest made available and we have not taken.
    fn pending(&self) -> Result<u16, Broken> {
        let mut q = self.queue();
        let n = q.pending(self).map_err(broken)?;
        self.avail_seen.set(q.avail_seen());
        Ok(n)
    }

    /// The head at avail position `pos`, validated against the ring size.
    fn head_at(&self, pos: u16) -> Result<u16, Broken> {
        self.queue().head_at(self, pos).map_err(broken)
    }

    /// Asks the guest to kick for buffers beyond the ones seen; `true` if it
    /// added some meanwhile (`SplitQueue::enable_notify`).
    fn enable_notify(&mut self) -> Result<bool, Broken> {
        let mut q = self.queue();
        let r = q.enable_notify(&*self);
        self.sync(&q);
        r.map_err(broken)
    }

    /// Writes a used element at the next used slot.
    fn add_used(&mut self, id: u16, len: u32) -> Result<(), Broken> {
        let mut q = self.queue();
        let r = q.add_used(&*self, id, len);
        self.sync(&q);
        r.map_err(broken)
    }

    /// Publishes the used index (after the elements) and says whether to
    /// signal the guest.
    fn publish(&mut self) -> Result<bool, Broken> {
        let mut q = self.queue();
        let r = q.publish(&*self);
        self.sync(&q);
        r.map_err(broken)
    }
}

/// The engine's errors as the worker reports them.
fn broken(e: QueueError<Broken>) -> Broken {
    match e {
        QueueError::Io(b) => b,
        QueueError::AvailJump => Broken::AvailJump,
        QueueError::BadHead(h) => Broken::BadHead(h),
    }
}

/// The rings as the owner's user memory (`ring::get_u16`/`put_u16`: one
/// 16-bit access each); a failed access is `RingFault`, a failed dirty-log
/// write `Log`.
impl RingIo for RingState<'_> {
    type Error = Broken;

    fn read_avail_u16(&self, off: u64) -> Result<u16, Broken> {
        ring::get_u16(&self.mem, self.avail, off).map_err(|_| Broken::RingFault)
    }

    fn write_used_u16(&self, off: u64, v: u16) -> Result<(), Broken> {
        ring::put_u16(&self.mem, self.used, off, v).map_err(|_| Broken::RingFault)
    }

    fn write_used_elem(&self, off: u64, id: u16, len: u32) -> Result<(), Broken> {
        ring::put(&self.mem, self.used, off, &used_elem(id, len)).map_err(|_| Broken::RingFault)
    }

    fn log_used(&self, off: u64, len: u64) -> Result<(), Broken> {
        if let (Some(log), Some(gpa)) = (self.log, self.log_used) {
            let gpa = gpa.checked_add(off).ok_or(Broken::Log)?;
            let at = self.used.checked_add(off).ok_or(Broken::Log)?;
            self.mem
                .log_write(&log, at, gpa, len)
                .map_err(|_| Broken::Log)?;
        }
        Ok(())
    }
}

/// A scratch list of segments: full at its capacity (`UIO_MAXIOV`), as the
/// fixed array before it was.
impl SegmentSink for KVec<Segment> {
    fn push_segment(&mut self, seg: Segment) -> Result<(), SinkFull> {
        self.push_within_capacity(seg).map_err(|_| SinkFull)
    }
}

/// Appends iovecs for `len` bytes of segment `seg`, skipping its first `skip`.
fn push_iov(
    g: &Guest<'_>,
    iov: &mut KVec<IoVec>,
    seg: &Segment,
    skip: u64,
    len: u64,
) -> Result<(), Broken> {
    if len == 0 {
        return Ok(());
    }
    let gpa = seg.gpa().checked_add(skip).ok_or(Broken::RingFault)?;
    for piece in g.xlate(gpa, len, seg.writable()) {
        let p = piece.map_err(Broken::Chain)?;
        iov.push_within_capacity(iovec(p.addr(), p.len()))
            .map_err(|_| Broken::TooManyIovecs)?;
    }
    Ok(())
}

/// Writes `data` at byte `offset` of the buffer formed by `segs` (the
/// header vhost owns, or `num_buffers`), through the memory table.
fn write_segs(
    g: &Guest<'_>,
    segs: &[Segment],
    mut offset: u64,
    mut data: &[u8],
) -> Result<(), Broken> {
    for seg in segs {
        if data.is_empty() {
            break;
        }
        let l = u64::from(seg.len());
        if offset >= l {
            offset -= l;
            continue;
        }
        let n = core::cmp::min(l - offset, data.len() as u64);
        let gpa = seg.gpa() + offset;
        let mut done = 0usize;
        for piece in g.xlate(gpa, n, true) {
            let p = piece.map_err(Broken::Chain)?;
            let addr = usize::try_from(p.addr()).map_err(|_| Broken::RingFault)?;
            let k = p.len() as usize;
            crate::glue::user::write_bytes(addr, &data[done..done + k])
                .map_err(|_| Broken::RingFault)?;
            done += k;
        }
        data = &data[n as usize..];
        offset = 0;
    }
    if data.is_empty() {
        Ok(())
    } else {
        Err(Broken::ShortHeader)
    }
}

/// Guest → tap.
pub(super) fn handle_tx(
    r: &mut RingState<'_>,
    g: &Guest<'_>,
    sock: &BackendSocket,
    hs: HeaderSplit,
    s: &mut Scratch,
    c: &mut Counts,
) -> Result<Outcome, Broken> {
    let table = UserDescTable {
        addr: r.desc,
        size: r.size,
        mem: r.mem,
    };
    let mut added = 0usize;
    let mut outcome = Outcome::Idle;
    let mut bytes = 0usize;
    loop {
        if added >= PKT_WEIGHT || bytes >= BYTE_WEIGHT {
            outcome = Outcome::More;
            break;
        }
        if r.pending()? == 0 {
            if r.enable_notify()? {
                continue;
            }
            break;
        }
        let head = r.head_at(*r.last_avail_idx)?;
        s.segs.clear();
        let sum = match DescChain::new(&table, g, head).collect_into(&mut s.segs) {
            Ok(sum) => sum,
            // An IOTLB miss: nothing is taken; userspace is asked for the
            // mapping and its update runs the ring again.
            Err(Error::IotlbMiss) => {
                outcome = Outcome::Blocked;
                break;
            }
            Err(e) => return Err(Broken::Chain(e)),
        };
        if sum.writable != 0 {
            return Err(Broken::Direction);
        }
        let total = u64::from(sum.read_bytes);
        let hlen = hs.vhost_hlen as u64;
        if total < hlen {
            return Err(Broken::ShortHeader);
        }
        // Gather the chain, minus the header vhost strips (if it owns it).
        s.iov.clear();
        let mut skip = hlen;
        for seg in &s.segs[..sum.readable] {
            let l = u64::from(seg.len());
            let k = core::cmp::min(skip, l);
            skip -= k;
            // The walk checked every segment: a miss cannot happen here.
            push_iov(g, &mut s.iov, seg, k, l - k)?;
        }
        let len = (total - hlen) as usize;
        match sock.send(&s.iov, len) {
            Ok(_) => {
                c.packets += 1;
                c.bytes += (len - hs.sock_hlen.min(len)) as u64;
            }
            // Retryable: leave the buffer in the ring. A full socket wakes
            // us with EPOLLOUT when it drains; a socket that is writable
            // (the send failed for memory) raises no wake-up, so the ring
            // goes round again, as upstream's re-poll does
            // (vhost_net_enable_vq). Blocking here stalled TX for good.
            Err(e) if e == EAGAIN || e == ENOBUFS || e == ENOMEM => {
                c.waits += 1;
                outcome = if sock.writable() {
                    Outcome::More
                } else {
                    Outcome::Blocked
                };
                break;
            }
            // Anything else is this packet's fault: drop it, as upstream.
            Err(_) => c.dropped += 1,
        }
        *r.last_avail_idx = r.last_avail_idx.wrapping_add(1);
        r.add_used(head, 0)?;
        added += 1;
        bytes += len;
    }
    if added > 0 && r.publish()? {
        c.signalled = true;
    }
    Ok(outcome)
}

/// Tap → guest.
pub(super) fn handle_rx(
    r: &mut RingState<'_>,
    g: &Guest<'_>,
    sock: &BackendSocket,
    hs: HeaderSplit,
    s: &mut Scratch,
    c: &mut Counts,
) -> Result<Outcome, Broken> {
    let table = UserDescTable {
        addr: r.desc,
        size: r.size,
        mem: r.mem,
    };
    let quota = if hs.mergeable { UIO_MAXIOV } else { 1 };
    let mut added = 0usize;
    // Packets taken or dropped: drops count toward the weight too, as
    // upstream's, so a stream of undeliverable packets still yields.
    let mut pkts = 0usize;
    let mut bytes = 0usize;
    let mut outcome = Outcome::Idle;
    loop {
        if pkts >= PKT_WEIGHT || bytes >= BYTE_WEIGHT {
            outcome = Outcome::More;
            break;
        }
        // The socket's next frame; it arrives behind `sock_hlen` bytes of
        // virtio-net header (IFF_VNET_HDR), and vhost may add its own.
        let plen = sock.peek_len();
        if plen == 0 {
            break;
        }
        let sock_len = plen + hs.sock_hlen;
        let datalen = u32::try_from(sock_len + hs.vhost_hlen).unwrap_or(u32::MAX);

        // Take chains until the packet fits (the core decides), keeping
        // their segments back to back in `s.segs`.
        let mut avail_n = r.pending()?;
        let mut cursor = *r.last_avail_idx;
        let mut nsegs = 0usize;
        let mut fail: Option<Broken> = None;
        s.segs.clear();
        s.heads.clear();
        let plan = plan_rx(datalen, quota, || {
            if avail_n == 0 {
                match r.pending() {
                    Ok(n) => avail_n = n.wrapping_sub(cursor.wrapping_sub(*r.last_avail_idx)),
                    Err(e) => {
                        fail = Some(e);
                        return None;
                    }
                }
                if avail_n == 0 {
                    return None;
                }
            }
            let head = match r.head_at(cursor) {
                Ok(h) => h,
                Err(e) => {
                    fail = Some(e);
                    return None;
                }
            };
            let sum = match DescChain::new(&table, g, head).collect_into(&mut s.segs) {
                Ok(sum) => sum,
                Err(e) => {
                    fail = Some(Broken::Chain(e));
                    return None;
                }
            };
            if s.heads
                .push_within_capacity((head, sum.write_bytes))
                .is_err()
            {
                fail = Some(Broken::TooManyIovecs);
                return None;
            }
            nsegs += sum.count();
            cursor = cursor.wrapping_add(1);
            avail_n -= 1;
            Some(RxChain {
                head,
                readable: sum.readable,
                write_bytes: sum.write_bytes,
            })
        });
        match fail {
            // An IOTLB miss in a chain: nothing is taken (see handle_tx).
            Some(Broken::Chain(Error::IotlbMiss)) => {
                outcome = Outcome::Blocked;
                break;
            }
            Some(e) => return Err(e),
            None => {}
        }
        let (nheads, last_len) = match plan {
            RxPlan::Ready { heads, last_len } => (heads, last_len),
            RxPlan::Wait { .. } => {
                // Out of buffers: the packet stays queued; a guest kick
                // brings us back (unless buffers arrived meanwhile).
                c.waits += 1;
                if r.enable_notify()? {
                    continue;
                }
                outcome = Outcome::Blocked;
                break;
            }
            RxPlan::TooBig { .. } => {
                // No amount of buffers within quota holds it: drop it.
                let _ = sock.discard();
                c.dropped += 1;
                pkts += 1;
                continue;
            }
            RxPlan::BadChain => return Err(Broken::Direction),
        };

        // Scatter list over the bytes the plan uses, minus the header vhost
        // writes itself (if it owns it); every written byte is logged.
        s.iov.clear();
        let mut left = u64::from(datalen);
        let mut skip = hs.vhost_hlen as u64;
        for seg in &s.segs[..nsegs] {
            if left == 0 {
                break;
            }
            let l = core::cmp::min(u64::from(seg.len()), left);
            let k = core::cmp::min(skip, l);
            push_iov(g, &mut s.iov, seg, k, l - k)?;
            if let Some(log) = r.log {
                g.log_write(&log, seg.gpa(), l).map_err(|_| Broken::Log)?;
            }
            skip -= k;
            left -= l;
        }
        match sock.recv(&s.iov, sock_len) {
            Ok(n) if n == sock_len => {}
            // Raced with another reader or the packet changed: the buffers
            // were not consumed; go on, as upstream.
            _ => {
                c.dropped += 1;
                pkts += 1;
                continue;
            }
        }
        let segs = &s.segs[..nsegs];
        if hs.vhost_hlen > 0 {
            // vhost owns the header: a plain one (no offloads).
            let hdr = [0u8; crate::vzc_core::net::HDR_MRG_LEN];
            write_segs(g, segs, 0, &hdr[..hs.vhost_hlen])?;
        }
        if hs.mergeable {
            let n = nheads as u16;
            write_segs(g, segs, NUM_BUFFERS_OFF as u64, &n.to_le_bytes())?;
        }
        for (i, &(head, wbytes)) in s.heads[..nheads].iter().enumerate() {
            let len = if i + 1 == nheads { last_len } else { wbytes };
            r.add_used(head, len)?;
        }
        *r.last_avail_idx = r.last_avail_idx.wrapping_add(nheads as u16);
        added += nheads;
        pkts += 1;
        bytes += plen;
        c.packets += 1;
        c.bytes += plen as u64;
    }
    if added > 0 && r.publish()? {
        c.signalled = true;
    }
    Ok(outcome)
}
