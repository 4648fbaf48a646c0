// SPDX-License-Identifier: GPL-2.0-only
//! Descriptor-chain walking: from an avail-ring head to validated segments.
//!
//! This is upstream `vhost_get_vq_desc` + `get_indirect` without the iovec
//! filling: the walker checks every index, detects loops, follows at most
//! one level of indirection and enforces read-before-write ordering, and
//! yields guest segments whose ranges are known to be mapped.

use super::super::error::Error;
use super::desc::{Descriptor, QueueSize, DESC_SIZE, MAX_CHAIN_BYTES, MAX_INDIRECT_DESCS};

/// Access to a queue's descriptor table.
///
/// The kernel implements this with `copy_from_user` from the ring address
/// userspace set; tests implement it over a byte array. The walker only
/// calls `read` with `index < size()`.
pub trait DescTable {
    /// The queue size, which is also the number of table entries.
    fn size(&self) -> QueueSize;
    /// Reads and decodes entry `index`; an access failure is the
    /// implementation's error (typically [`Error::Fault`]).
    fn read(&self, index: u16) -> Result<Descriptor, Error>;
}

/// Where [`DescChain::collect_into`] appends a chain's segments: a list of
/// bounded capacity the caller owns (the kernel's `KVec`, allocated once).
///
/// There is no way to pre-fill an array with segments: a [`Segment`] only
/// comes from the walker, so a list holds only ranges that were validated.
pub trait SegmentSink {
    /// Appends `seg`, or fails if the list is full.
    fn push_segment(&mut self, seg: Segment) -> Result<(), SinkFull>;
}

/// A [`SegmentSink`] is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkFull;

/// Access to guest physical memory, for indirect tables and range checks.
///
/// The kernel implements this on top of [`MemTable`](super::super::MemTable)
/// (`check_range` delegates to it, `read_obj` copies from each translated
/// host range); tests implement it over a byte array.
pub trait GuestMemory {
    /// Fills `buf` from guest physical address `gpa`. The range may span
    /// several memory regions.
    fn read_obj(&self, gpa: u64, buf: &mut [u8]) -> Result<(), Error>;
    /// Checks that `[gpa, gpa + len)` is entirely mapped, for device
    /// writes if `write` (with an IOTLB, mappings carry permissions).
    fn check_range(&self, gpa: u64, len: u64, write: bool) -> Result<(), Error>;
}

/// One guest buffer of a chain, validated by the walker.
///
/// Fields are private: a `Segment` is proof that its range was mapped when
/// the chain was walked and that it respects chain ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    gpa: u64,
    len: u32,
    writable: bool,
}

// A segment is never empty (the walker skips zero-length descriptors), so
// it has no `is_empty` to pair with `len`: it would always be false.
#[allow(clippy::len_without_is_empty)]
impl Segment {
    /// Guest physical start address.
    pub fn gpa(&self) -> u64 {
        self.gpa
    }

    /// Length in bytes; never zero (zero-length descriptors are skipped).
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the device may write the buffer (virtio "in" buffer).
    pub fn writable(&self) -> bool {
        self.writable
    }
}

/// Totals of a chain collected by [`DescChain::collect_into`].
///
/// Mirrors upstream's `out_num`/`in_num` outputs, plus byte totals so the
/// caller can size copies and the used-ring `len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChainSummary {
    /// Number of device-readable segments (they come first).
    pub readable: usize,
    /// Number of device-writable segments (they follow the readable ones).
    pub writable: usize,
    /// Total bytes of the readable segments.
    pub read_bytes: u32,
    /// Total bytes of the writable segments.
    pub write_bytes: u32,
}

impl ChainSummary {
    /// Total number of segments written to the output array.
    pub fn count(&self) -> usize {
        self.readable + self.writable
    }
}

/// Position inside an indirect table.
#[derive(Debug, Clone, Copy)]
struct Indirect {
    /// Guest address of the table (validated as mapped).
    base: u64,
    /// Number of entries, `1..=MAX_INDIRECT_DESCS`.
    count: u32,
    /// Next entry to visit, `None` when the indirect chain ended.
    next: Option<u32>,
    /// Entries visited so far, for loop detection within the table.
    found: u32,
}

/// What one walker step produced.
enum Step {
    Segment(Segment),
    /// A descriptor that yields no segment (zero length, or an indirect
    /// descriptor that was entered).
    Skip,
    End,
}

/// Walks one descriptor chain, yielding its segments.
///
/// An [`Iterator`] over `Result<Segment, Error>`: after the first error it
/// yields nothing more, so a partially walked chain is never mistaken for a
/// complete one. It always terminates: main-table visits are capped at the
/// queue size and indirect visits at the table's entry count.
///
/// Rules (upstream vhost unless noted):
/// - head and every `next` must be `< size` (or `< count` inside an
///   indirect table): [`Error::IndexOutOfRange`];
/// - more visits than entries: [`Error::Loop`];
/// - an indirect descriptor must have a nonzero length that is a multiple
///   of 16 ([`Error::BadIndirectLen`]), at most 65536 entries
///   ([`Error::IndirectTooBig`]), lie in mapped memory, and not contain
///   another indirect descriptor ([`Error::NestedIndirect`]); its `WRITE`
///   flag is ignored (virtio 2.7.5.3.2);
/// - `INDIRECT` together with `NEXT` is rejected ([`Error::IndirectWithNext`]).
///   Upstream tolerates it and continues in the main table; the spec says a
///   driver must not do it, and refusing keeps one level of tables simple;
/// - a readable buffer after a writable one: [`Error::ReadAfterWrite`];
/// - total bytes above [`MAX_CHAIN_BYTES`]: [`Error::LengthOverflow`];
/// - zero-length descriptors are skipped entirely (no segment, no address
///   check, no effect on ordering), exactly as upstream's `translate_desc`
///   produces no iovec for them; they still count towards loop detection.
pub struct DescChain<'a, T: ?Sized, M: ?Sized> {
    table: &'a T,
    mem: &'a M,
    head: u16,
    next: Option<u16>,
    indirect: Option<Indirect>,
    /// Main-table descriptors visited.
    found: u32,
    wrote: bool,
    total: u64,
    done: bool,
}

impl<'a, T: DescTable + ?Sized, M: GuestMemory + ?Sized> DescChain<'a, T, M> {
    /// Starts a walk at `head`, as read from the avail ring.
    ///
    /// The head is checked lazily (the first item is then an error), so
    /// there is a single place where every index check happens.
    pub fn new(table: &'a T, mem: &'a M, head: u16) -> Self {
        DescChain {
            table,
            mem,
            head,
            next: Some(head),
            indirect: None,
            found: 0,
            wrote: false,
            total: 0,
            done: false,
        }
    }

    /// The head index, to be returned in the used ring.
    pub fn head(&self) -> u16 {
        self.head
    }

    /// Walks the whole chain, appending its segments to `out`, with no
    /// allocation.
    ///
    /// Fails with [`Error::TooManySegments`] as soon as a segment does not
    /// fit (upstream's `ENOBUFS` for a full iovec array), or with the first
    /// chain error. On error `out` may hold some of the chain's segments.
    pub fn collect_into<S: SegmentSink + ?Sized>(self, out: &mut S) -> Result<ChainSummary, Error> {
        let mut sum = ChainSummary::default();
        for seg in self {
            let seg = seg?;
            out.push_segment(seg)
                .map_err(|SinkFull| Error::TooManySegments)?;
            // Cannot overflow: the walker caps the chain total at u32::MAX.
            if seg.writable {
                sum.writable += 1;
                sum.write_bytes += seg.len;
            } else {
                sum.readable += 1;
                sum.read_bytes += seg.len;
            }
        }
        Ok(sum)
    }

    fn step(&mut self) -> Result<Step, Error> {
        if let Some(ind) = self.indirect.as_mut() {
            let Some(i) = ind.next else {
                // INDIRECT+NEXT is rejected, so the chain ends with the table.
                return Ok(Step::End);
            };
            if i >= ind.count {
                return Err(Error::IndexOutOfRange);
            }
            ind.found += 1;
            if ind.found > ind.count {
                return Err(Error::Loop);
            }
            let mut buf = [0u8; DESC_SIZE];
            // In bounds: i < count and base + 16 * count was checked mapped
            // (so it does not overflow).
            self.mem
                .read_obj(ind.base + u64::from(i) * DESC_SIZE as u64, &mut buf)?;
            let desc = Descriptor::from_le_bytes(buf);
            if desc.is_indirect() {
                return Err(Error::NestedIndirect);
            }
            ind.next = if desc.has_next() {
                Some(u32::from(desc.next))
            } else {
                None
            };
            return self.segment(desc);
        }

        let Some(i) = self.next else {
            return Ok(Step::End);
        };
        let size = self.table.size().get();
        if i >= size {
            return Err(Error::IndexOutOfRange);
        }
        self.found += 1;
        if self.found > u32::from(size) {
            return Err(Error::Loop);
        }
        let desc = self.table.read(i)?;
        if desc.is_indirect() {
            if desc.has_next() {
                return Err(Error::IndirectWithNext);
            }
            if desc.len == 0 || desc.len as usize % DESC_SIZE != 0 {
                return Err(Error::BadIndirectLen);
            }
            let count = desc.len / DESC_SIZE as u32;
            if count > MAX_INDIRECT_DESCS {
                return Err(Error::IndirectTooBig);
            }
            // Upstream translates the whole table before reading it.
            self.mem
                .check_range(desc.addr, u64::from(desc.len), false)?;
            self.next = None;
            self.indirect = Some(Indirect {
                base: desc.addr,
                count,
                next: Some(0),
                found: 0,
            });
            return Ok(Step::Skip);
        }
        self.next = if desc.has_next() {
            Some(desc.next)
        } else {
            None
        };
        self.segment(desc)
    }

    /// Validates a non-indirect descriptor as a buffer.
    fn segment(&mut self, desc: Descriptor) -> Result<Step, Error> {
        if desc.len == 0 {
            return Ok(Step::Skip);
        }
        // Translate first, as upstream does, so an unmapped buffer is
        // reported as such (EFAULT) even if it is also misordered.
        let writable = desc.is_write();
        self.mem
            .check_range(desc.addr, u64::from(desc.len), writable)?;
        if writable {
            self.wrote = true;
        } else if self.wrote {
            return Err(Error::ReadAfterWrite);
        }
        // Cannot overflow u64: at most 32768 + 65536 segments of < 2^32.
        self.total += u64::from(desc.len);
        if self.total > MAX_CHAIN_BYTES {
            return Err(Error::LengthOverflow);
        }
        Ok(Step::Segment(Segment {
            gpa: desc.addr,
            len: desc.len,
            writable,
        }))
    }
}

impl<T: DescTable + ?Sized, M: GuestMemory + ?Sized> Iterator for DescChain<'_, T, M> {
    type Item = Result<Segment, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        // Bounded: every Skip consumes a visit counted by `found`.
        while !self.done {
            match self.step() {
                Ok(Step::Segment(s)) => return Some(Ok(s)),
                Ok(Step::Skip) => {}
                Ok(Step::End) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}
