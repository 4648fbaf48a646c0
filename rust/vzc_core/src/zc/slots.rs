// SPDX-License-Identifier: GPL-2.0-only
//! The VF RX ring's shadow: which guest buffer each descriptor holds.
//!
//! The device overwrites a descriptor's addresses with its write-back
//! (facts §1.2), so the host keeps every posted [`PostedBuf`] here, at the
//! descriptor's index. The VF fills and writes back descriptors strictly in
//! ring order, so posting appends at `next_to_use` and completion takes the
//! oldest at `next_to_clean`: no search, no allocation (the caller owns the
//! storage, one entry per descriptor). One slot stays empty, as in igbvf,
//! so a full ring is told from an empty one.

use super::super::vf::ring::RingSize;
use super::contain::PostedBuf;

/// The shadow of one VF RX ring over caller-provided storage `S` (e.g. a
/// `KVec` or an array of `Option<PostedBuf>`, at least the ring size).
#[derive(Debug)]
pub struct VfSlots<S> {
    slots: S,
    ring: RingSize,
    next_to_use: u16,
    next_to_clean: u16,
    posted: u16,
}

/// The storage is shorter than the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortStorage;

impl<S: AsRef<[Option<PostedBuf>]> + AsMut<[Option<PostedBuf>]>> VfSlots<S> {
    /// An empty shadow of a ring of `ring` descriptors, starting at index 0
    /// (the ring's head and tail after enabling).
    pub fn new(mut slots: S, ring: RingSize) -> Result<Self, ShortStorage> {
        let s = slots.as_mut();
        if s.len() < usize::from(ring.get()) {
            return Err(ShortStorage);
        }
        s.fill(None);
        Ok(Self {
            slots,
            ring,
            next_to_use: 0,
            next_to_clean: 0,
            posted: 0,
        })
    }

    /// Buffers the device holds (the `posted` counter).
    pub fn posted(&self) -> u16 {
        self.posted
    }

    /// Buffers that can still be posted.
    pub fn room(&self) -> u16 {
        self.ring.get() - 1 - self.posted
    }

    /// The descriptor the next [`post`](Self::post) fills; the value to
    /// write to the tail register after a batch of posts.
    pub fn next_to_use(&self) -> u16 {
        self.next_to_use
    }

    /// The descriptor the device writes back next.
    pub fn next_to_clean(&self) -> u16 {
        self.next_to_clean
    }

    /// Records `buf` at [`next_to_use`](Self::next_to_use) and returns that
    /// index (where the glue writes the descriptor), or gives the buffer
    /// back if the ring is full.
    pub fn post(&mut self, buf: PostedBuf) -> Result<u16, PostedBuf> {
        if self.room() == 0 {
            return Err(buf);
        }
        let i = self.next_to_use;
        self.slots.as_mut()[usize::from(i)] = Some(buf);
        self.next_to_use = self.ring.next(i);
        self.posted += 1;
        Ok(i)
    }

    /// The buffer at descriptor `index`, if posted.
    pub fn get(&self, index: u16) -> Option<&PostedBuf> {
        self.slots.as_ref().get(usize::from(index))?.as_ref()
    }

    /// The device wrote back the oldest posted descriptor: its index and
    /// buffer (`None` if nothing is posted).
    pub fn complete(&mut self) -> Option<(u16, PostedBuf)> {
        if self.posted == 0 {
            return None;
        }
        let i = self.next_to_clean;
        let buf = self.slots.as_mut()[usize::from(i)].take()?;
        self.next_to_clean = self.ring.next(i);
        self.posted -= 1;
        Some((i, buf))
    }

    /// Every posted buffer, oldest first, for stop. Call only once the
    /// queue is quiesced (the glue's `Quiesced`): the shadow then restarts
    /// at index 0, as the ring does after its reset.
    pub fn drain(&mut self) -> impl Iterator<Item = PostedBuf> + '_ {
        let oldest = usize::from(self.next_to_clean);
        self.next_to_use = 0;
        self.next_to_clean = 0;
        self.posted = 0;
        let ring = usize::from(self.ring.get());
        let (before, from) = self.slots.as_mut()[..ring].split_at_mut(oldest);
        from.iter_mut().chain(before).filter_map(Option::take)
    }
}

#[cfg(test)]
mod tests {
    use super::super::bsize::BufSize;
    use super::super::testkit::{layout, post_all, Ram, GPA, HVA};
    use super::*;
    use std::vec::Vec;

    fn bufs(n: u64) -> Vec<PostedBuf> {
        let ram = Ram::new(GPA, HVA, 0x800 * n as usize, 0);
        let chains: Vec<_> = (0..n).map(|i| std::vec![(i * 0x800, 1536)]).collect();
        post_all(&ram, &chains, layout(true), BufSize::from_kib(1).unwrap())
    }

    #[test]
    fn ring_order_and_wrap() {
        let b = bufs(20);
        let mut s = VfSlots::new([None; 8], RingSize::new(8).unwrap()).unwrap();
        assert_eq!(s.room(), 7);
        for (i, x) in b[..7].iter().enumerate() {
            assert_eq!(s.post(*x), Ok(i as u16));
        }
        assert_eq!(s.post(b[7]), Err(b[7]));
        assert_eq!(s.get(3), Some(&b[3]));
        assert_eq!(s.complete(), Some((0, b[0])));
        assert_eq!(s.complete(), Some((1, b[1])));
        // Wraps: index 7, then 0.
        assert_eq!(s.post(b[7]), Ok(7));
        assert_eq!(s.post(b[8]), Ok(0));
        assert_eq!((s.posted(), s.next_to_use(), s.next_to_clean()), (7, 1, 2));
        // Stop: oldest first across the wrap.
        let heads: Vec<u16> = s.drain().map(|p| p.head()).collect();
        let want: Vec<u16> = b[2..9].iter().map(|p| p.head()).collect();
        assert_eq!(heads, want);
        assert_eq!((s.posted(), s.next_to_use(), s.complete()), (0, 0, None));
        assert_eq!(s.post(b[9]), Ok(0));
    }

    #[test]
    fn storage_must_cover_the_ring() {
        let short: [Option<PostedBuf>; 4] = [None; 4];
        assert_eq!(
            VfSlots::new(short, RingSize::new(8).unwrap()).map(|_| ()),
            Err(ShortStorage)
        );
    }
}
