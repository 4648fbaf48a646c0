// SPDX-License-Identifier: GPL-2.0-only

//! The backend of a ring: a tun/tap, macvtap or bound AF_PACKET raw socket
//! (what upstream `get_socket()` accepts), and packet I/O over guest memory
//! seen as user iovecs (the worker runs in the owner's mm).
//!
//! C headers: [`include/linux/net.h`](srctree/include/linux/net.h),
//! [`include/linux/if_tun.h`](srctree/include/linux/if_tun.h) and
//! [`include/linux/if_tap.h`](srctree/include/linux/if_tap.h).

use super::{
    ffi,
    poll::{take_file, PollFile},
};
use crate::vzc_core::control::{
    attr::{TapName, IFNAMSIZ},
    port::NetId,
};
use kernel::{bindings, ffi::c_void, fs::File, prelude::*, sync::aref::ARef};

/// One piece of guest memory as a userspace address range (`struct iovec`).
#[repr(transparent)]
pub(crate) struct IoVec(bindings::iovec);

// SAFETY: an iovec is a user address and a length; it refers to no kernel
// object, and user memory is only accessed through fault-checked copies.
unsafe impl Send for IoVec {}
// SAFETY: see `Send`.
unsafe impl Sync for IoVec {}

/// Makes an iovec for `len` bytes at user address `addr`.
pub(crate) fn iovec(addr: u64, len: u64) -> IoVec {
    IoVec(bindings::iovec {
        iov_base: addr as usize as *mut c_void,
        iov_len: len as usize,
    })
}

/// The socket of a backend fd, with a reference on its file.
///
/// # Invariants
///
/// `sock` is the socket of `file` (valid while `file` is referenced).
pub(crate) struct BackendSocket {
    file: ARef<File>,
    sock: *mut c_void,
}

// SAFETY: socket operations may be called from any thread; the file
// reference may be put from any thread.
unsafe impl Send for BackendSocket {}
// SAFETY: the socket serialises its own operations.
unsafe impl Sync for BackendSocket {}

fn ret(r: i32) -> Result<usize> {
    if r < 0 {
        Err(Error::from_errno(r))
    } else {
        Ok(r as usize)
    }
}

impl BackendSocket {
    /// The socket of backend fd `fd`: a tun/tap or macvtap file, or an
    /// AF_PACKET raw socket (`ENOTSOCK` for anything else, as upstream).
    pub(crate) fn get(fd: i32) -> Result<Self> {
        let mut file: *mut c_void = core::ptr::null_mut();
        // SAFETY: any fd may be passed; on success `file` holds a reference.
        let sock = unsafe { ffi::vzc_backend_socket_get(fd, &mut file) };
        let sock = kernel::error::from_err_ptr(sock)?;
        // SAFETY: on success the shim returned a referenced file, ours to
        // put; called from `VHOST_NET_SET_BACKEND`, an ioctl on another file.
        let file = unsafe { take_file(file.cast::<bindings::file>()) }?;
        // INVARIANT: the shim returned the socket of `file`.
        Ok(Self { file, sock })
    }

    /// Sends one packet of `len` bytes gathered from `iov` (non-blocking).
    pub(crate) fn send(&self, iov: &[IoVec], len: usize) -> Result<usize> {
        // SAFETY: `sock` is valid (invariant); `iov` describes user memory of
        // the current (owner) process, which the socket copies from with
        // fault handling.
        ret(unsafe { ffi::vzc_sock_sendmsg(self.sock, iov.as_ptr().cast(), iov.len(), len) })
    }

    /// Receives one packet of up to `len` bytes into `iov` (non-blocking).
    /// Returns the packet's full length (`MSG_TRUNC`).
    pub(crate) fn recv(&self, iov: &[IoVec], len: usize) -> Result<usize> {
        // SAFETY: as in `send`, writing instead of reading.
        ret(unsafe { ffi::vzc_sock_recvmsg(self.sock, iov.as_ptr().cast(), iov.len(), len) })
    }

    /// Drops the next queued packet (it fits no guest buffers).
    pub(crate) fn discard(&self) -> Result<usize> {
        // SAFETY: `sock` is valid (invariant); the read goes to a kernel byte.
        ret(unsafe { ffi::vzc_sock_discard(self.sock) })
    }

    /// Whether a send may succeed now. If not, the socket's write-space
    /// wake-up is armed (a poll with `EPOLLOUT` will see it).
    pub(crate) fn writable(&self) -> bool {
        // SAFETY: `file` is referenced by `self.file`.
        unsafe { ffi::vzc_file_writable(self.file.as_ptr().cast()) }
    }

    /// The tap this is, if it is a tun file attached to a device: the
    /// namespace of its socket (where the device was created) and the
    /// device's name, read as tun prints it in fdinfo. Takes rtnl: call
    /// with no spinlock held. `None` for macvtap and AF_PACKET backends.
    pub(crate) fn tap_identity(&self) -> Option<(NetId, TapName)> {
        let mut name = [0u8; IFNAMSIZ];
        let mut cookie = 0u64;
        // SAFETY: `file` is referenced by `self.file`; the shim writes at
        // most IFNAMSIZ bytes (NUL included) into `name` and one u64.
        let r = unsafe {
            ffi::vzc_tun_identity(self.file.as_ptr().cast(), name.as_mut_ptr(), &mut cookie)
        };
        if r != 0 {
            return None;
        }
        TapName::from_payload(&name)
            .ok()
            .map(|t| (NetId(cookie), t))
    }

    /// Length of the next queued packet, 0 if none.
    pub(crate) fn peek_len(&self) -> usize {
        // SAFETY: `sock` is valid (invariant).
        let n = unsafe { ffi::vzc_sock_peek_len(self.sock) };
        usize::try_from(n).unwrap_or(0)
    }
}

// SAFETY: `file` is always the same file, referenced by `self.file` until
// `self` is dropped.
unsafe impl PollFile for BackendSocket {
    fn file(&self) -> &File {
        &self.file
    }
}
