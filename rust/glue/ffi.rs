// SPDX-License-Identifier: GPL-2.0-only

//! Declarations of the C shim (`rust/glue/vzc_shim.{c,h}`). Raw and `unsafe`;
//! only the safe wrappers in `rust/glue` call them.

use kernel::ffi::{c_char, c_ulong, c_void};

// `struct kobject` is passed as `c_void`: Rust never looks inside it, and with
// LOCKDEP off its bindgen type holds an empty struct that `improper_ctypes` rejects.
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sysfs_create(version: *const c_char) -> *mut c_void;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sysfs_destroy(kobj: *mut c_void);
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_clear_user(to: *mut c_void, n: c_ulong) -> c_ulong;
}
