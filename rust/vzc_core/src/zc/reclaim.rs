// SPDX-License-Identifier: GPL-2.0-only
//! Every head out of the avail ring, and how stop gives them all back.
//!
//! In zero-copy mode a head leaves the avail ring long before its used
//! entry: it sits on the VF ring, or in the reserve the tap path draws on
//! (frames from host-local peers need guest buffers too). Used entries
//! therefore come in any order. The [`Ledger`] records, for every head
//! taken and not yet used, when it was taken (its avail position), and
//! nothing else: where the buffer is lives with its owner ([`super::slots`]
//! or the reserve). While zero-copy is on, every head the queue engine hands
//! out is [`Ledger::take`]n, every used entry is [`Ledger::used`], and every
//! `SplitQueue::discard` is mirrored by [`Ledger::give_back`], so take
//! sequence numbers are avail positions.
//!
//! # Stop
//!
//! When the backend stops (SET_BACKEND(-1), reset, unbind, VF loss), the
//! VF queue is quiesced first and every posted buffer comes back. Each head
//! still out must then reach the guest exactly once, and GET_VRING_BASE
//! (the avail index) must agree with the used index (facts §3):
//!
//! - the newest heads that are all still out can be REWOUND: the avail
//!   index goes back over them, and whoever runs the queue next takes them
//!   again from the avail ring, which still holds them (a guest cannot
//!   reuse those avail slots before they are used);
//! - a head still out behind a head already used cannot be rewound (the
//!   rewind would hand the used one out again), so it is PUBLISHED as a
//!   used entry of length 0, which a Linux guest drops as a short frame
//!   and recycles (`receive_buf`: len < hdr_len + ETH_HLEN; facts §2).
//!
//! [`Ledger::stop_plan`] takes the longest such suffix; afterwards nothing
//! is in flight, so the avail index equals the used index, and the guest
//! loses no buffer and sees none twice. Discarded buffers need no dirty
//! logging: a zero-length entry carries no data (the used-ring write itself
//! is logged by the queue engine).

/// One entry per head (its take) and per avail slot (which head was taken
/// at that position, modulo the queue size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entry {
    /// Take sequence number of the head, if it is out.
    seq: Option<u64>,
    /// The head taken at the position whose slot this is.
    head_at: u16,
}

/// A [`Ledger`] call that does not match the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerError {
    /// The head is not below the queue size.
    BadHead,
    /// The guest offered a head that is still out (a broken or hostile
    /// driver): the caller breaks the queue.
    Twice,
    /// The head is not out (a bug of the caller).
    NotOut,
    /// Giving back heads that are not the newest ones still out.
    NotNewest,
}

/// Heads taken from one avail ring and not yet used, over caller storage
/// of one [`Entry`] per queue entry.
#[derive(Debug)]
pub struct Ledger<S> {
    entries: S,
    /// Takes so far: the sequence number of the next.
    taken: u64,
    out: u16,
}

/// What stop does with the heads still out (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopPlan {
    /// Avail positions to rewind (`SplitQueue::discard`).
    pub rewind: u16,
    /// Heads to publish as zero-length used entries
    /// ([`Ledger::discards`]).
    pub discard: u16,
}

impl<S: AsRef<[Entry]> + AsMut<[Entry]>> Ledger<S> {
    /// An empty ledger for a queue of `entries.len()` heads (the storage's
    /// length is the queue size).
    pub fn new(mut entries: S) -> Self {
        entries.as_mut().fill(Entry::default());
        Self {
            entries,
            taken: 0,
            out: 0,
        }
    }

    /// Heads out (taken, not used).
    pub fn out(&self) -> u16 {
        self.out
    }

    /// Whether `head` is out.
    pub fn is_out(&self, head: u16) -> bool {
        self.entries
            .as_ref()
            .get(usize::from(head))
            .is_some_and(|e| e.seq.is_some())
    }

    fn slot(&self, seq: u64) -> usize {
        // `max(1)`: no division-by-zero panic path for empty storage (no
        // take ever succeeds there, so the result is never used).
        (seq % (self.entries.as_ref().len() as u64).max(1)) as usize
    }

    /// The head taken `back` takes ago (0: the newest), if still out.
    /// Only meaningful for `back < out()`: no older take's slot has been
    /// reused by a head still out since.
    fn newest(&self, back: u16) -> Option<u16> {
        let seq = self.taken.checked_sub(u64::from(back) + 1)?;
        let e = self.entries.as_ref();
        let head = e[self.slot(seq)].head_at;
        (e[usize::from(head)].seq == Some(seq)).then_some(head)
    }

    /// The queue took `head` at the next avail position.
    pub fn take(&mut self, head: u16) -> Result<(), LedgerError> {
        let h = usize::from(head);
        match self.entries.as_ref().get(h).map(|x| x.seq) {
            None => return Err(LedgerError::BadHead),
            Some(Some(_)) => return Err(LedgerError::Twice),
            Some(None) => {}
        }
        let slot = self.slot(self.taken);
        let e = self.entries.as_mut();
        e[h].seq = Some(self.taken);
        e[slot].head_at = head;
        self.taken += 1;
        self.out += 1;
        Ok(())
    }

    /// A used entry for `head` was added (in any order).
    pub fn used(&mut self, head: u16) -> Result<(), LedgerError> {
        let e = self
            .entries
            .as_mut()
            .get_mut(usize::from(head))
            .ok_or(LedgerError::BadHead)?;
        e.seq.take().ok_or(LedgerError::NotOut)?;
        self.out -= 1;
        Ok(())
    }

    /// The newest `n` takes are given back to the avail ring (the mirror of
    /// `SplitQueue::discard`); they must all still be out.
    pub fn give_back(&mut self, n: u16) -> Result<(), LedgerError> {
        if n > self.out || (0..n).any(|b| self.newest(b).is_none()) {
            return Err(LedgerError::NotNewest);
        }
        for b in 0..n {
            // Checked above; the newest entries are unaffected by clearing
            // older ones.
            if let Some(h) = self.newest(b) {
                self.entries.as_mut()[usize::from(h)].seq = None;
            }
        }
        self.taken -= u64::from(n);
        self.out -= n;
        Ok(())
    }

    /// How stop returns the heads still out: rewind the longest run of
    /// newest takes that are all out, publish the rest with length 0.
    /// O(heads rewound). Call once every buffer is back from the device.
    pub fn stop_plan(&self) -> StopPlan {
        let mut rewind = 0;
        while rewind < self.out && self.newest(rewind).is_some() {
            rewind += 1;
        }
        StopPlan {
            rewind,
            discard: self.out - rewind,
        }
    }

    /// The heads `plan` publishes with length 0, by head index (walking
    /// heads, not positions, whose slots may have been reused; the order
    /// does not matter to the guest).
    pub fn discards(&self, plan: StopPlan) -> impl Iterator<Item = u16> + '_ {
        let newest = self.taken.saturating_sub(u64::from(plan.rewind));
        self.entries
            .as_ref()
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.seq.is_some_and(|s| s < newest))
            .map(|(h, _)| h as u16)
    }

    /// `plan` was applied (rewound, discards added and published): nothing
    /// is out; the next take continues at the rewound position.
    pub fn finish(&mut self, plan: StopPlan) {
        self.taken -= u64::from(plan.rewind);
        self.entries.as_mut().fill(Entry::default());
        self.out = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn ledger(n: usize) -> Ledger<Vec<Entry>> {
        Ledger::new(std::vec![Entry::default(); n])
    }

    #[test]
    fn in_order_stop_rewinds_everything() {
        let mut l = ledger(8);
        for h in [3, 1, 4] {
            l.take(h).unwrap();
        }
        l.used(3).unwrap();
        let p = l.stop_plan();
        assert_eq!(
            p,
            StopPlan {
                rewind: 2,
                discard: 0
            }
        );
        assert_eq!(l.discards(p).count(), 0);
        l.finish(p);
        assert_eq!(l.out(), 0);
        // The next take is at the rewound position.
        l.take(1).unwrap();
        assert_eq!(
            l.stop_plan(),
            StopPlan {
                rewind: 1,
                discard: 0
            }
        );
    }

    #[test]
    fn a_used_head_behind_blocks_the_rewind() {
        let mut l = ledger(8);
        // Taken in order 0..5; 3 went to the tap path and is used; 0 and 1
        // sit in the reserve, 2, 4 and 5 on the VF.
        for h in 0..6 {
            l.take(h).unwrap();
        }
        l.used(3).unwrap();
        let p = l.stop_plan();
        assert_eq!(
            p,
            StopPlan {
                rewind: 2,
                discard: 3
            }
        );
        assert_eq!(l.discards(p).collect::<Vec<_>>(), [0, 1, 2]);
        // The newest used: nothing to rewind.
        let mut l = ledger(8);
        for h in 0..3 {
            l.take(h).unwrap();
        }
        l.used(2).unwrap();
        let p = l.stop_plan();
        assert_eq!(
            p,
            StopPlan {
                rewind: 0,
                discard: 2
            }
        );
    }

    #[test]
    fn empty_storage_takes_nothing() {
        let mut l = Ledger::new(Vec::<Entry>::new());
        assert_eq!(l.take(0), Err(LedgerError::BadHead));
        assert_eq!(
            l.stop_plan(),
            StopPlan {
                rewind: 0,
                discard: 0
            }
        );
    }

    #[test]
    fn misuse_is_refused() {
        let mut l = ledger(4);
        assert_eq!(l.take(4), Err(LedgerError::BadHead));
        l.take(2).unwrap();
        assert_eq!(l.take(2), Err(LedgerError::Twice));
        assert_eq!(l.used(1), Err(LedgerError::NotOut));
        assert_eq!(l.used(9), Err(LedgerError::BadHead));
        l.take(1).unwrap();
        l.used(1).unwrap();
        // 1 was the newest take and is used: 2 is not the newest.
        assert_eq!(l.give_back(1), Err(LedgerError::NotNewest));
        l.take(0).unwrap();
        l.give_back(1).unwrap();
        assert!(!l.is_out(0) && l.is_out(2));
        assert_eq!(l.give_back(2), Err(LedgerError::NotNewest));
    }

    #[test]
    fn positions_wrap_around_the_queue() {
        // A head stuck in the reserve while the ring goes round many times.
        let mut l = ledger(4);
        l.take(0).unwrap();
        for _ in 0..1000 {
            for h in 1..4 {
                l.take(h).unwrap();
            }
            for h in 1..4 {
                l.used(h).unwrap();
            }
        }
        l.take(1).unwrap();
        l.take(2).unwrap();
        let p = l.stop_plan();
        assert_eq!(
            p,
            StopPlan {
                rewind: 2,
                discard: 1
            }
        );
        assert_eq!(l.discards(p).collect::<Vec<_>>(), [0]);
    }
}

#[cfg(test)]
mod props {
    use super::super::super::mock::queue::MockSplitQueue;
    use super::super::super::vf::ring::RingSize;
    use super::super::super::vhost::mem::{MemRegion, MemTable};
    use super::super::super::virtio::chain::DescChain;
    use super::super::super::virtio::desc::{Descriptor, VIRTQ_DESC_F_WRITE};
    use super::super::super::virtio::queue::{QueueState, SplitQueue};
    use super::super::bsize::BufSize;
    use super::super::contain::PostedBuf;
    use super::super::slots::VfSlots;
    use super::super::testkit::{layout, Pinned};
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    const Q: u16 = 16;
    const GPA: u64 = 0x10_0000;
    const HVA: u64 = 0x7000_0000;
    const BUF: u64 = 0x800;

    #[derive(Debug, Clone)]
    enum Op {
        /// The guest offers up to n free buffers and kicks.
        Offer(u8),
        /// The device takes up to n heads: to the VF ring, or (false) to
        /// the tap path's reserve.
        Take(u8, bool),
        /// The VF writes back its oldest `pieces` buffers as one frame; the
        /// plan uses the first `used` of them and reposts the rest.
        Frame(u8, u8),
        /// The tap path fills reserve buffer i (out of avail order).
        Tap(u8),
        /// The copy path takes n heads and gives them back (no room).
        GiveBack(u8),
        /// SET_BACKEND(-1): quiesce, reclaim, rewind or discard; restart.
        Stop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1u8..8).prop_map(Op::Offer),
            (1u8..8, any::<bool>()).prop_map(|(n, v)| Op::Take(n, v)),
            (1u8..4, 1u8..4).prop_map(|(p, u)| Op::Frame(p, u)),
            any::<u8>().prop_map(Op::Tap),
            (1u8..4).prop_map(Op::GiveBack),
            Just(Op::Stop),
        ]
    }

    /// The guest's view: which heads it has given the device.
    struct Guest {
        out: [bool; Q as usize],
        free: Vec<u16>,
        discards: u32,
    }

    impl Guest {
        fn drain(&mut self, g: &mut MockSplitQueue<'_>) -> Result<(), TestCaseError> {
            while let Some((id, len)) = g.pop_used() {
                prop_assert!(self.out[usize::from(id)], "head {} used twice", id);
                self.out[usize::from(id)] = false;
                self.free.push(id);
                if len == 0 {
                    self.discards += 1;
                }
            }
            Ok(())
        }
    }

    proptest! {
        /// Across random posting, in-order VF completion, out-of-order tap
        /// completion, give-backs and stops, the guest gets every head back
        /// exactly once: as a used entry, or, after a stop, still in the
        /// avail ring from the reported base on; and stop leaves nothing in
        /// flight (avail index = used index).
        #[test]
        fn no_head_lost_or_duplicated(ops in proptest::collection::vec(op(), 1..80)) {
            let mut mem = std::vec![0u8; 0x1_0000 + Q as usize * BUF as usize];
            let bufs_at = 0x1_0000u64;
            let region = [MemRegion { guest_phys_addr: GPA, size: mem.len() as u64, userspace_addr: HVA }];
            let table = MemTable::new(&region).unwrap();
            let pinned = Pinned::identity(HVA, mem.len() as u64 / 4096);
            let mut g = MockSplitQueue::new(&mut mem, GPA, Q);
            for h in 0..Q {
                g.set_desc(h, Descriptor { addr: GPA + bufs_at + u64::from(h) * BUF, len: 1536, flags: VIRTQ_DESC_F_WRITE, next: 0 });
            }
            let mut q = SplitQueue::new(g.size(), false, QueueState::at(0, 0));
            let mut ledger = Ledger::new([Entry::default(); Q as usize]);
            let ring = RingSize::new(8).unwrap();
            let mut vf = VfSlots::new([None; 8], ring).unwrap();
            let mut reserve: Vec<u16> = Vec::new();
            let mut guest = Guest { out: [false; Q as usize], free: (0..Q).collect(), discards: 0 };
            let bs = BufSize::from_kib(1).unwrap();
            let post = |head: u16, g: &MockSplitQueue<'_>| -> PostedBuf {
                let segs: Vec<_> = DescChain::new(g, g, head).collect::<Result<_, _>>().unwrap();
                PostedBuf::new(head, &segs, layout(true), bs, &table, &pinned).unwrap()
            };
            for op in ops.iter().chain(core::iter::once(&Op::Stop)) {
                match *op {
                    Op::Offer(n) => {
                        for _ in 0..n {
                            let Some(h) = guest.free.pop() else { break };
                            guest.out[usize::from(h)] = true;
                            g.offer(h);
                        }
                        g.kick();
                    }
                    Op::Take(n, to_vf) => {
                        q.pending(&g).unwrap();
                        for _ in 0..n {
                            if to_vf && vf.room() == 0 {
                                break;
                            }
                            let Some(h) = q.pop_head(&g).unwrap() else { break };
                            prop_assert_eq!(ledger.take(h), Ok(()));
                            if to_vf {
                                prop_assert!(vf.post(post(h, &g)).is_ok());
                            } else {
                                reserve.push(h);
                            }
                        }
                    }
                    Op::Frame(pieces, used) => {
                        if vf.posted() < u16::from(pieces) {
                            continue;
                        }
                        let frame: Vec<PostedBuf> = (0..pieces).map(|_| vf.complete().unwrap().1).collect();
                        let used = used.min(pieces);
                        for b in &frame[..usize::from(used)] {
                            q.add_used(&g, b.head(), 100).unwrap();
                            ledger.used(b.head()).unwrap();
                        }
                        q.publish(&g).unwrap();
                        for b in &frame[usize::from(used)..] {
                            prop_assert!(vf.post(*b).is_ok());
                        }
                    }
                    Op::Tap(i) => {
                        if reserve.is_empty() {
                            continue;
                        }
                        let h = reserve.swap_remove(usize::from(i) % reserve.len());
                        q.add_used(&g, h, 60).unwrap();
                        ledger.used(h).unwrap();
                        q.publish(&g).unwrap();
                    }
                    Op::GiveBack(n) => {
                        q.pending(&g).unwrap();
                        let mut took = 0;
                        for _ in 0..n {
                            let Some(h) = q.pop_head(&g).unwrap() else { break };
                            ledger.take(h).unwrap();
                            took += 1;
                        }
                        q.discard(took).unwrap();
                        prop_assert_eq!(ledger.give_back(took), Ok(()));
                    }
                    Op::Stop => {
                        // Quiesced: every buffer is back from the device.
                        let back = vf.drain().count() + reserve.len();
                        reserve.clear();
                        prop_assert_eq!(back, usize::from(ledger.out()));
                        let plan = ledger.stop_plan();
                        for h in ledger.discards(plan) {
                            q.add_used(&g, h, 0).unwrap();
                        }
                        q.discard(plan.rewind).unwrap();
                        q.publish(&g).unwrap();
                        ledger.finish(plan);
                        prop_assert_eq!(q.in_flight(), 0);
                        // GET_VRING_BASE and the used index agree.
                        prop_assert_eq!(q.last_avail_idx(), g.used_idx());
                        // Restart: a fresh VF ring, the same queue state.
                        vf = VfSlots::new([None; 8], ring).unwrap();
                    }
                }
                guest.drain(&mut g)?;
            }
            // Every head the guest still misses is in the avail ring from
            // the reported base on, once.
            let n = q.pending(&g).unwrap();
            let mut avail: Vec<u16> = (0..n)
                .map(|i| q.head_at(&g, q.last_avail_idx().wrapping_add(i)).unwrap())
                .collect();
            avail.sort();
            let missing: Vec<u16> = (0..Q).filter(|&h| guest.out[usize::from(h)]).collect();
            prop_assert_eq!(avail, missing);
        }
    }
}
