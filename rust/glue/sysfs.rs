// SPDX-License-Identifier: GPL-2.0-only

//! sysfs: `/sys/kernel/vhost_zc` (the module's root, [`SysfsRoot`]) and
//! per-device attribute directories ([`AttrDir`]) whose files are served by
//! safe Rust ([`AttrSource`]).

use super::ffi;
use kernel::{
    error::from_err_ptr,
    ffi::{c_char, c_uint, c_void},
    prelude::*,
    sync::Arc,
};

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

/// One attribute of an [`AttrDir`].
pub(crate) struct Attr {
    /// File name.
    pub(crate) name: &'static CStr,
    /// Readable (mode 0444): `show` is called.
    pub(crate) read: bool,
    /// Writable by root (mode 0200): `store` is called.
    pub(crate) write: bool,
}

/// Contents of an [`AttrDir`]: `show`/`store` are called with the index of
/// the attribute in [`AttrSource::ATTRS`], from any process context and
/// concurrently.
pub(crate) trait AttrSource: Sync {
    /// The files of the directory.
    const ATTRS: &'static [Attr];
    /// Writes the value of attribute `idx` into `out`.
    fn show(&self, idx: usize, out: &mut SysfsBuf<'_>) -> Result;
    /// Handles a write of `input` to attribute `idx`.
    fn store(&self, idx: usize, input: &[u8]) -> Result;
}

/// The page sysfs hands to a `show` callback.
pub(crate) struct SysfsBuf<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl core::fmt::Write for SysfsBuf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl SysfsBuf<'_> {
    /// Appends formatted text; `EOVERFLOW` if the page is full.
    pub(crate) fn fmt(&mut self, args: core::fmt::Arguments<'_>) -> Result {
        core::fmt::Write::write_fmt(self, args).map_err(|_| EOVERFLOW)
    }
}

/// A sysfs directory below a device, whose attributes read and write `T`.
///
/// `T` is pinned in an `Arc` (the directory holds one reference), so the C
/// side can hand its address to the callbacks; other holders (IRQ handlers,
/// watchdogs) may share it.
///
/// # Invariants
///
/// `kobj` was returned by a successful `vzc_attr_dir_create()` with `data`'s
/// address as `priv` and is destroyed only by `Drop`, before `data` is freed.
pub(crate) struct AttrDir<T: AttrSource> {
    kobj: *mut c_void,
    data: Arc<T>,
}

// SAFETY: the kobject pointer is only handed back to the shim on drop; `T`
// is `Send`, so moving the owner of `T` to another thread is fine.
unsafe impl<T: AttrSource + Send> Send for AttrDir<T> {}
// SAFETY: `&AttrDir` gives out only `&T`, and `T: Sync` (`AttrSource`).
unsafe impl<T: AttrSource> Sync for AttrDir<T> {}

impl<T: AttrSource> AttrDir<T> {
    /// Pins `data` and creates `<dev>/<name>/` with `T::ATTRS`.
    pub(crate) fn new(
        dev: &kernel::device::Device,
        name: &'static CStr,
        data: impl PinInit<T, Error>,
    ) -> Result<Self> {
        // A directory too big for the shim fails the build, not the probe.
        const { assert!(T::ATTRS.len() <= ffi::ATTR_DIR_MAX) };
        let data = Arc::pin_init(data, GFP_KERNEL)?;
        let n = T::ATTRS.len();
        if n > ffi::ATTR_DIR_MAX {
            return Err(E2BIG);
        }
        let mut names = [core::ptr::null(); ffi::ATTR_DIR_MAX];
        let mut modes = [0u16; ffi::ATTR_DIR_MAX];
        for (i, a) in T::ATTRS.iter().enumerate() {
            names[i] = a.name.as_char_ptr();
            modes[i] = if a.read { 0o444 } else { 0 } | if a.write { 0o200 } else { 0 };
        }
        // `device::Device` is `#[repr(transparent)]` over `Opaque<device>`,
        // so this is the address of the `struct device`.
        let parent = core::ptr::from_ref(dev).cast_mut().cast::<c_void>();
        let priv_ = core::ptr::from_ref::<T>(&data).cast::<c_void>();
        // SAFETY: `parent` is a live device (borrowed); `names`/`modes` hold
        // `n` valid entries (checked `n <= ATTR_DIR_MAX`) and the name
        // strings are `'static`; `priv_` points to the `T` in the `Arc`, which
        // stays put and alive (we hold a reference) until `Drop` has
        // destroyed the directory; the
        // callbacks are instantiated for that same `T`.
        let kobj = from_err_ptr(unsafe {
            ffi::vzc_attr_dir_create(
                parent,
                name.as_char_ptr(),
                names.as_ptr(),
                modes.as_ptr(),
                n as c_uint,
                priv_,
                show_cb::<T>,
                store_cb::<T>,
            )
        })?;
        // INVARIANT: created just above with `data`'s address.
        Ok(Self { kobj, data })
    }
}

impl<T: AttrSource> AttrDir<T> {
    /// Another reference to the directory's data.
    pub(crate) fn shared(&self) -> Arc<T> {
        self.data.clone()
    }
}

impl<T: AttrSource> core::ops::Deref for AttrDir<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: AttrSource> Drop for AttrDir<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `kobj` is live and destroyed only
        // here; destruction waits for running callbacks, so `data` (dropped
        // after this body) is no longer referenced by sysfs.
        unsafe { ffi::vzc_attr_dir_destroy(self.kobj) };
    }
}

/// `show` trampoline of [`AttrDir`].
///
/// # Safety
///
/// `priv_` is the `T` an `AttrDir<T>` registered and `buf` the
/// `PAGE_SIZE` buffer of a sysfs `show`.
unsafe extern "C" fn show_cb<T: AttrSource>(
    priv_: *const c_void,
    idx: c_uint,
    buf: *mut c_char,
) -> isize {
    // SAFETY: per the function's contract `priv_` points to a live, pinned
    // `T` (the directory is destroyed before `T` is dropped).
    let data = unsafe { &*priv_.cast::<T>() };
    // SAFETY: sysfs passes a zeroed, writable page, used by nothing else
    // during this call.
    let page =
        unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), kernel::page::PAGE_SIZE) };
    let mut out = SysfsBuf { buf: page, len: 0 };
    match data.show(idx as usize, &mut out) {
        // A page is 4 KiB, so the length fits an isize.
        Ok(()) => out.len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `store` trampoline of [`AttrDir`].
///
/// # Safety
///
/// `priv_` is the `T` an `AttrDir<T>` registered and `buf`/`count` the
/// input of a sysfs `store`.
unsafe extern "C" fn store_cb<T: AttrSource>(
    priv_: *const c_void,
    idx: c_uint,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: as in `show_cb`.
    let data = unsafe { &*priv_.cast::<T>() };
    // SAFETY: sysfs passes `count` readable bytes (at most a page).
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match data.store(idx as usize, input) {
        // `count` is at most a page.
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
