// SPDX-License-Identifier: GPL-2.0-only

//! The open file: what `/dev/vhost-net`'s file operations do (upstream
//! `vhost_net_fops`). `open` makes a device, `release` stops its worker and
//! drops it; `ioctl` is the ABI of [`super::ioctl`]; `read`, `write` and
//! `poll` are the IOTLB message channel of [`super::iotlb`].

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    fs::File,
    iov::{IovIterDest, IovIterSource},
    new_mutex, new_poll_condvar,
    prelude::*,
    sync::{poll::PollTable, Arc, ArcBorrow},
};

use super::dev::{Dev, VhostNet};
use super::worker::Kicker;
use crate::glue::{miscdev::FileOps, stats::Stats};

/// Names the devices' sysfs directories (`dev0`, `dev1`, …).
static DEVICE_SEQ: AtomicU32 = AtomicU32::new(0);

impl FileOps for VhostNet {
    type OwnerModule = crate::VhostZc;

    fn open() -> Result<Arc<Self>> {
        let n = DEVICE_SEQ.fetch_add(1, Ordering::Relaxed);
        let name = kernel::str::CString::try_from_fmt(fmt!("dev{}", n))?;
        let kicker = Arc::new(Kicker::new(Stats::new(&name)?), GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Self {
                dev <- new_mutex!(Dev::new()),
                msg_wait <- new_poll_condvar!(),
                kicker,
            }),
            GFP_KERNEL,
        )
    }

    fn release(this: Arc<Self>) {
        // The worker holds a reference: stop it first (polls before it, so no
        // wake-up reaches a stopped task), then dropping the state puts every
        // eventfd, the tap files and the owner's mm.
        let worker = this.lock().take_worker();
        if let Some(w) = worker {
            w.stop(&this.kicker.task);
        }
        drop(this);
    }

    /// `vhost_net_ioctl`: the ioctl ABI ([`super::ioctl`]).
    fn ioctl(this: ArcBorrow<'_, Self>, cmd: u32, arg: usize) -> Result<isize> {
        Self::net_ioctl(this, cmd, arg)
    }

    /// The IOTLB message channel: the oldest unread miss
    /// ([`VhostNet::read_msg`]).
    fn read(this: ArcBorrow<'_, Self>, nonblock: bool, iov: &mut IovIterDest<'_>) -> Result<usize> {
        this.read_msg(nonblock, iov)
    }

    /// IOTLB updates and invalidations ([`VhostNet::write_msg`]).
    fn write(this: ArcBorrow<'_, Self>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        this.write_msg(iov)
    }

    /// Readable when a miss is queued ([`VhostNet::poll_msg`]).
    fn poll(this: ArcBorrow<'_, Self>, file: &File, table: PollTable<'_>) -> u32 {
        this.poll_msg(file, table)
    }
}
