// SPDX-License-Identifier: GPL-2.0-only

//! Guest memory and split-ring access for the worker (upstream
//! `vhost_copy_to_user` / `vhost_copy_from_user`, `translate_desc`,
//! `log_write`).
//!
//! The worker is a thread of the owner, so guest memory is the owner's user
//! memory: every access is a fault-checked user copy, and every address comes
//! from the memory table (`vzc_core::MemTable`) or from the ring addresses
//! userspace set. Whatever the guest wrote is parsed by the core first.

use core::{cell::Cell, ops::Range};
use kernel::prelude::*;

use crate::glue::user;
use crate::vzc_core::{
    vhost::{
        dirty,
        iotlb::{Iotlb, IotlbTranslate, ACCESS_RO, ACCESS_WO},
    },
    DescTable, Descriptor, Error as RingError, GuestMemory, HostRange, MemTable, QueueSize,
    Translate, DESC_SIZE,
};

/// Guest memory as the owner's user memory: through the memory table, or,
/// with `VIRTIO_F_ACCESS_PLATFORM`, through the IOTLB (descriptor addresses
/// are then IOVAs; the memory table still maps host addresses back to guest
/// ones for the dirty log).
pub(super) struct Guest<'a> {
    pub(super) mem: MemTable<'a>,
    pub(super) tlb: Option<Iotlb<'a>>,
    /// The first IOTLB miss of this run, `(iova, access)`: the ring waits
    /// for userspace to map it.
    pub(super) miss: Cell<Option<(u64, u8)>>,
}

/// A translation in progress, through the memory table or the IOTLB.
pub(super) enum Xlate<'g> {
    Mem(Translate<'g>),
    Tlb(IotlbTranslate<'g>, &'g Cell<Option<(u64, u8)>>, u8),
}

impl Iterator for Xlate<'_> {
    type Item = Result<HostRange, RingError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Xlate::Mem(t) => t.next(),
            Xlate::Tlb(t, miss, access) => {
                let r = t.next();
                if let (Some(Err(RingError::IotlbMiss)), Some(iova)) = (&r, t.miss()) {
                    if miss.get().is_none() {
                        miss.set(Some((iova, *access)));
                    }
                }
                r
            }
        }
    }
}

impl<'a> Guest<'a> {
    /// Guest memory without an IOTLB.
    pub(super) fn new(mem: MemTable<'a>, tlb: Option<Iotlb<'a>>) -> Self {
        Self {
            mem,
            tlb,
            miss: Cell::new(None),
        }
    }

    /// Host ranges of `[addr, addr + len)`, for device writes if `write`.
    pub(super) fn xlate(&self, addr: u64, len: u64, write: bool) -> Xlate<'_> {
        match &self.tlb {
            None => Xlate::Mem(self.mem.translate_iter(addr, len)),
            Some(t) => {
                let access = if write { ACCESS_WO } else { ACCESS_RO };
                Xlate::Tlb(t.translate_iter(addr, len, access), &self.miss, access)
            }
        }
    }

    /// Logs a device write of `len` bytes at `addr` (a GPA, or an IOVA
    /// with the IOTLB: then by host address, as upstream `log_write_hva`).
    pub(super) fn log_write(&self, log: &Log, addr: u64, len: u64) -> Result {
        if self.tlb.is_none() {
            return log.write(addr, len);
        }
        for piece in self.xlate(addr, len, true) {
            let p = piece.map_err(|_| EFAULT)?;
            self.log_hva(log, p.addr(), p.len())?;
        }
        Ok(())
    }

    /// Logs host range `[hva, hva + len)` at the guest addresses it backs.
    pub(super) fn log_hva(&self, log: &Log, hva: u64, len: u64) -> Result {
        self.mem
            .for_each_gpa(hva, len, |gpa, n| log.write(gpa, n))
            .map_err(|e| e.unwrap_or(EFAULT))
    }
}

/// Why a copy through [`for_each_piece`] failed.
pub(super) enum PieceError {
    /// The range does not translate (the translation's error).
    Xlate(RingError),
    /// A piece's host address is unusable, or its user copy faulted.
    Fault,
}

/// Runs `copy(hva, at)` on each host piece of an access of `len` bytes, in
/// order: `hva` is the piece's user address, `at` its bytes within the
/// access (the pieces cover `0..len`). The first error ends the walk.
pub(super) fn for_each_piece(
    pieces: impl Iterator<Item = Result<HostRange, RingError>>,
    len: usize,
    mut copy: impl FnMut(usize, Range<usize>) -> Result,
) -> Result<(), PieceError> {
    let mut done = 0usize;
    for piece in pieces {
        let p = piece.map_err(PieceError::Xlate)?;
        let hva = usize::try_from(p.addr()).map_err(|_| PieceError::Fault)?;
        let end = usize::try_from(p.len())
            .ok()
            .and_then(|n| done.checked_add(n))
            .filter(|&end| end <= len)
            .ok_or(PieceError::Fault)?;
        copy(hva, done..end).map_err(|_| PieceError::Fault)?;
        done = end;
    }
    Ok(())
}

impl GuestMemory for Guest<'_> {
    fn read_obj(&self, gpa: u64, buf: &mut [u8]) -> Result<(), RingError> {
        let len = buf.len();
        for_each_piece(self.xlate(gpa, len as u64, false), len, |hva, at| {
            user::read_into(hva, &mut buf[at])
        })
        .map_err(|e| match e {
            PieceError::Xlate(e) => e,
            PieceError::Fault => RingError::Fault,
        })
    }

    fn check_range(&self, gpa: u64, len: u64, write: bool) -> Result<(), RingError> {
        for piece in self.xlate(gpa, len, write) {
            piece?;
        }
        Ok(())
    }
}

/// How ring addresses reach memory: they are the VMM's addresses, or, with
/// the IOTLB, IOVAs translated per access (a ring may be split across host
/// memory: behind a vIOMMU its pages need not be adjacent). The memory table
/// maps the host pages back to guest ones for the dirty log.
#[derive(Clone, Copy)]
pub(super) enum RingMem<'a> {
    User,
    Tlb(Iotlb<'a>, MemTable<'a>),
}

impl RingMem<'_> {
    /// Checks that `len` bytes at `addr` can be accessed (`ACCESS_*`); with
    /// the IOTLB `Err((why, iova))` says what to ask userspace for
    /// (upstream `vq_meta_prefetch`). Nothing to check for user addresses:
    /// every access is fault-checked.
    pub(super) fn check(&self, addr: u64, len: u64, access: u8) -> Result<(), (RingError, u64)> {
        match self {
            RingMem::User => Ok(()),
            RingMem::Tlb(t, _) => t.check(addr, len.max(1), access),
        }
    }

    /// Runs `copy(hva, at)` over the host pieces of `len` bytes at ring
    /// address `addr` for `access` (`ACCESS_*`), as [`for_each_piece`]:
    /// one piece for a user address, as many as the IOTLB maps otherwise.
    fn for_each_hva(
        &self,
        addr: u64,
        len: usize,
        access: u8,
        copy: impl FnMut(usize, Range<usize>) -> Result,
    ) -> Result {
        match self {
            RingMem::User => {
                let mut copy = copy;
                copy(uaddr(addr, 0)?, 0..len)
            }
            RingMem::Tlb(t, _) => {
                for_each_piece(t.translate_iter(addr, len as u64, access), len, copy)
                    .map_err(|_| EFAULT)
            }
        }
    }

    /// Fills `buf` from ring address `addr`.
    pub(super) fn read(&self, addr: u64, buf: &mut [u8]) -> Result {
        self.for_each_hva(addr, buf.len(), ACCESS_RO, |hva, at| {
            user::read_into(hva, &mut buf[at])
        })
    }

    /// Writes `data` at ring address `addr`.
    pub(super) fn write(&self, addr: u64, data: &[u8]) -> Result {
        self.for_each_hva(addr, data.len(), ACCESS_WO, |hva, at| {
            user::write_bytes(hva, &data[at])
        })
    }

    /// The host address of the `u16` at ring address `addr`, if one piece
    /// of memory holds both bytes (always, unless a hostile IOTLB splits an
    /// odd address; rings are aligned, `SET_VRING_ADDR` checks).
    fn u16_hva(&self, addr: u64, access: u8) -> Result<Option<usize>> {
        match self {
            RingMem::User => uaddr(addr, 0).map(Some),
            RingMem::Tlb(t, _) => match t.translate_iter(addr, 2, access).next() {
                Some(Ok(p)) if p.len() >= 2 => uaddr(p.addr(), 0).map(Some),
                Some(Ok(_)) => Ok(None),
                _ => Err(EFAULT),
            },
        }
    }

    /// Reads the little-endian `u16` at ring address `addr` with one load:
    /// the guest moves its indices while we read them, and a byte-wise copy
    /// may combine the old low byte with the new high one (an index up to
    /// 255 ahead of the truth: heads never published, or an "avail jump").
    pub(super) fn read_u16(&self, addr: u64) -> Result<u16> {
        match self.u16_hva(addr, ACCESS_RO)? {
            Some(hva) => user::read_u16(hva).map(u16::from_le),
            None => {
                let mut b = [0u8; 2];
                self.read(addr, &mut b)?;
                Ok(u16::from_le_bytes(b))
            }
        }
    }

    /// Writes the little-endian `u16` `v` at ring address `addr` with one
    /// store, so the guest never sees half an index.
    pub(super) fn write_u16(&self, addr: u64, v: u16) -> Result {
        match self.u16_hva(addr, ACCESS_WO)? {
            Some(hva) => user::write_u16(hva, v.to_le()),
            None => self.write(addr, &v.to_le_bytes()),
        }
    }

    /// Logs a write of `len` bytes at ring address `addr`, whose guest
    /// address is `gpa` without the IOTLB (`log_guest_addr`); with it, the
    /// host pages are mapped back (upstream `log_used` + `log_write_hva`).
    pub(super) fn log_write(&self, log: &Log, addr: u64, gpa: u64, len: u64) -> Result {
        match self {
            RingMem::User => log.write(gpa, len),
            RingMem::Tlb(t, mem) => {
                for p in t.translate_iter(addr, len, ACCESS_WO) {
                    let p = p.map_err(|_| EFAULT)?;
                    mem.for_each_gpa(p.addr(), p.len(), |g, n| log.write(g, n))
                        .map_err(|e| e.unwrap_or(EFAULT))?;
                }
                Ok(())
            }
        }
    }
}

/// The descriptor table at a ring address.
pub(super) struct UserDescTable<'a> {
    pub(super) addr: u64,
    pub(super) size: QueueSize,
    pub(super) mem: RingMem<'a>,
}

impl DescTable for UserDescTable<'_> {
    fn size(&self) -> QueueSize {
        self.size
    }

    fn read(&self, index: u16) -> Result<Descriptor, RingError> {
        let at = self
            .addr
            .checked_add(DESC_SIZE as u64 * u64::from(index))
            .ok_or(RingError::Fault)?;
        let mut b = [0u8; DESC_SIZE];
        self.mem.read(at, &mut b).map_err(|_| RingError::Fault)?;
        Ok(Descriptor::from_le_bytes(b))
    }
}

fn uaddr(base: u64, off: u64) -> Result<usize> {
    base.checked_add(off)
        .and_then(|a| usize::try_from(a).ok())
        .ok_or(EFAULT)
}

/// Reads a little-endian `u16` at ring address `base + off` (one load).
pub(super) fn get_u16(m: &RingMem<'_>, base: u64, off: u64) -> Result<u16> {
    m.read_u16(base.checked_add(off).ok_or(EFAULT)?)
}

/// Writes a little-endian `u16` at ring address `base + off` (one store).
pub(super) fn put_u16(m: &RingMem<'_>, base: u64, off: u64, v: u16) -> Result {
    m.write_u16(base.checked_add(off).ok_or(EFAULT)?, v)
}

/// Writes `data` at ring address `base + off`.
pub(super) fn put(m: &RingMem<'_>, base: u64, off: u64, data: &[u8]) -> Result {
    m.write(base.checked_add(off).ok_or(EFAULT)?, data)
}

/// Where the dirty log goes, when `VHOST_F_LOG_ALL` is on.
#[derive(Clone, Copy)]
pub(super) struct Log {
    pub(super) base: u64,
    /// End of guest memory: no GPA at or past it can have been written.
    pub(super) gpa_end: u64,
}

impl Log {
    /// Logs a device write of `len` bytes at guest address `gpa`.
    pub(super) fn write(&self, gpa: u64, len: u64) -> Result {
        let bits = dirty::log_bits(self.base, gpa, len, self.gpa_end).ok_or(EFAULT)?;
        for b in bits {
            user::set_bit(b.addr, b.bit)?;
        }
        Ok(())
    }
}

/// Highest end address of the memory table's regions.
pub(super) fn gpa_end(mem: &MemTable<'_>) -> u64 {
    mem.regions()
        .iter()
        .map(|r| r.guest_phys_addr.saturating_add(r.size))
        .max()
        .unwrap_or(0)
}
