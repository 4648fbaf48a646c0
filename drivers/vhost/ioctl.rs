// SPDX-License-Identifier: GPL-2.0-only

//! The ioctl ABI of `/dev/vhost-net` (upstream `vhost_net_ioctl`,
//! `vhost_dev_ioctl`, `vhost_vring_ioctl`): owner, features, memory table,
//! log, backends and the per-ring ioctls.
//!
//! The ioctls are checked in the order upstream checks them, so a VMM sees the
//! same errno for the same mistake (Documentation/vhost.rst has the table).
//! `VHOST_SET_OWNER` starts the worker (a thread of the owner); kicks and the
//! tap's readiness queue work to it ([`super::worker`]).

use kernel::{
    prelude::*,
    sync::{Arc, ArcBorrow},
};

use super::backend::{Backend, Scratch};
use super::dev::{log_used_access_ok, rings_access_ok, Dev, VhostNet, RX, TX};
use super::guest_mem::{self, RingMem};
use super::worker::{Kicker, TOKEN_SOCK};
use crate::control::attach::{Attachment, Watch};
use crate::glue::{
    eventfd::{EventfdCtx, EventfdFile},
    poll::{PollFile, Polled, EPOLLIN, EPOLLOUT},
    socket::BackendSocket,
    user,
    worker::Task,
};
use crate::vzc_core::{
    vhost::{
        abi::{self, access, VringAddr, VringFile, VringState},
        iotlb::ACCESS_RO,
    },
    virtio::split::used as used_off,
    Error as CoreError, MemTable,
};

/// Turns an ABI errno from the core into a kernel `Error`.
pub(super) fn err(e: i32) -> Error {
    Error::from_errno(-e)
}

/// Reads the `u64` ioctl argument at `arg`.
fn read_u64(arg: usize) -> Result<u64> {
    Ok(u64::from_le_bytes(user::read_bytes::<8>(arg)?))
}

/// Writes `v` to the `u64` ioctl argument at `arg`.
fn write_u64(arg: usize, v: u64) -> Result {
    user::write_bytes(arg, &v.to_le_bytes())
}

impl VhostNet {
    /// `vhost_net_ioctl`: the device-wide ioctls that need no owner (or
    /// make one), `SET_BACKEND`, then the rest after the owner check
    /// ([`Self::dev_ioctl`]).
    pub(super) fn net_ioctl(this: ArcBorrow<'_, Self>, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            abi::VHOST_GET_FEATURES => write_u64(arg, abi::VHOST_ZC_FEATURES)?,
            // Upstream checks neither of these against the owner.
            abi::VHOST_SET_FEATURES => this.set_features(read_u64(arg)?)?,
            abi::VHOST_GET_FEATURES_ARRAY => this.get_features_array(arg)?,
            abi::VHOST_SET_FEATURES_ARRAY => this.set_features_array(arg)?,
            abi::VHOST_GET_BACKEND_FEATURES => write_u64(arg, abi::VHOST_ZC_BACKEND_FEATURES)?,
            abi::VHOST_SET_BACKEND_FEATURES => {
                let f =
                    abi::features(read_u64(arg)?, abi::VHOST_ZC_BACKEND_FEATURES).map_err(err)?;
                this.lock().acked_backend_features = f;
            }
            abi::VHOST_SET_OWNER => {
                let mut dev = this.lock();
                if dev.owner.is_some() {
                    return Err(EBUSY);
                }
                let cur = kernel::current!();
                let mm = cur.mm().and_then(|mm| mm.mmget_not_zero()).ok_or(EINVAL)?;
                let scratch = Scratch::new()?;
                // A thread of the caller: it works in the owner's mm.
                let worker =
                    Task::start(this.into(), c"vhost-zc", &this.kicker.task).map_err(|_| ENOMEM)?;
                dev.scratch = Some(scratch);
                dev.worker = Some(worker);
                dev.owner = Some(mm);
            }
            abi::VHOST_RESET_OWNER => {
                let worker = {
                    let mut dev = this.lock();
                    dev.check_owner()?;
                    dev.take_worker()
                };
                if let Some(w) = worker {
                    w.stop(&this.kicker.task);
                }
                this.lock().reset();
            }
            abi::VHOST_NET_SET_BACKEND => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                let mut dev = this.lock();
                dev.check_owner()?;
                let q = abi::vring_index(f.index).map_err(err)?;
                this.set_backend(&mut dev, q, f.fd)?;
            }
            abi::VHOST_SET_FORK_FROM_OWNER => {
                let mut dev = this.lock();
                if dev.owner.is_some() {
                    return Err(EBUSY);
                }
                let v = user::read_bytes::<1>(arg)?[0];
                dev.fork_owner = abi::fork_from_owner(v).map_err(err)?;
            }
            abi::VHOST_GET_FORK_FROM_OWNER => {
                let v = u8::from(this.lock().fork_owner);
                user::write_bytes(arg, &[v])?;
            }
            _ => {
                let mut dev = this.lock();
                dev.check_owner()?;
                return this.dev_ioctl(&mut dev, cmd, arg);
            }
        }
        Ok(0)
    }

    /// Polls `file` for ring `q` (`mask`: kicks, socket readiness).
    fn poll<F: PollFile>(
        &self,
        q: usize,
        mask: u32,
        sock: bool,
        file: F,
    ) -> Result<Polled<F, Kicker>> {
        let token = q as u32 | if sock { TOKEN_SOCK } else { 0 };
        Polled::new(file, self.kicker.clone(), token, mask)
    }

    fn set_features(&self, f: u64) -> Result {
        let f = abi::features(f, abi::VHOST_ZC_FEATURES).map_err(err)?;
        let mut dev = self.lock();
        // Logging everything needs a log that covers all memory.
        if f & (1 << abi::VHOST_F_LOG_ALL) != 0 && !dev.memory_access_ok(None, dev.log_base, true) {
            return Err(EFAULT);
        }
        // A fresh, empty IOTLB each time ACCESS_PLATFORM is acked
        // (upstream `vhost_init_device_iotlb`); it stays if a later call
        // drops the bit, as upstream.
        if f & (1 << abi::VIRTIO_F_ACCESS_PLATFORM) != 0 {
            dev.iotlb = Some(KVec::new());
        }
        dev.acked_features = f;
        for b in dev.vqs.iter().filter_map(|vq| vq.backend.as_ref()) {
            b.set_features(f);
        }
        // SET_FEATURES needs no owner: anyone else leaves it to the worker
        // (the port told it, if the wish changed).
        if dev.check_owner().is_ok() {
            dev.follow_port(false);
        }
        Ok(())
    }

    /// `VHOST_GET_FEATURES_ARRAY`: `{u64 count; u64 features[count]}`; words
    /// past the ones the kernel knows are zeroed.
    fn get_features_array(&self, arg: usize) -> Result {
        let count = read_u64(arg)?;
        let words = [abi::VHOST_ZC_FEATURES, 0];
        let n = core::cmp::min(count, abi::FEATURES_U64S as u64) as usize;
        for (i, w) in words.iter().take(n).enumerate() {
            write_u64(arg + 8 + 8 * i, *w)?;
        }
        if count > abi::FEATURES_U64S as u64 {
            let extra = (count - abi::FEATURES_U64S as u64).saturating_mul(8);
            crate::glue::user::clear(arg + 8 + 8 * abi::FEATURES_U64S, extra)?;
        }
        Ok(())
    }

    /// `VHOST_SET_FEATURES_ARRAY`: unknown nonzero words are `EOPNOTSUPP`.
    fn set_features_array(&self, arg: usize) -> Result {
        let count = read_u64(arg)?;
        let mut words = [0u64; abi::FEATURES_U64S];
        let n = core::cmp::min(count, abi::FEATURES_U64S as u64) as usize;
        for (i, w) in words.iter_mut().take(n).enumerate() {
            *w = read_u64(arg + 8 + 8 * i)?;
        }
        // As upstream: every extra word must be readable and zero. The walk
        // ends at the first fault, so it is bounded by the caller's mapping.
        let mut i = abi::FEATURES_U64S as u64;
        while i < count {
            let at = (arg as u64)
                .checked_add(8 + 8 * i)
                .and_then(|a| usize::try_from(a).ok())
                .ok_or(EFAULT)?;
            if read_u64(at)? != 0 {
                return Err(EOPNOTSUPP);
            }
            i += 1;
        }
        if words[1] != 0 {
            return Err(EOPNOTSUPP);
        }
        self.set_features(words[0])
    }

    /// `VHOST_NET_SET_BACKEND` after the owner and index checks: attach the
    /// tap `fd` to ring `q` (or detach with -1), as upstream
    /// `vhost_net_set_backend` + `vhost_vq_init_access`.
    fn set_backend(&self, dev: &mut Dev, q: usize, fd: i32) -> Result {
        // Upstream verifies the ring before it looks at the fd, even -1.
        if !dev.vq_access_ok(q, dev.log_base) {
            return Err(EFAULT);
        }
        if fd == -1 {
            dev.vqs[q].backend = None;
            dev.follow_port(false);
            return Ok(());
        }
        let sock = BackendSocket::get(fd)?;
        // Before the ring's state changes: registering may fail (ENOMEM).
        let attach = match sock.tap_identity() {
            Some((net, tap)) => {
                // The RX ring's registration carries the device's pins.
                let watch: Option<Arc<dyn Watch>> = (q == RX).then(|| {
                    let k: Arc<dyn Watch> = self.kicker.clone();
                    k
                });
                Some(Attachment::new(net, tap, dev.acked_features, watch)?)
            }
            None => None,
        };
        // The used ring must be writable and its index readable: the ring
        // continues from where the guest's used index is. With the IOTLB
        // both must be mapped now: a miss is queued and the ioctl fails, as
        // upstream `vhost_vq_init_access` (flags written, then idx read;
        // upstream translates both for reading, `__vhost_get_user_slow`,
        // so the miss it reports says RO, and so does this one).
        let used_iova = dev.vqs[q].addr.used;
        let used = |dev: &mut Dev, off: u64, acc: u8| -> Result<u64> {
            let iova = used_iova.checked_add(off).ok_or(EFAULT)?;
            let Some(t) = dev.tlb() else {
                return Ok(iova);
            };
            match t.translate_contiguous(iova, 2, acc) {
                Ok(h) => Ok(h),
                Err((CoreError::IotlbMiss, at)) => {
                    dev.record_miss(q, at, acc, &self.kicker.stats);
                    dev.msgs_ready = false;
                    self.msg_wait.notify_all();
                    Err(EFAULT)
                }
                Err(_) => Err(EFAULT),
            }
        };
        let flags = used(dev, used_off::FLAGS, ACCESS_RO)?;
        guest_mem::put_u16(&RingMem::User, flags, 0, 0)?;
        let idx = used(dev, used_off::IDX, ACCESS_RO)?;
        let used_idx = guest_mem::get_u16(&RingMem::User, idx, 0)?;
        let mask = if q == TX { EPOLLOUT } else { EPOLLIN };
        let vq = &mut dev.vqs[q];
        vq.queue.last_used_idx = used_idx;
        vq.queue.notifier.reset();
        vq.broken = false;
        vq.blocked_at = None;
        // Polling starts with a wake-up if the tap is ready (TX: writable),
        // which runs the ring once; the old backend stops as it is dropped.
        vq.backend = Some(Backend::Tap {
            sock: self.poll(q, mask, true, sock)?,
            tap_use: attach,
        });
        dev.follow_port(false);
        Ok(())
    }

    fn set_mem_table(dev: &mut Dev, arg: usize) -> Result {
        let hdr = user::read_bytes::<{ abi::MEM_HEADER_SIZE }>(arg)?;
        let n = abi::mem_header(&hdr, abi::DEFAULT_MAX_MEM_REGIONS).map_err(err)?;
        let mut regions = KVec::with_capacity(n, GFP_KERNEL)?;
        for i in 0..n {
            let b = user::read_bytes::<{ abi::MEM_REGION_SIZE }>(
                arg + abi::MEM_HEADER_SIZE + i * abi::MEM_REGION_SIZE,
            )?;
            regions.push(abi::mem_region(&b), GFP_KERNEL)?;
        }
        // Upstream reports a region its IOTLB rejects as EFAULT; so do we.
        MemTable::new(&regions).map_err(|_| EFAULT)?;
        if !dev.memory_access_ok(Some(&regions), dev.log_base, false) {
            return Err(EFAULT);
        }
        dev.mem = regions;
        dev.mem_set = true;
        // Pins of the old table go; the new one is pinned if wanted (also
        // a retry after a failed pin, e.g. with a larger RLIMIT_MEMLOCK).
        dev.follow_port(true);
        Ok(())
    }

    /// `vhost_dev_ioctl` after the owner check, then `vhost_vring_ioctl`.
    fn dev_ioctl(&self, dev: &mut Dev, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            abi::VHOST_SET_MEM_TABLE => Self::set_mem_table(dev, arg)?,
            abi::VHOST_SET_LOG_BASE => {
                let base = read_u64(arg)?;
                // Every running ring must be loggable at the new base.
                // Upstream keeps a base per ring and moves those that pass;
                // here it is one for the device, kept as it was on failure.
                for q in 0..dev.vqs.len() {
                    if dev.vqs[q].backend.is_some() && !dev.vq_log_access_ok(q, base) {
                        return Err(EFAULT);
                    }
                }
                dev.log_base = base;
            }
            abi::VHOST_SET_LOG_FD => {
                let fd = i32::from_le_bytes(user::read_bytes::<4>(arg)?);
                dev.log_ctx = if fd == -1 {
                    None
                } else {
                    Some(EventfdCtx::fdget(fd)?)
                };
            }
            _ => return self.vring_ioctl(dev, cmd, arg),
        }
        Ok(0)
    }

    fn vring_ioctl(&self, dev: &mut Dev, cmd: u32, arg: usize) -> Result<isize> {
        // Every vring ioctl starts with the ring index; so does the rejection
        // of unknown commands (upstream reads it before saying ENOIOCTLCMD).
        let index = u32::from_le_bytes(user::read_bytes::<4>(arg)?);
        let q = abi::vring_index(index).map_err(err)?;
        let log_base = dev.log_base;
        let event_idx = dev.has(abi::VIRTIO_RING_F_EVENT_IDX);
        let iotlb = dev.iotlb.is_some();
        let vq = &mut dev.vqs[q];
        match cmd {
            abi::VHOST_SET_VRING_NUM => {
                // Not while the ring runs (upstream checks before copying).
                if vq.backend.is_some() {
                    return Err(EBUSY);
                }
                let s = VringState::from_bytes(&user::read_bytes(arg)?);
                vq.num = abi::vring_num(s.num).map_err(err)?;
                vq.broken = false;
            }
            abi::VHOST_SET_VRING_ADDR => {
                let a = VringAddr::from_bytes(&user::read_bytes(arg)?).map_err(err)?;
                // A running ring's new addresses are checked now (a stopped
                // one's when it starts), as upstream.
                if vq.backend.is_some() && !iotlb {
                    let num = u32::from(vq.num);
                    if !rings_access_ok(&a, num, event_idx)
                        || !log_used_access_ok(log_base, &a, access::used_size(num, event_idx))
                    {
                        return Err(EINVAL);
                    }
                }
                vq.addr = a;
                vq.broken = false;
            }
            abi::VHOST_SET_VRING_BASE => {
                if vq.backend.is_some() {
                    return Err(EBUSY);
                }
                let s = VringState::from_bytes(&user::read_bytes(arg)?);
                vq.queue.last_avail_idx = abi::vring_base(s.num).map_err(err)?;
                vq.broken = false;
            }
            abi::VHOST_GET_VRING_BASE => {
                let s = VringState {
                    index,
                    num: vq.queue.last_avail_idx.into(),
                };
                user::write_bytes(arg, &s.to_bytes())?;
            }
            abi::VHOST_SET_VRING_KICK => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                let kick = if f.fd == -1 {
                    None
                } else {
                    Some(self.poll(q, EPOLLIN, false, EventfdFile::fget(f.fd)?)?)
                };
                // The old kick (if any) stops being polled as it is dropped.
                vq.kick = kick;
            }
            abi::VHOST_SET_VRING_CALL | abi::VHOST_SET_VRING_ERR => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                let ctx = if f.fd == -1 {
                    None
                } else {
                    Some(EventfdCtx::fdget(f.fd)?)
                };
                if cmd == abi::VHOST_SET_VRING_CALL {
                    vq.call = ctx;
                } else {
                    vq.err = ctx;
                }
            }
            abi::VHOST_SET_VRING_BUSYLOOP_TIMEOUT => {
                vq.busyloop_timeout = VringState::from_bytes(&user::read_bytes(arg)?).num;
            }
            abi::VHOST_GET_VRING_BUSYLOOP_TIMEOUT => {
                let s = VringState {
                    index,
                    num: vq.busyloop_timeout,
                };
                user::write_bytes(arg, &s.to_bytes())?;
            }
            // Includes SET/GET_VRING_ENDIAN (cross-endian support is off in
            // distro kernels) and the worker ioctls vhost_net never wired up.
            _ => return Err(ENOIOCTLCMD),
        }
        Ok(0)
    }
}
