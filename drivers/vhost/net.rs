// SPDX-License-Identifier: GPL-2.0-only

//! An open `/dev/vhost-net`: the control plane of one vhost-net device.
//!
//! The ioctls are checked in the order upstream checks them, so a VMM sees the
//! same errno for the same mistake (Documentation/vhost.rst has the table).
//! The data path (worker, tap backend) is not attached yet: see
//! `VHOST_NET_SET_BACKEND` below.

use kernel::{
    fs::File,
    iov::{IovIterDest, IovIterSource},
    mm::MmWithUser,
    new_mutex, new_poll_condvar,
    prelude::*,
    sync::{aref::ARef, poll::PollCondVar, poll::PollTable, Arc, ArcBorrow, Mutex},
};

use crate::glue::{
    eventfd::{EventfdCtx, EventfdFile},
    miscdev::FileOps,
    user,
};
use crate::vzc_core::{
    vhost::{self as abi, VringAddr, VringFile, VringState},
    MemRegion, MemTable,
};

/// Turns an ABI errno from the core into a kernel `Error`.
fn err(e: i32) -> Error {
    Error::from_errno(-e)
}

/// One virtqueue's configuration, as set by the `VHOST_*_VRING_*` ioctls.
#[derive(Default)]
struct Vring {
    num: u16,
    addr: VringAddr,
    last_avail_idx: u16,
    kick: Option<EventfdFile>,
    call: Option<EventfdCtx>,
    err: Option<EventfdCtx>,
    busyloop_timeout: u32,
}

/// Device state, all under `VhostNet::dev` (upstream's `dev->mutex`).
struct Dev {
    /// The owner's address space; `None` before `VHOST_SET_OWNER`.
    owner: Option<ARef<MmWithUser>>,
    /// `VHOST_SET_FORK_FROM_OWNER`; kept for `GET` (only the owner-thread
    /// worker mode exists, as `fork_from_owner = 1` upstream).
    fork_owner: bool,
    acked_features: u64,
    acked_backend_features: u64,
    mem: KVec<MemRegion>,
    log_base: u64,
    log_ctx: Option<EventfdCtx>,
    vqs: [Vring; abi::VHOST_NET_VQ_MAX as usize],
}

impl Dev {
    fn new() -> Self {
        Self {
            owner: None,
            fork_owner: true,
            acked_features: 0,
            acked_backend_features: 0,
            mem: KVec::new(),
            log_base: 0,
            log_ctx: None,
            vqs: Default::default(),
        }
    }

    /// `vhost_dev_check_owner`: the caller's mm must be the owner's.
    fn check_owner(&self) -> Result {
        let cur = kernel::current!().mm().map(|m| m.as_raw());
        match (&self.owner, cur) {
            (Some(o), Some(c)) if o.as_raw() == c => Ok(()),
            _ => Err(EPERM),
        }
    }

    /// `vhost_dev_cleanup` + `vhost_dev_reset_owner`: everything the owner set
    /// up goes; the fork mode stays (it is set before an owner exists).
    fn reset(&mut self) {
        let fork_owner = self.fork_owner;
        *self = Self::new();
        self.fork_owner = fork_owner;
    }
}

/// An open `/dev/vhost-net`.
#[pin_data]
pub(crate) struct VhostNet {
    #[pin]
    dev: Mutex<Dev>,
    /// Readers and pollers of the IOTLB message channel (upstream `dev->wait`).
    #[pin]
    msg_wait: PollCondVar,
}

fn read_u64(arg: usize) -> Result<u64> {
    Ok(u64::from_le_bytes(user::read_bytes::<8>(arg)?))
}

fn write_u64(arg: usize, v: u64) -> Result {
    user::write_bytes(arg, &v.to_le_bytes())
}

impl VhostNet {
    fn set_features(&self, f: u64) -> Result {
        let f = abi::features(f, abi::VHOST_ZC_FEATURES).map_err(err)?;
        self.dev.lock().acked_features = f;
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
        dev.mem = regions;
        Ok(())
    }

    /// `vhost_dev_ioctl` after the owner check, then `vhost_vring_ioctl`.
    fn dev_ioctl(dev: &mut Dev, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            abi::VHOST_SET_MEM_TABLE => Self::set_mem_table(dev, arg)?,
            abi::VHOST_SET_LOG_BASE => dev.log_base = read_u64(arg)?,
            abi::VHOST_SET_LOG_FD => {
                let fd = i32::from_le_bytes(user::read_bytes::<4>(arg)?);
                dev.log_ctx = if fd == -1 {
                    None
                } else {
                    Some(EventfdCtx::fdget(fd)?)
                };
            }
            _ => return Self::vring_ioctl(dev, cmd, arg),
        }
        Ok(0)
    }

    fn vring_ioctl(dev: &mut Dev, cmd: u32, arg: usize) -> Result<isize> {
        // Every vring ioctl starts with the ring index; so does the rejection
        // of unknown commands (upstream reads it before saying ENOIOCTLCMD).
        let index = u32::from_le_bytes(user::read_bytes::<4>(arg)?);
        let vq = &mut dev.vqs[abi::vring_index(index).map_err(err)?];
        match cmd {
            abi::VHOST_SET_VRING_NUM => {
                let s = VringState::from_bytes(&user::read_bytes(arg)?);
                vq.num = abi::vring_num(s.num).map_err(err)?;
            }
            abi::VHOST_SET_VRING_ADDR => {
                vq.addr = VringAddr::from_bytes(&user::read_bytes(arg)?).map_err(err)?;
            }
            abi::VHOST_SET_VRING_BASE => {
                let s = VringState::from_bytes(&user::read_bytes(arg)?);
                vq.last_avail_idx = abi::vring_base(s.num).map_err(err)?;
            }
            abi::VHOST_GET_VRING_BASE => {
                let s = VringState {
                    index,
                    num: vq.last_avail_idx.into(),
                };
                user::write_bytes(arg, &s.to_bytes())?;
            }
            abi::VHOST_SET_VRING_KICK => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                vq.kick = if f.fd == -1 {
                    None
                } else {
                    Some(EventfdFile::fget(f.fd)?)
                };
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

impl FileOps for VhostNet {
    type OwnerModule = crate::VhostZc;

    fn open() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                dev <- new_mutex!(Dev::new()),
                msg_wait <- new_poll_condvar!(),
            }),
            GFP_KERNEL,
        )
    }

    fn release(this: Arc<Self>) {
        // Dropping the state puts every eventfd and the owner's mm.
        drop(this);
    }

    fn ioctl(this: ArcBorrow<'_, Self>, cmd: u32, arg: usize) -> Result<isize> {
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
                this.dev.lock().acked_backend_features = f;
            }
            abi::VHOST_SET_OWNER => {
                let mut dev = this.dev.lock();
                if dev.owner.is_some() {
                    return Err(EBUSY);
                }
                let cur = kernel::current!();
                let mm = cur.mm().and_then(|mm| mm.mmget_not_zero()).ok_or(EINVAL)?;
                dev.owner = Some(mm);
            }
            abi::VHOST_RESET_OWNER => {
                let mut dev = this.dev.lock();
                dev.check_owner()?;
                dev.reset();
            }
            abi::VHOST_NET_SET_BACKEND => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                let dev = this.dev.lock();
                dev.check_owner()?;
                abi::vring_index(f.index).map_err(err)?;
                // Detaching is always possible: nothing is attached. Attaching
                // needs the data path (worker + tap), not written yet.
                if f.fd != -1 {
                    return Err(EOPNOTSUPP);
                }
            }
            abi::VHOST_SET_FORK_FROM_OWNER => {
                let mut dev = this.dev.lock();
                if dev.owner.is_some() {
                    return Err(EBUSY);
                }
                let v = user::read_bytes::<1>(arg)?[0];
                dev.fork_owner = abi::fork_from_owner(v).map_err(err)?;
            }
            abi::VHOST_GET_FORK_FROM_OWNER => {
                let v = u8::from(this.dev.lock().fork_owner);
                user::write_bytes(arg, &[v])?;
            }
            _ => {
                let mut dev = this.dev.lock();
                dev.check_owner()?;
                return Self::dev_ioctl(&mut dev, cmd, arg);
            }
        }
        Ok(0)
    }

    /// The IOTLB message channel. Without `VIRTIO_F_ACCESS_PLATFORM` there is
    /// no IOTLB and nothing is ever queued, so, as upstream: a short buffer
    /// reads 0, a non-blocking read is `EAGAIN`, a blocking one `EBADFD`.
    fn read(
        _this: ArcBorrow<'_, Self>,
        nonblock: bool,
        iov: &mut IovIterDest<'_>,
    ) -> Result<usize> {
        if iov.len() < abi::VHOST_MSG_SIZE {
            return Ok(0);
        }
        if nonblock {
            return Err(EAGAIN);
        }
        if kernel::current!().signal_pending() {
            return Err(ERESTARTSYS);
        }
        Err(EBADFD)
    }

    /// IOTLB updates and invalidations: malformed ones are `EINVAL`; well-formed
    /// ones are `EFAULT` while there is no IOTLB (upstream without ACCESS_PLATFORM).
    fn write(_this: ArcBorrow<'_, Self>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let mut buf = [0u8; abi::IOTLB_WRITE_MIN];
        let n = iov.copy_from_iter(&mut buf);
        abi::IotlbMsg::decode(&buf[..n]).map_err(err)?;
        Err(EFAULT)
    }

    fn poll(this: ArcBorrow<'_, Self>, file: &File, table: PollTable<'_>) -> u32 {
        table.register_wait(file, &this.msg_wait);
        // No IOTLB miss is ever queued (see `read`).
        0
    }
}
