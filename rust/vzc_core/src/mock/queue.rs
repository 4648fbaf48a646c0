// SPDX-License-Identifier: GPL-2.0-only
//! A guest driver for one split queue, in the spirit of rust-vmm's
//! `MockSplitQueue`: the descriptor table, the avail ring, the used ring
//! and the buffers are laid out in a byte array the caller provides (a
//! `Vec` in cargo tests, a `KVec` in KUnit), at a guest physical address.
//!
//! The test plays the guest ([`add_chain`](MockSplitQueue::add_chain),
//! [`kick`](MockSplitQueue::kick), [`pop_used`](MockSplitQueue::pop_used),
//! `used_event`/flags) and hands the same value to the device code as its
//! memory: [`GuestMemory`] and [`DescTable`] for chain walking, [`RingIo`]
//! for the engine. As a device-side observer the mock checks what the
//! guest could not tolerate: a used index published before the elements
//! it covers were written (counted in
//! [`order_errors`](MockSplitQueue::order_errors); `pop_used` panics on
//! one) and used-ring writes that were not logged.
//!
//! Layout (offsets from the base): descriptor table, avail ring (with
//! `used_event`), used ring (4-aligned, with `avail_event`), then
//! [`BUF_LEN`] bytes of buffer per descriptor.

use core::cell::Cell;

use super::super::error::Error;
use super::super::virtio::chain::{DescTable, GuestMemory};
use super::super::virtio::desc::{
    Descriptor, QueueSize, DESC_SIZE, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE,
};
use super::super::virtio::queue::RingIo;
use super::super::virtio::split::{avail, used, USED_ELEM_SIZE};

/// Bytes of buffer the mock gives each descriptor.
pub const BUF_LEN: u64 = 256;
/// Largest queue the mock lays out (its write-order check keeps one bit
/// per used slot in a `u64`).
pub const MAX_SIZE: u16 = 64;

/// A device access outside the rings (the mock's `copy_from_user` fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault;

/// One split queue and its guest driver, over caller-provided memory.
pub struct MockSplitQueue<'m> {
    mem: &'m [Cell<u8>],
    gpa: u64,
    size: QueueSize,
    desc: u64,
    avail: u64,
    used: u64,
    data: u64,
    /// The guest's next free descriptor (handed out round robin).
    next_desc: u16,
    /// The guest's avail index, published or not.
    avail_idx: u16,
    /// The used index up to which the guest has read used entries.
    used_seen: u16,
    /// Used slots whose element the device wrote since it last published
    /// them (bit per slot).
    written: Cell<u64>,
    /// The used index as the device last wrote it.
    published: Cell<u16>,
    order_errors: Cell<u32>,
    used_bytes_written: Cell<u64>,
    used_bytes_logged: Cell<u64>,
}

fn align(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

impl<'m> MockSplitQueue<'m> {
    /// Bytes of memory a queue of `size` entries needs.
    pub fn mem_size(size: u16) -> usize {
        let (_, _, _, data) = Self::layout(size);
        (data + BUF_LEN * u64::from(size)) as usize
    }

    /// Offsets of the descriptor table, avail ring, used ring and buffers.
    fn layout(size: u16) -> (u64, u64, u64, u64) {
        let q = u64::from(size);
        let desc = 0;
        let avail = desc + DESC_SIZE as u64 * q;
        // flags, idx, ring[size], used_event.
        let used = align(avail + 6 + 2 * q, 4);
        // flags, idx, ring[size], avail_event.
        let data = align(used + 6 + USED_ELEM_SIZE * q, 16);
        (desc, avail, used, data)
    }

    /// Lays out a zeroed queue of `size` entries (a power of two up to
    /// [`MAX_SIZE`]) in `mem` (at least [`mem_size`](Self::mem_size)
    /// bytes), which the guest sees at guest physical address `gpa`.
    pub fn new(mem: &'m mut [u8], gpa: u64, size: u16) -> Self {
        assert!(
            size <= MAX_SIZE,
            "the mock lays out at most {MAX_SIZE} entries"
        );
        let q = QueueSize::new(size.into()).expect("queue size must be a power of two");
        assert!(mem.len() >= Self::mem_size(size), "mock memory too small");
        mem.fill(0);
        let (desc, avail, used, data) = Self::layout(size);
        Self {
            mem: Cell::from_mut(mem).as_slice_of_cells(),
            gpa,
            size: q,
            desc: gpa + desc,
            avail: gpa + avail,
            used: gpa + used,
            data: gpa + data,
            next_desc: 0,
            avail_idx: 0,
            used_seen: 0,
            written: Cell::new(0),
            published: Cell::new(0),
            order_errors: Cell::new(0),
            used_bytes_written: Cell::new(0),
            used_bytes_logged: Cell::new(0),
        }
    }

    /// Starts both rings at index `idx`, as after `VHOST_SET_VRING_BASE`
    /// with `idx` on a ring already used that far (wrap tests start just
    /// below 65536). The device's engine starts at the same index.
    pub fn start_at(&mut self, idx: u16) {
        self.avail_idx = idx;
        self.used_seen = idx;
        self.published.set(idx);
        self.put_u16(self.avail + avail::IDX, idx);
        self.put_u16(self.used + used::IDX, idx);
    }

    /// The queue size.
    pub fn size(&self) -> QueueSize {
        self.size
    }

    /// Guest physical addresses of the descriptor table, avail ring and
    /// used ring (what `VHOST_SET_VRING_ADDR` would carry).
    pub fn ring_addrs(&self) -> (u64, u64, u64) {
        (self.desc, self.avail, self.used)
    }

    /// Guest physical address of descriptor `index`'s buffer.
    pub fn buf_addr(&self, index: u16) -> u64 {
        self.data + BUF_LEN * u64::from(index)
    }

    fn at(&self, gpa: u64, len: u64) -> Option<&'m [Cell<u8>]> {
        let start = usize::try_from(gpa.checked_sub(self.gpa)?).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.mem.get(start..end)
    }

    fn put(&self, gpa: u64, data: &[u8]) {
        let cells = self
            .at(gpa, data.len() as u64)
            .expect("mock write out of memory");
        for (c, b) in cells.iter().zip(data) {
            c.set(*b);
        }
    }

    fn get<const N: usize>(&self, gpa: u64) -> [u8; N] {
        let mut b = [0u8; N];
        let cells = self.at(gpa, N as u64).expect("mock read out of memory");
        for (d, c) in b.iter_mut().zip(cells) {
            *d = c.get();
        }
        b
    }

    fn put_u16(&self, gpa: u64, v: u16) {
        self.put(gpa, &v.to_le_bytes());
    }

    fn get_u16(&self, gpa: u64) -> u16 {
        u16::from_le_bytes(self.get(gpa))
    }

    // The guest driver.

    /// Writes `data` at guest physical address `gpa` (an indirect table, a
    /// buffer's contents).
    ///
    /// # Panics
    ///
    /// If the range is outside the mock's memory.
    pub fn write(&self, gpa: u64, data: &[u8]) {
        self.put(gpa, data);
    }

    /// Stores descriptor `index` of the table.
    pub fn set_desc(&self, index: u16, d: Descriptor) {
        assert!(index < self.size.get(), "descriptor index past the table");
        self.put(
            self.desc + DESC_SIZE as u64 * u64::from(index),
            &d.to_le_bytes(),
        );
    }

    /// Puts `head` in the avail ring at the guest's next avail position
    /// (not yet published: see [`kick`](Self::kick)).
    pub fn offer(&mut self, head: u16) {
        let off = avail::ring(self.size.slot(self.avail_idx));
        self.put_u16(self.avail + off, head);
        self.avail_idx = self.avail_idx.wrapping_add(1);
    }

    /// Builds a chain of one descriptor per `(len, device-writable)` of
    /// `bufs`, each on its own buffer ([`buf_addr`](Self::buf_addr)),
    /// offers its head and returns it. Descriptors are handed out round
    /// robin: the test keeps at most `size` chains' worth in flight.
    pub fn add_chain(&mut self, bufs: &[(u32, bool)]) -> u16 {
        assert!(!bufs.is_empty() && bufs.len() <= usize::from(self.size.get()));
        let head = self.next_desc;
        for (i, &(len, write)) in bufs.iter().enumerate() {
            let index = self.next_desc;
            let next = self.size.slot(index.wrapping_add(1));
            let mut flags = if write { VIRTQ_DESC_F_WRITE } else { 0 };
            if i + 1 < bufs.len() {
                flags |= VIRTQ_DESC_F_NEXT;
            }
            self.set_desc(
                index,
                Descriptor {
                    addr: self.buf_addr(index),
                    len,
                    flags,
                    next,
                },
            );
            self.next_desc = next;
        }
        self.offer(head);
        head
    }

    /// Publishes the avail index: everything offered so far is available.
    pub fn kick(&self) {
        self.put_u16(self.avail + avail::IDX, self.avail_idx);
    }

    /// Writes any avail index (a hostile guest).
    pub fn set_avail_idx(&self, idx: u16) {
        self.put_u16(self.avail + avail::IDX, idx);
    }

    /// Writes any head at avail position `pos` (a hostile guest).
    pub fn set_avail_entry(&self, pos: u16, head: u16) {
        self.put_u16(self.avail + avail::ring(self.size.slot(pos)), head);
    }

    /// The guest's avail index (published or not).
    pub fn avail_idx(&self) -> u16 {
        self.avail_idx
    }

    /// Sets the avail ring's flags (`VRING_AVAIL_F_NO_INTERRUPT`).
    pub fn set_avail_flags(&self, flags: u16) {
        self.put_u16(self.avail + avail::FLAGS, flags);
    }

    /// Sets `used_event`: signal me once the used index passes it.
    pub fn set_used_event(&self, idx: u16) {
        self.put_u16(self.avail + avail::used_event(self.size), idx);
    }

    /// `avail_event` as the device wrote it: kick me once the avail index
    /// passes it.
    pub fn avail_event(&self) -> u16 {
        self.get_u16(self.used + used::avail_event(self.size))
    }

    /// The used index as the guest reads it.
    pub fn used_idx(&self) -> u16 {
        self.get_u16(self.used + used::IDX)
    }

    /// The next used entry `(id, len)` the device published, if any.
    ///
    /// # Panics
    ///
    /// If the device ever published a used index before writing an element
    /// it covers: the guest would have read a stale entry.
    pub fn pop_used(&mut self) -> Option<(u16, u32)> {
        assert_eq!(
            self.order_errors(),
            0,
            "the device published used entries before writing them"
        );
        if self.used_seen == self.used_idx() {
            return None;
        }
        let off = used::ring(self.size.slot(self.used_seen));
        let e: [u8; 8] = self.get(self.used + off);
        self.used_seen = self.used_seen.wrapping_add(1);
        let id = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let len = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
        Some((u16::try_from(id).expect("used id above 65535"), len))
    }

    // The device-side observer.

    /// Used slots covered by a used-index write whose element had not been
    /// written since the slot was last published.
    pub fn order_errors(&self) -> u32 {
        self.order_errors.get()
    }

    /// Bytes the device wrote to the used ring, and bytes it logged there.
    pub fn used_bytes(&self) -> (u64, u64) {
        (self.used_bytes_written.get(), self.used_bytes_logged.get())
    }

    fn used_ring_at(&self, off: u64, len: u64) -> Result<u64, Fault> {
        let end = off.checked_add(len).ok_or(Fault)?;
        if end > self.size.used_ring_size(true) {
            return Err(Fault);
        }
        self.used_bytes_written
            .set(self.used_bytes_written.get() + len);
        Ok(self.used + off)
    }

    fn slot_bit(&self, slot: u16) -> u64 {
        1 << (slot % MAX_SIZE)
    }
}

impl RingIo for MockSplitQueue<'_> {
    type Error = Fault;

    fn read_avail_u16(&self, off: u64) -> Result<u16, Fault> {
        let end = off.checked_add(2).ok_or(Fault)?;
        if end > self.size.avail_ring_size(true) {
            return Err(Fault);
        }
        Ok(self.get_u16(self.avail + off))
    }

    fn write_used_u16(&self, off: u64, v: u16) -> Result<(), Fault> {
        let at = self.used_ring_at(off, 2)?;
        if off == used::IDX {
            // Every slot this index write publishes must hold an element
            // written since the slot was last published.
            let from = self.published.get();
            let n = v.wrapping_sub(from);
            let mut written = self.written.get();
            if n > self.size.get() {
                self.order_errors.set(self.order_errors.get() + 1);
            } else {
                for i in 0..n {
                    let bit = self.slot_bit(self.size.slot(from.wrapping_add(i)));
                    if written & bit == 0 {
                        self.order_errors.set(self.order_errors.get() + 1);
                    }
                    written &= !bit;
                }
            }
            self.written.set(written);
            self.published.set(v);
        }
        self.put_u16(at, v);
        Ok(())
    }

    fn write_used_elem(&self, off: u64, id: u16, len: u32) -> Result<(), Fault> {
        let at = self.used_ring_at(off, USED_ELEM_SIZE)?;
        let ring = off.checked_sub(used::ring(0)).ok_or(Fault)?;
        if ring % USED_ELEM_SIZE != 0 || ring / USED_ELEM_SIZE >= u64::from(self.size.get()) {
            return Err(Fault);
        }
        let slot = (ring / USED_ELEM_SIZE) as u16;
        self.written.set(self.written.get() | self.slot_bit(slot));
        let mut e = [0u8; 8];
        e[..4].copy_from_slice(&u32::from(id).to_le_bytes());
        e[4..].copy_from_slice(&len.to_le_bytes());
        self.put(at, &e);
        Ok(())
    }

    fn log_used(&self, off: u64, len: u64) -> Result<(), Fault> {
        let end = off.checked_add(len).ok_or(Fault)?;
        if end > self.size.used_ring_size(true) {
            return Err(Fault);
        }
        self.used_bytes_logged
            .set(self.used_bytes_logged.get() + len);
        Ok(())
    }
}

impl GuestMemory for MockSplitQueue<'_> {
    fn read_obj(&self, gpa: u64, buf: &mut [u8]) -> Result<(), Error> {
        let cells = self
            .at(gpa, buf.len() as u64)
            .ok_or(Error::AddressNotMapped)?;
        for (d, c) in buf.iter_mut().zip(cells) {
            *d = c.get();
        }
        Ok(())
    }

    fn check_range(&self, gpa: u64, len: u64, _write: bool) -> Result<(), Error> {
        self.at(gpa, len).map(|_| ()).ok_or(Error::AddressNotMapped)
    }
}

impl DescTable for MockSplitQueue<'_> {
    fn size(&self) -> QueueSize {
        self.size
    }

    fn read(&self, index: u16) -> Result<Descriptor, Error> {
        assert!(index < self.size.get(), "walker read past the table");
        let mut b = [0u8; DESC_SIZE];
        self.read_obj(self.desc + DESC_SIZE as u64 * u64::from(index), &mut b)?;
        Ok(Descriptor::from_le_bytes(b))
    }
}
