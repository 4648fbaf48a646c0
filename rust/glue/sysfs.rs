// SPDX-License-Identifier: GPL-2.0-only

//! `/sys/kernel/vhost_zc`: the module's sysfs root. Per-device statistics and
//! knobs hang below it.

use super::ffi;
use kernel::{error::from_err_ptr, ffi::c_void, prelude::*};

/// The `/sys/kernel/vhost_zc` directory; removed on drop.
///
/// # Invariants
///
/// `kobj` was returned by a successful `vzc_sysfs_create()` and is released
/// only by `Drop`.
pub(crate) struct SysfsRoot {
    kobj: *mut c_void,
}

// SAFETY: the kobject is reference counted and sysfs serialises its own
// accesses; the wrapper only ever passes the pointer back to the shim.
unsafe impl Send for SysfsRoot {}
// SAFETY: `SysfsRoot` offers no methods through `&self` that touch the kobject.
unsafe impl Sync for SysfsRoot {}

impl SysfsRoot {
    /// Creates the directory with its `version` attribute.
    pub(crate) fn new(version: &'static CStr) -> Result<Self> {
        // SAFETY: `version` is a NUL-terminated string that lives forever, as
        // the shim requires (the attribute shows it until the kobject dies).
        let kobj = from_err_ptr(unsafe { ffi::vzc_sysfs_create(version.as_char_ptr()) })?;
        // INVARIANT: `kobj` comes from a successful `vzc_sysfs_create()`.
        Ok(Self { kobj })
    }
}

impl Drop for SysfsRoot {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `kobj` is live and this is its only release.
        unsafe { ffi::vzc_sysfs_destroy(self.kobj) };
    }
}
