// SPDX-License-Identifier: GPL-2.0-only
//! The split-ring engine: what the device does with the avail and used
//! rings besides walking chains (upstream `vhost_get_vq_desc`'s index
//! handling, `vhost_discard_vq_desc`, `vhost_enable_notify`,
//! `vhost_add_used_n` and `vhost_notify`).
//!
//! The engine owns the device's indices and its notification state; every
//! access to guest memory goes through a [`RingIo`] the caller implements
//! (the kernel over user memory, the tests and KUnit over the guest driver
//! of `mock::queue`). Each operation does a bounded number of accesses, nothing
//! allocates, and a guest value is validated before it is used: an avail
//! index that moved by more than the ring size, or a head not below it, is
//! an error, never an index.
//!
//! Used entries may be added in any order of their ids (zero-copy completes
//! buffers in the order the NIC fills them, not the order the guest offered
//! them) and several at a time before one [`SplitQueue::publish`]: the
//! guest sees the used index jump by that many, after all their elements.

use core::sync::atomic::{fence, Ordering};

use super::desc::{avail_pending, QueueSize};
use super::split::{avail, used, Notifier};

/// The device's accesses to one queue's avail and used rings, by byte
/// offset from the ring's base (the offsets come from [`avail`] and
/// [`used`]). The device only reads the avail ring and only writes the
/// used ring.
pub trait RingIo {
    /// Why an access failed; the engine hands it back unchanged in
    /// [`QueueError::Io`].
    type Error;

    /// Reads the little-endian `u16` at `off` in the avail ring with ONE
    /// 16-bit load. The guest moves its indices while we read them: a
    /// byte-wise copy may combine the old low byte with the new high one (an
    /// index up to 255 ahead of the truth: heads never published taken, or
    /// an "avail jump" on a healthy ring; it broke a 2-vCPU nested guest).
    fn read_avail_u16(&self, off: u64) -> Result<u16, Self::Error>;

    /// Writes the little-endian `u16` `v` at `off` in the used ring with ONE
    /// 16-bit store, so the guest never sees half an index.
    fn write_used_u16(&self, off: u64, v: u16) -> Result<(), Self::Error>;

    /// Writes the used element `{ id, len }` (8 bytes,
    /// [`used_elem`](super::split::used_elem)) at `off` in the used ring.
    /// The guest reads it only after the used index that publishes it, so
    /// it need not be one access.
    fn write_used_elem(&self, off: u64, id: u16, len: u32) -> Result<(), Self::Error>;

    /// Marks `len` bytes at `off` in the used ring dirty for live migration
    /// (a no-op when not logging). Called after every used-ring write.
    fn log_used(&self, off: u64, len: u64) -> Result<(), Self::Error>;
}

/// Why the engine stopped. Every variant but [`QueueError::Io`] means the
/// guest broke the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueError<E> {
    /// A ring access (or its dirty logging) failed.
    Io(E),
    /// The guest moved the avail index by more than the ring size.
    AvailJump,
    /// The avail ring holds a head that is not below the ring size.
    BadHead(u16),
}

/// [`SplitQueue::discard`] of more heads than are in flight: a bug of the
/// caller, not of the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotInFlight;

/// The engine's state kept between runs (upstream `vhost_virtqueue`'s
/// `last_avail_idx`, `last_used_idx`, `avail_idx`, `signalled_used`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueState {
    /// Next avail position the device takes a head from.
    pub last_avail_idx: u16,
    /// Next used position the device writes an element to; the used index
    /// the guest sees once published.
    pub last_used_idx: u16,
    /// The guest's avail index as last read: what notifications are armed
    /// against (upstream `vq->avail_idx`).
    pub avail_seen: u16,
    /// When the guest was last signalled.
    pub notifier: Notifier,
}

impl QueueState {
    /// A ring (re)started at avail position `base` (`VHOST_SET_VRING_BASE`)
    /// and used position `used`.
    pub fn at(base: u16, used: u16) -> Self {
        Self {
            last_avail_idx: base,
            last_used_idx: used,
            avail_seen: base,
            notifier: Notifier::default(),
        }
    }
}

/// One split virtqueue, device side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitQueue {
    size: QueueSize,
    /// `VIRTIO_RING_F_EVENT_IDX` was negotiated.
    event_idx: bool,
    state: QueueState,
}

impl SplitQueue {
    /// A queue of `size` entries resuming from `state`.
    pub fn new(size: QueueSize, event_idx: bool, state: QueueState) -> Self {
        Self {
            size,
            event_idx,
            state,
        }
    }

    /// The ring size.
    pub fn size(&self) -> QueueSize {
        self.size
    }

    /// The state to keep until the next run.
    pub fn state(&self) -> QueueState {
        self.state
    }

    /// Next avail position a head is taken from.
    pub fn last_avail_idx(&self) -> u16 {
        self.state.last_avail_idx
    }

    /// Next used position (the used index, once published).
    pub fn last_used_idx(&self) -> u16 {
        self.state.last_used_idx
    }

    /// The guest's avail index as last read.
    pub fn avail_seen(&self) -> u16 {
        self.state.avail_seen
    }

    /// Heads taken and not yet used (nor discarded). Meaningful when heads
    /// are taken before their used elements are added (the copy RX path
    /// adds a packet's elements first and takes its heads after).
    pub fn in_flight(&self) -> u16 {
        self.state
            .last_avail_idx
            .wrapping_sub(self.state.last_used_idx)
    }

    /// Buffers the guest made available and the device has not taken: reads
    /// the avail index (remembered as [`avail_seen`](Self::avail_seen)).
    pub fn pending<R: RingIo>(&mut self, io: &R) -> Result<u16, QueueError<R::Error>> {
        let idx = io.read_avail_u16(avail::IDX).map_err(QueueError::Io)?;
        let n = avail_pending(self.size, self.state.last_avail_idx, idx)
            .map_err(|_| QueueError::AvailJump)?;
        self.state.avail_seen = idx;
        // Ring entries are read after the index that published them.
        fence(Ordering::Acquire);
        Ok(n)
    }

    /// The head at avail position `pos`, validated against the ring size.
    /// The caller makes sure `pos` is below the avail index it read.
    pub fn head_at<R: RingIo>(&self, io: &R, pos: u16) -> Result<u16, QueueError<R::Error>> {
        let off = avail::ring(self.size.slot(pos));
        let head = io.read_avail_u16(off).map_err(QueueError::Io)?;
        if head >= self.size.get() {
            return Err(QueueError::BadHead(head));
        }
        Ok(head)
    }

    /// Takes the next head if the guest offered one beyond those taken (as
    /// far as the last [`pending`](Self::pending) saw).
    pub fn pop_head<R: RingIo>(&mut self, io: &R) -> Result<Option<u16>, QueueError<R::Error>> {
        if self.state.last_avail_idx == self.state.avail_seen {
            return Ok(None);
        }
        let head = self.head_at(io, self.state.last_avail_idx)?;
        self.state.last_avail_idx = self.state.last_avail_idx.wrapping_add(1);
        Ok(Some(head))
    }

    /// Counts `n` heads from [`last_avail_idx`](Self::last_avail_idx) on as
    /// taken (the caller read them with [`head_at`](Self::head_at)).
    pub fn take(&mut self, n: u16) {
        self.state.last_avail_idx = self.state.last_avail_idx.wrapping_add(n);
    }

    /// Gives back the newest `n` heads taken, so they are taken again next
    /// time (upstream `vhost_discard_vq_desc`: a packet that did not fit,
    /// or buffers a backend could not post). It rewinds avail positions: the
    /// caller makes sure none of the newest `n` heads was used (with
    /// out-of-order completion a used head may sit among them). More than
    /// are in flight is [`NotInFlight`] and changes nothing.
    pub fn discard(&mut self, n: u16) -> Result<(), NotInFlight> {
        if n > self.in_flight() {
            return Err(NotInFlight);
        }
        self.state.last_avail_idx = self.state.last_avail_idx.wrapping_sub(n);
        Ok(())
    }

    /// Asks the guest to kick when it adds a buffer beyond the ones already
    /// seen, then checks, after a full barrier, whether it did so meanwhile
    /// (upstream `vhost_enable_notify`); `true` means it did: look again.
    /// Arming at the *seen* index, not at `last_avail_idx`, matters on RX:
    /// buffers too few for the packet at hand are seen but not taken, and
    /// the guest only kicks for new ones (arming behind them also made the
    /// re-check always true: a busy loop).
    pub fn enable_notify<R: RingIo>(&mut self, io: &R) -> Result<bool, QueueError<R::Error>> {
        let seen = self.state.avail_seen;
        if self.event_idx {
            let off = used::avail_event(self.size);
            io.write_used_u16(off, seen).map_err(QueueError::Io)?;
            io.log_used(off, 2).map_err(QueueError::Io)?;
        }
        // The guest's next avail index is read after our request is visible
        // (it pairs with the guest's barrier between its index write and its
        // read of avail_event).
        fence(Ordering::SeqCst);
        self.pending(io)?;
        Ok(self.state.avail_seen != seen)
    }

    /// Writes a used element for head `id` (any head in flight, in any
    /// order) at the next used slot. The guest sees it at the next
    /// [`publish`](Self::publish).
    pub fn add_used<R: RingIo>(
        &mut self,
        io: &R,
        id: u16,
        len: u32,
    ) -> Result<(), QueueError<R::Error>> {
        let off = used::ring(self.size.slot(self.state.last_used_idx));
        io.write_used_elem(off, id, len).map_err(QueueError::Io)?;
        io.log_used(off, 8).map_err(QueueError::Io)?;
        self.state.last_used_idx = self.state.last_used_idx.wrapping_add(1);
        Ok(())
    }

    /// [`add_used`](Self::add_used) for each `(id, len)` of `elems`, in
    /// that order (upstream `vhost_add_used_n`); one [`publish`](Self::publish)
    /// then shows them all at once.
    pub fn add_used_n<R: RingIo>(
        &mut self,
        io: &R,
        elems: &[(u16, u32)],
    ) -> Result<(), QueueError<R::Error>> {
        for &(id, len) in elems {
            self.add_used(io, id, len)?;
        }
        Ok(())
    }

    /// Publishes the used index (after the elements) and says whether to
    /// signal the guest (upstream `vhost_notify`).
    pub fn publish<R: RingIo>(&mut self, io: &R) -> Result<bool, QueueError<R::Error>> {
        // The elements are visible before the index that publishes them.
        fence(Ordering::Release);
        let idx = self.state.last_used_idx;
        io.write_used_u16(used::IDX, idx).map_err(QueueError::Io)?;
        io.log_used(used::IDX, 2).map_err(QueueError::Io)?;
        // The guest's used_event/flags are read after the index is visible
        // (it pairs with the guest's barrier between writing used_event and
        // reading the used index).
        fence(Ordering::SeqCst);
        let (flags, event) = if self.event_idx {
            let e = io
                .read_avail_u16(avail::used_event(self.size))
                .map_err(QueueError::Io)?;
            (0, e)
        } else {
            (io.read_avail_u16(avail::FLAGS).map_err(QueueError::Io)?, 0)
        };
        Ok(self
            .state
            .notifier
            .should_signal(self.event_idx, flags, event, idx))
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::mock::queue::MockSplitQueue;
    use super::super::chain::DescChain;
    use super::super::split::{need_event, VRING_AVAIL_F_NO_INTERRUPT};
    use super::*;

    const GPA: u64 = 0x1_0000;

    fn mem(size: u16) -> Vec<u8> {
        vec![0; MockSplitQueue::mem_size(size)]
    }

    /// A device engine matching the mock's ring, both started at `idx`.
    fn engine(g: &mut MockSplitQueue<'_>, event_idx: bool, idx: u16) -> SplitQueue {
        g.start_at(idx);
        SplitQueue::new(g.size(), event_idx, QueueState::at(idx, idx))
    }

    /// Takes every head the guest made available.
    fn take_all(q: &mut SplitQueue, g: &MockSplitQueue<'_>) -> Vec<u16> {
        let n = q.pending(g).unwrap();
        let heads: Vec<u16> = (0..n).map(|_| q.pop_head(g).unwrap().unwrap()).collect();
        assert_eq!(q.pop_head(g), Ok(None));
        heads
    }

    fn drain(g: &mut MockSplitQueue<'_>) -> Vec<(u16, u32)> {
        core::iter::from_fn(|| g.pop_used()).collect()
    }

    #[test]
    fn in_order_round_trip() {
        let mut m = mem(8);
        let mut g = MockSplitQueue::new(&mut m, GPA, 8);
        let mut q = engine(&mut g, false, 0);
        let a = g.add_chain(&[(64, false)]);
        let b = g.add_chain(&[(12, false), (100, true)]);
        // Offered but not published: nothing pending.
        assert_eq!(q.pending(&g), Ok(0));
        g.kick();
        assert_eq!(take_all(&mut q, &g), [a, b]);
        assert_eq!(q.in_flight(), 2);
        q.add_used(&g, a, 0).unwrap();
        q.add_used(&g, b, 100).unwrap();
        assert_eq!(q.publish(&g), Ok(true));
        assert_eq!(drain(&mut g), [(a, 0), (b, 100)]);
        assert_eq!(q.in_flight(), 0);
        let (written, logged) = g.used_bytes();
        assert_eq!(written, 8 + 8 + 2);
        assert_eq!(logged, written);
    }

    #[test]
    fn used_out_of_avail_order() {
        let mut m = mem(8);
        let mut g = MockSplitQueue::new(&mut m, GPA, 8);
        let mut q = engine(&mut g, false, 0);
        let heads: Vec<u16> = (0..4).map(|_| g.add_chain(&[(1500, true)])).collect();
        g.kick();
        assert_eq!(take_all(&mut q, &g), heads);
        // Completed in the order a NIC filled them, published one by one and
        // then two at once.
        let order = [
            (heads[2], 60),
            (heads[0], 1514),
            (heads[3], 42),
            (heads[1], 9),
        ];
        q.add_used(&g, order[0].0, order[0].1).unwrap();
        q.publish(&g).unwrap();
        assert_eq!(drain(&mut g), [order[0]]);
        q.add_used(&g, order[1].0, order[1].1).unwrap();
        q.publish(&g).unwrap();
        q.add_used_n(&g, &order[2..]).unwrap();
        q.publish(&g).unwrap();
        assert_eq!(drain(&mut g), order[1..]);
        assert_eq!(g.order_errors(), 0);
    }

    #[test]
    fn batched_publication_moves_used_idx_by_k() {
        let mut m = mem(16);
        let mut g = MockSplitQueue::new(&mut m, GPA, 16);
        let mut q = engine(&mut g, true, 65533);
        let heads: Vec<u16> = (0..7).map(|_| g.add_chain(&[(256, true)])).collect();
        g.kick();
        assert_eq!(take_all(&mut q, &g), heads);
        let elems: Vec<(u16, u32)> = heads
            .iter()
            .rev()
            .map(|&h| (h, 100 + u32::from(h)))
            .collect();
        q.add_used_n(&g, &elems).unwrap();
        // Written, not yet visible.
        assert_eq!(g.used_idx(), 65533);
        assert_eq!(g.pop_used(), None);
        q.publish(&g).unwrap();
        // One index write, across the wrap: 65533 + 7.
        assert_eq!(g.used_idx(), 4);
        assert_eq!(drain(&mut g), elems);
        let (written, logged) = g.used_bytes();
        assert_eq!(written, 7 * 8 + 2);
        assert_eq!(logged, written);
    }

    #[test]
    fn avail_event_armed_at_seen_index_across_wrap() {
        let mut m = mem(8);
        let mut g = MockSplitQueue::new(&mut m, GPA, 8);
        let mut q = engine(&mut g, true, 65530);
        for _ in 0..8 {
            g.add_chain(&[(64, true)]);
        }
        g.kick();
        assert_eq!(q.pending(&g), Ok(8));
        assert_eq!(q.avail_seen(), 2);
        // Take only 3 (too few for the packet at hand, say): the request is
        // for buffers beyond the 8 seen, not beyond the 3 taken.
        q.take(3);
        assert_eq!(q.enable_notify(&g), Ok(false));
        assert_eq!(g.avail_event(), 2);
        // The guest adds one: avail idx 2 -> 3 passes avail_event, it kicks.
        let old = g.avail_idx();
        q.add_used_n(&g, &[(0, 1), (1, 1), (2, 1)]).unwrap();
        q.publish(&g).unwrap();
        drain(&mut g);
        g.add_chain(&[(64, true)]);
        g.kick();
        assert!(need_event(g.avail_event(), g.avail_idx(), old));
        // Arming again from the stale seen index finds the new buffer.
        assert_eq!(q.enable_notify(&g), Ok(true));
        assert_eq!(g.avail_event(), 2);
        assert_eq!(q.avail_seen(), 3);
        assert_eq!(q.enable_notify(&g), Ok(false));
        assert_eq!(g.avail_event(), 3);
        let (written, logged) = g.used_bytes();
        assert_eq!(logged, written);
    }

    #[test]
    fn used_event_honoured_across_wrap() {
        let mut m = mem(8);
        let mut g = MockSplitQueue::new(&mut m, GPA, 8);
        let mut q = engine(&mut g, true, 65530);
        let used = |q: &mut SplitQueue, g: &mut MockSplitQueue<'_>, n: usize| {
            for _ in 0..n {
                g.add_chain(&[(64, true)]);
            }
            g.kick();
            for h in take_all(q, g) {
                q.add_used(g, h, 64).unwrap();
            }
            let signal = q.publish(g).unwrap();
            assert_eq!(drain(g).len(), n);
            signal
        };
        g.set_used_event(65533);
        // Nothing known yet: the first publication signals.
        assert!(used(&mut q, &mut g, 2)); // -> 65532
                                          // 65532 -> 65533 does not pass 65533; 65533 -> 65535 does.
        assert!(!used(&mut q, &mut g, 1));
        assert!(used(&mut q, &mut g, 2));
        // Over the wrap: the guest wants a signal once 1 is passed.
        g.set_used_event(1);
        assert!(!used(&mut q, &mut g, 2)); // 65535 -> 1
        assert!(used(&mut q, &mut g, 1)); // 1 -> 2
                                          // A suppressed batch still counts for the next decision.
        g.set_used_event(4);
        assert!(!used(&mut q, &mut g, 2)); // 2 -> 4
        assert!(used(&mut q, &mut g, 1)); // 4 -> 5
                                          // Without event idx the avail flags decide, and used_event is ignored.
        let mut q = SplitQueue::new(g.size(), false, q.state());
        g.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
        assert!(!used(&mut q, &mut g, 1));
        g.set_avail_flags(0);
        assert!(used(&mut q, &mut g, 1));
    }

    #[test]
    fn discard_rewinds_then_retakes_the_same_heads() {
        let mut m = mem(8);
        let mut g = MockSplitQueue::new(&mut m, GPA, 8);
        let mut q = engine(&mut g, false, 65534);
        let heads: Vec<u16> = (0..5).map(|_| g.add_chain(&[(64, true)])).collect();
        g.kick();
        assert_eq!(take_all(&mut q, &g), heads);
        q.add_used(&g, heads[0], 1).unwrap();
        assert_eq!(q.in_flight(), 4);
        // Only heads in flight can be given back.
        assert_eq!(q.discard(5), Err(NotInFlight));
        assert_eq!(q.last_avail_idx(), 3);
        q.discard(3).unwrap();
        assert_eq!(q.last_avail_idx(), 0);
        assert_eq!(q.in_flight(), 1);
        // Across the wrap, the same heads come back in the same order.
        assert_eq!(q.pending(&g), Ok(3));
        assert_eq!(take_all(&mut q, &g), heads[2..]);
        q.discard(0).unwrap();
        assert_eq!(q.pop_head(&g), Ok(None));
        q.add_used_n(
            &g,
            &[(heads[1], 2), (heads[4], 5), (heads[2], 3), (heads[3], 4)],
        )
        .unwrap();
        q.publish(&g).unwrap();
        assert_eq!(
            drain(&mut g),
            [
                (heads[0], 1),
                (heads[1], 2),
                (heads[4], 5),
                (heads[2], 3),
                (heads[3], 4)
            ]
        );
    }

    #[test]
    fn avail_jump_is_an_error() {
        let mut m = mem(8);
        let mut g = MockSplitQueue::new(&mut m, GPA, 8);
        let mut q = engine(&mut g, true, 65530);
        g.set_avail_idx(65530u16.wrapping_add(8));
        assert_eq!(q.pending(&g), Ok(8));
        // Nine beyond the last taken head, on a ring of eight.
        g.set_avail_idx(65530u16.wrapping_add(9));
        assert_eq!(q.pending(&g), Err(QueueError::AvailJump));
        assert_eq!(q.enable_notify(&g), Err(QueueError::AvailJump));
        // What was seen before stays what notifications are armed at.
        assert_eq!(q.avail_seen(), 2);
        // Backwards is a jump too (by 65535).
        g.set_avail_idx(65529);
        assert_eq!(q.pending(&g), Err(QueueError::AvailJump));
    }

    #[test]
    fn bad_head_is_an_error() {
        let mut m = mem(8);
        let mut g = MockSplitQueue::new(&mut m, GPA, 8);
        let mut q = engine(&mut g, false, 0);
        g.add_chain(&[(64, true)]);
        g.set_avail_entry(0, 8);
        g.kick();
        assert_eq!(q.pending(&g), Ok(1));
        assert_eq!(q.head_at(&g, 0), Err(QueueError::BadHead(8)));
        assert_eq!(q.pop_head(&g), Err(QueueError::BadHead(8)));
        // Not taken: the queue stays where it was.
        assert_eq!(q.last_avail_idx(), 0);
        g.set_avail_entry(0, 7);
        assert_eq!(q.pop_head(&g), Ok(Some(7)));
    }

    #[test]
    fn chains_walk_over_the_mock() {
        let mut m = mem(4);
        let mut g = MockSplitQueue::new(&mut m, GPA, 4);
        let mut q = engine(&mut g, false, 0);
        g.add_chain(&[(10, false), (20, true), (30, true)]);
        g.kick();
        let head = take_all(&mut q, &g)[0];
        let segs: Vec<_> = DescChain::new(&g, &g, head).map(|s| s.unwrap()).collect();
        assert_eq!(segs.len(), 3);
        assert_eq!(
            (segs[0].gpa(), segs[0].len(), segs[0].writable()),
            (g.buf_addr(0), 10, false)
        );
        assert_eq!(
            (segs[2].gpa(), segs[2].len(), segs[2].writable()),
            (g.buf_addr(2), 30, true)
        );
    }

    proptest::proptest! {
        /// Any interleaving of a guest offering and reaping buffers with a
        /// device taking, completing (in any order), publishing in batches
        /// and discarding them, from any start index: every head offered
        /// comes back exactly once with its length, never before its
        /// element was written, and every used-ring write is logged.
        #[test]
        fn engine_matches_a_model(
            start in proptest::prelude::any::<u16>(),
            event_idx in proptest::prelude::any::<bool>(),
            ops in proptest::collection::vec((0u8..6, 0u8..8), 0..200),
        ) {
            const SIZE: u16 = 8;
            let mut m = mem(SIZE);
            let mut g = MockSplitQueue::new(&mut m, GPA, SIZE);
            let mut q = engine(&mut g, event_idx, start);
            // Guest: heads it may offer.
            let mut free: Vec<u16> = (0..SIZE).collect();
            // Device: heads taken, in avail order, with "completed" (kept
            // after completion: discard rewinds positions, not heads).
            let mut taken: Vec<(u16, bool)> = Vec::new();
            let mut reaped = 0usize;
            let mut offered = 0usize;
            let reap = |g: &mut MockSplitQueue<'_>, free: &mut Vec<u16>| -> usize {
                let mut n = 0;
                while let Some((id, len)) = g.pop_used() {
                    assert!(!free.contains(&id), "head {id} used twice");
                    assert_eq!(len, 100 + u32::from(id));
                    free.push(id);
                    n += 1;
                }
                n
            };
            for (op, arg) in ops {
                match op {
                    0 => {
                        if let Some(h) = free.pop() {
                            g.offer(h);
                            offered += 1;
                        }
                    }
                    1 => g.kick(),
                    2 => {
                        q.pending(&g).unwrap();
                        for _ in 0..arg {
                            match q.pop_head(&g).unwrap() {
                                Some(h) => taken.push((h, false)),
                                None => break,
                            }
                        }
                    }
                    3 => {
                        let open: Vec<usize> = (0..taken.len()).filter(|&i| !taken[i].1).collect();
                        if !open.is_empty() {
                            let i = open[usize::from(arg) % open.len()];
                            q.add_used(&g, taken[i].0, 100 + u32::from(taken[i].0)).unwrap();
                            taken[i].1 = true;
                        }
                    }
                    4 => {
                        q.publish(&g).unwrap();
                        reaped += reap(&mut g, &mut free);
                    }
                    _ => {
                        // Only the newest heads, none of them completed.
                        let k = taken.iter().rev().take_while(|t| !t.1).count();
                        let k = k.min(usize::from(arg));
                        q.discard(k as u16).unwrap();
                        taken.truncate(taken.len() - k);
                        proptest::prop_assert!(q.discard(q.in_flight() + 1).is_err());
                    }
                }
                proptest::prop_assert!(usize::from(q.in_flight()) >= taken.iter().filter(|t| !t.1).count());
            }
            // Drain: publish everything offered.
            g.kick();
            q.pending(&g).unwrap();
            while let Some(h) = q.pop_head(&g).unwrap() {
                taken.push((h, false));
            }
            for t in taken.iter_mut().filter(|t| !t.1) {
                q.add_used(&g, t.0, 100 + u32::from(t.0)).unwrap();
            }
            q.publish(&g).unwrap();
            reaped += reap(&mut g, &mut free);
            proptest::prop_assert_eq!(reaped, offered);
            proptest::prop_assert_eq!(free.len(), usize::from(SIZE));
            proptest::prop_assert_eq!(q.in_flight(), 0);
            let (written, logged) = g.used_bytes();
            proptest::prop_assert_eq!(written, logged);
        }
    }
}
