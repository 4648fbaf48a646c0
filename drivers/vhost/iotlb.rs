// SPDX-License-Identifier: GPL-2.0-only

//! The device IOTLB's miss channel (upstream `vhost_iotlb_miss`,
//! `vhost_chr_read_iter` / `vhost_chr_write_iter`): a ring that needs a
//! translation the IOTLB lacks queues a [`Miss`] and waits; userspace reads
//! the miss from the device file and writes the `UPDATE` that resolves it,
//! which runs the ring again. Also the check, before a run, that a ring's
//! own areas are mapped (upstream `vq_meta_prefetch`).

use core::sync::atomic::Ordering;
use kernel::{
    fs::File,
    iov::{IovIterDest, IovIterSource},
    prelude::*,
    sync::poll::PollTable,
};

use super::dev::{Dev, VhostNet};
use super::ioctl::err;
use crate::glue::{
    poll::{EPOLLIN, EPOLLRDNORM},
    stats::{Counter, Stats},
    user,
};
use crate::vzc_core::{
    vhost::{
        abi::{self, access, IotlbMsg},
        iotlb::{self, ACCESS_RO, ACCESS_WO},
    },
    Error as CoreError,
};

/// An IOTLB miss to report to userspace (`VHOST_IOTLB_MISS`), then, once
/// read, to resolve with an `UPDATE` covering `iova`.
#[derive(Clone, Copy)]
pub(super) struct Miss {
    iova: u64,
    perm: u8,
    /// Message format: `VHOST_IOTLB_MSG_V2` if that backend feature is acked.
    format: u32,
    /// Order of creation: reads return the oldest first.
    seq: u64,
    /// Userspace has read it.
    read: bool,
}

/// Why a ring's own memory is not ready for a run ([`Dev::ring_prefetch`]).
pub(super) enum PrefetchError {
    /// No translation of `iova` for `access` (`ACCESS_*`) yet: userspace is
    /// asked for one and the ring waits.
    Miss { iova: u64, access: u8 },
    /// The ring cannot be reached (the guest broke it).
    Fault(CoreError),
}

impl Dev {
    /// With the IOTLB, checks ring `q`'s three areas are mapped for their
    /// accesses before a run (upstream `vq_meta_prefetch`), so the run's
    /// ring accesses cannot miss.
    pub(super) fn ring_prefetch(&self, q: usize) -> Result<(), PrefetchError> {
        let vq = &self.vqs[q];
        let Some(mem) = self.ring_mem() else {
            return Err(PrefetchError::Fault(CoreError::BadRegion));
        };
        let num = u32::from(vq.num);
        let ev = self.has(abi::VIRTIO_RING_F_EVENT_IDX);
        let chk = |iova: u64, len: u64, acc: u8| {
            mem.check(iova, len, acc).map_err(|(e, at)| match e {
                CoreError::IotlbMiss => PrefetchError::Miss {
                    iova: at,
                    access: acc,
                },
                e => PrefetchError::Fault(e),
            })
        };
        chk(vq.addr.desc, access::desc_size(num), ACCESS_RO)?;
        chk(vq.addr.avail, access::avail_size(num, ev), ACCESS_RO)?;
        chk(vq.addr.used, access::used_size(num, ev), ACCESS_WO)
    }

    /// Ring `q` waits for a translation of `iova`: queue a
    /// `VHOST_IOTLB_MISS` for userspace, one per ring at a time (as upstream);
    /// `msgs_ready` tells the caller to wake readers. Counted per ring.
    pub(super) fn record_miss(&mut self, q: usize, iova: u64, perm: u8, stats: &Stats) {
        if self.vqs[q].miss.is_some() {
            return;
        }
        stats.add(q, Counter::IotlbMisses, 1);
        let v2 = self.acked_backend_features & (1 << abi::VHOST_BACKEND_F_IOTLB_MSG_V2) != 0;
        self.seq += 1;
        self.vqs[q].miss = Some(Miss {
            iova,
            perm,
            format: if v2 {
                abi::VHOST_IOTLB_MSG_V2
            } else {
                abi::VHOST_IOTLB_MSG
            },
            seq: self.seq,
            read: false,
        });
        self.msgs_ready = true;
    }

    /// The oldest miss userspace has not read, with its ring.
    pub(super) fn next_miss(&self) -> Option<(usize, Miss)> {
        self.vqs
            .iter()
            .enumerate()
            .filter_map(|(q, vq)| vq.miss.filter(|m| !m.read).map(|m| (q, m)))
            .min_by_key(|(_, m)| m.seq)
    }

    /// Applies an IOTLB message (upstream `vhost_process_iotlb_msg`).
    /// Returns the rings whose miss the update covers (bit per ring), to run
    /// again. Every refusal is `EFAULT`: upstream's `vhost_chr_write_iter`
    /// turns whatever `vhost_process_iotlb_msg` returns into `EFAULT`.
    fn iotlb_msg(&mut self, m: &IotlbMsg) -> Result<u32> {
        let tlb = self.iotlb.as_mut().ok_or(EFAULT)?;
        match m.kind {
            abi::VHOST_IOTLB_UPDATE => {
                let mut e =
                    iotlb::update_entry(m.iova, m.size, m.uaddr, m.perm).map_err(|_| EFAULT)?;
                // `umem_access_ok`: what the device may touch is user memory.
                if e.perm != 0 && !user::access_ok(m.uaddr, m.size) {
                    return Err(EFAULT);
                }
                if tlb.len() >= iotlb::MAX_IOTLB_ENTRIES {
                    if let Some(i) = iotlb::oldest(tlb) {
                        let _ = tlb.remove(i);
                        iotlb::reindex(tlb);
                    }
                }
                tlb.reserve(1, GFP_KERNEL).map_err(|_| EFAULT)?;
                self.seq += 1;
                e.seq = self.seq;
                let at = iotlb::insert_index(tlb, e.start);
                tlb.insert_within_capacity(at, e).map_err(|_| EFAULT)?;
                iotlb::reindex(tlb);
                let mut wake = 0;
                for (q, vq) in self.vqs.iter_mut().enumerate() {
                    if let Some(miss) = vq.miss {
                        if e.start <= miss.iova && miss.iova <= e.last {
                            vq.miss = None;
                            wake |= 1 << q;
                        }
                    }
                }
                Ok(wake)
            }
            abi::VHOST_IOTLB_INVALIDATE => {
                if m.size == 0 {
                    return Err(EFAULT);
                }
                // As upstream, a wrapping range removes nothing.
                let last = m.iova.wrapping_add(m.size - 1);
                tlb.retain(|e| !iotlb::overlaps(e, m.iova, last));
                iotlb::reindex(tlb);
                Ok(0)
            }
            _ => Err(EFAULT),
        }
    }
}

impl VhostNet {
    /// Reads the IOTLB message channel (upstream `vhost_chr_read_iter`): the
    /// oldest unread `VHOST_IOTLB_MISS`. A buffer shorter than a message
    /// reads 0. With no miss queued, checked in upstream's order: `nonblock`
    /// is `EAGAIN`, a pending signal `ERESTARTSYS`, no IOTLB (no
    /// `ACCESS_PLATFORM` acked yet, or the owner reset) `EBADFD`; otherwise
    /// the read sleeps until a miss is queued (a signal: `ERESTARTSYS`).
    pub(super) fn read_msg(&self, nonblock: bool, iov: &mut IovIterDest<'_>) -> Result<usize> {
        if iov.len() < abi::VHOST_MSG_SIZE {
            return Ok(0);
        }
        let mut dev = self.lock();
        loop {
            if let Some((q, m)) = dev.next_miss() {
                let b = abi::encode_miss(m.format, m.iova, m.perm);
                let n = iov.copy_to_iter(&b);
                // Read whole, it waits for its UPDATE; a short copy loses
                // it, as upstream frees the message.
                let slot = &mut dev.vqs[q].miss;
                if n == b.len() {
                    *slot = Some(Miss { read: true, ..m });
                } else {
                    *slot = None;
                }
                return Ok(n);
            }
            if nonblock {
                return Err(EAGAIN);
            }
            if kernel::current!().signal_pending() {
                return Err(ERESTARTSYS);
            }
            if dev.iotlb.is_none() {
                return Err(EBADFD);
            }
            if self.msg_wait.wait_interruptible(&mut dev) {
                return Err(ERESTARTSYS);
            }
        }
    }

    /// IOTLB updates and invalidations (upstream `vhost_chr_write_iter`):
    /// malformed messages are `EINVAL`; any message the IOTLB cannot take
    /// (none set up, a range outside user space, another type) is `EFAULT`.
    /// An update that covers a ring's miss runs that ring again.
    pub(super) fn write_msg(&self, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let mut buf = [0u8; abi::IOTLB_WRITE_MIN];
        let n = iov.copy_from_iter(&mut buf);
        let m = IotlbMsg::decode(&buf[..n]).map_err(err)?;
        let wake = self.lock().iotlb_msg(&m)?;
        if wake != 0 {
            self.kicker.pending.fetch_or(wake, Ordering::AcqRel);
            self.kicker.task.wake();
        }
        Ok(abi::VHOST_MSG_SIZE)
    }

    /// Polls the message channel: readable while a miss is unread.
    pub(super) fn poll_msg(&self, file: &File, table: PollTable<'_>) -> u32 {
        table.register_wait(file, &self.msg_wait);
        if self.lock().next_miss().is_some() {
            EPOLLIN | EPOLLRDNORM
        } else {
            0
        }
    }
}
