// SPDX-License-Identifier: GPL-2.0-only

//! Declarations of the C shim (`rust/glue/vzc_shim.{c,h}`). Raw and `unsafe`;
//! only the safe wrappers in `rust/glue` call them.

use kernel::ffi::{c_char, c_uint, c_ushort, c_void};

// `struct kobject` and `struct device` are passed as `c_void`: Rust never
// looks inside them, and with LOCKDEP off their bindgen types hold an empty
// struct that `improper_ctypes` rejects.
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sysfs_create(version: *const c_char) -> *mut c_void;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sysfs_destroy(kobj: *mut c_void);
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_attr_dir_create(
        parent: *mut c_void,
        name: *const c_char,
        names: *const *const c_char,
        modes: *const c_ushort,
        n: c_uint,
        priv_: *const c_void,
        show: ShowFn,
        store: StoreFn,
    ) -> *mut c_void;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_attr_dir_destroy(kobj: *mut c_void);
}

/// `vzc_show_fn` of `vzc_shim.h`.
pub(crate) type ShowFn =
    unsafe extern "C" fn(priv_: *const c_void, idx: c_uint, buf: *mut c_char) -> isize;
/// `vzc_store_fn` of `vzc_shim.h`.
pub(crate) type StoreFn = unsafe extern "C" fn(
    priv_: *const c_void,
    idx: c_uint,
    buf: *const c_char,
    count: usize,
) -> isize;

/// `VZC_ATTR_DIR_MAX` of `vzc_shim.h`.
pub(crate) const ATTR_DIR_MAX: usize = 32;
