// SPDX-License-Identifier: GPL-2.0-only
//! Every head out of the avail ring, and how stop gives them all back.
//!
//! In zero-copy mode a head leaves the avail ring long before its used
//! entry: it sits on the VF ring, or in the reserve the tap path draws on
//! (frames from host-local peers need guest buffers too). Used entries
//! therefore come in any order. The [`Ledger`] records, for every head
//! taken and not yet used, when it was taken (its avail position), and
//! nothing else: where the buffer is lives with its owner ([`super::slots`]
//! or the reserve).
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
        // Queue sizes are powers of two; the storage is never empty when a
        // sequence number exists.
        (seq % self.entries.as_ref().len() as u64) as usize
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
        let slot = self.slot(self.taken);
        let e = self.entries.as_mut();
        let h = usize::from(head);
        match e.get(h).map(|x| x.seq) {
            None => return Err(LedgerError::BadHead),
            Some(Some(_)) => return Err(LedgerError::Twice),
            Some(None) => {}
        }
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
