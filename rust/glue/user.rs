// SPDX-License-Identifier: GPL-2.0-only

//! Copying ioctl arguments from and to the calling process.
//!
//! C header: [`include/linux/uaccess.h`](srctree/include/linux/uaccess.h).

use kernel::{
    prelude::*,
    uaccess::{UserPtr, UserSlice},
};

/// Copies `N` bytes from user address `addr` (`EFAULT` on a fault).
pub(crate) fn read_bytes<const N: usize>(addr: usize) -> Result<[u8; N]> {
    let mut b = [0u8; N];
    UserSlice::new(UserPtr::from_addr(addr), N)
        .reader()
        .read_slice(&mut b)?;
    Ok(b)
}

/// Fills `dst` from user address `addr` (`EFAULT` on a fault).
pub(crate) fn read_into(addr: usize, dst: &mut [u8]) -> Result {
    UserSlice::new(UserPtr::from_addr(addr), dst.len())
        .reader()
        .read_slice(dst)
}

/// Copies `data` to user address `addr` (`EFAULT` on a fault).
pub(crate) fn write_bytes(addr: usize, data: &[u8]) -> Result {
    UserSlice::new(UserPtr::from_addr(addr), data.len())
        .writer()
        .write_slice(data)
}

/// Reads the `u16` at user address `addr` with one load (`EFAULT` on a
/// fault): for values another CPU may be changing (ring indices), which a
/// byte-wise copy could return torn.
pub(crate) fn read_u16(addr: usize) -> Result<u16> {
    let mut v = 0u16;
    // SAFETY: `get_user` checks the address with `access_ok` and handles
    // faults; `v` is a valid place for a `u16`.
    let r = unsafe { super::ffi::vzc_get_user_u16(addr as *const kernel::ffi::c_void, &mut v) };
    kernel::error::to_result(r)?;
    Ok(v)
}

/// Writes `v` at user address `addr` with one store (`EFAULT` on a fault):
/// the reader on another CPU never sees half of it.
pub(crate) fn write_u16(addr: usize, v: u16) -> Result {
    // SAFETY: `put_user` checks the address with `access_ok` and handles
    // faults.
    let r = unsafe { super::ffi::vzc_put_user_u16(addr as *mut kernel::ffi::c_void, v) };
    kernel::error::to_result(r)
}

/// Zeroes `len` bytes at user address `addr` (`clear_user`; `EFAULT` if any
/// byte cannot be written). Huge lengths fail fast on `access_ok`.
pub(crate) fn clear(addr: usize, len: u64) -> Result {
    let len = usize::try_from(len).map_err(|_| EFAULT)?;
    // SAFETY: `clear_user` checks the range with `access_ok` and handles
    // faults; any address and length may be passed.
    let left = unsafe { super::ffi::vzc_clear_user(addr as *mut kernel::ffi::c_void, len) };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// Atomically sets bit `bit` (0..8) of the user byte at `addr`: the dirty
/// log is shared with the VMM and the other queue pairs' workers.
pub(crate) fn set_bit(addr: u64, bit: u8) -> Result {
    let addr = usize::try_from(addr).map_err(|_| EFAULT)?;
    // SAFETY: the shim pins the page with FOLL_WRITE (faults are errors).
    kernel::error::to_result(unsafe { super::ffi::vzc_log_set_bit(addr, bit.into()) })
}

/// `access_ok`: whether `len` bytes at `addr` lie in user space (a range
/// check only; the pages may still be unmapped). Upstream checks ring and
/// log addresses this way before it keeps them.
pub(crate) fn access_ok(addr: u64, len: u64) -> bool {
    let (Ok(addr), Ok(len)) = (usize::try_from(addr), usize::try_from(len)) else {
        return false;
    };
    // SAFETY: a pure range check on numbers; nothing is accessed.
    unsafe { super::ffi::vzc_access_ok(addr, len) }
}
