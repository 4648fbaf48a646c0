// SPDX-License-Identifier: GPL-2.0-only

//! sysfs: `/sys/kernel/vhost_zc` (the module's root, [`SysfsRoot`]) and
//! attribute directories ([`AttrDir`]), below a device or below
//! `/sys/kernel/vhost_zc/devices`, whose files, with subdirectories, are
//! declared once in Rust ([`sysfs_attrs!`]) and served by safe Rust
//! ([`AttrSource`]). Every attribute directory of the module goes through
//! here: the VF's `vzc/` and the per-device counters (`glue::stats`).
//!
//! C header: `include/linux/sysfs.h`, `include/linux/kobject.h`; the shim's
//! `vzc_attr_dir_create` (rust/glue/vzc_shim.h).

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

/// One attribute of an [`AttrDir`]. Declare them with [`sysfs_attrs!`].
pub(crate) struct Attr {
    /// File name.
    pub(crate) name: &'static CStr,
    /// Subdirectory the file is in; `None`: the directory itself.
    /// Attributes of one subdirectory are consecutive in
    /// [`AttrSource::ATTRS`] (checked at build time).
    pub(crate) dir: Option<&'static CStr>,
    /// Readable (mode 0444): `show` is called.
    pub(crate) read: bool,
    /// Writable by root (mode 0200): `store` is called.
    pub(crate) write: bool,
}

impl Attr {
    /// A read-only attribute in the directory itself.
    pub(crate) const fn ro(name: &'static CStr) -> Self {
        Self {
            name,
            dir: None,
            read: true,
            write: false,
        }
    }
}

/// Contents of an [`AttrDir`]: `show`/`store` are called with the index of
/// the attribute in [`AttrSource::ATTRS`], from any process context and
/// concurrently. Written by [`sysfs_attrs!`], or by hand for a table built
/// from a list of names (`glue::stats`).
pub(crate) trait AttrSource: Sync {
    /// The files of the directory.
    const ATTRS: &'static [Attr];
    /// Writes the value of attribute `idx` into `out`.
    fn show(&self, idx: usize, out: &mut SysfsBuf<'_>) -> Result;
    /// Handles a write of `input` to attribute `idx`.
    fn store(&self, idx: usize, input: &[u8]) -> Result;
}

/// Declares the attributes of a type, each once, by name, with what reading
/// and writing it does (rnull's `configfs_attrs!` shape), and implements
/// [`AttrSource`] from that: the order of the table is the index order.
///
/// ```ignore
/// sysfs_attrs! {
///     Port {
///         / {
///             mac { show: |p, out| out.line(p.mac()), store: |p, text| p.set_mac(text), }
///         }
///         rx / {
///             good { show: |p, out| out.line(p.good()), }
///         }
///     }
/// }
/// ```
///
/// `show` takes `(&T, &mut SysfsBuf)`, `store` `(&T, &str)` (the input as
/// UTF-8, trimmed; `EINVAL` if it is not UTF-8). An attribute with only
/// `show` is mode 0444, with only `store` 0200, with both 0644. `dir /`
/// puts the group's files in subdirectory `dir`; a bare `/` in the
/// directory itself.
macro_rules! sysfs_attrs {
    // One group at a time onto a flat list of `(dir) name { .. }`: a
    // group's name is then a single token, usable in each attribute.
    (@munch $ty:ty; [$($acc:tt)*]; / { $( $name:ident { $($b:tt)* } )* } $($rest:tt)*) => {
        $crate::glue::sysfs::sysfs_attrs!(
            @munch $ty; [$($acc)* $( (None) $name { $($b)* } )*]; $($rest)*
        );
    };
    (@munch $ty:ty; [$($acc:tt)*];
        $dir:ident / { $( $name:ident { $($b:tt)* } )* } $($rest:tt)*
    ) => {
        $crate::glue::sysfs::sysfs_attrs!(
            @munch $ty;
            [$($acc)* $( (Some(::kernel::c_str!(stringify!($dir)))) $name { $($b)* } )*];
            $($rest)*
        );
    };
    (@munch $ty:ty; [$(
        ($dir:expr) $name:ident {
            $( show: $show:expr, )?
            $( store: $store:expr, )?
        }
    )*]; ) => {
        impl $crate::glue::sysfs::AttrSource for $ty {
            const ATTRS: &'static [$crate::glue::sysfs::Attr] = &[
                $(
                    $crate::glue::sysfs::Attr {
                        name: ::kernel::c_str!(stringify!($name)),
                        dir: $dir,
                        read: $crate::glue::sysfs::sysfs_attrs!(@has $( $show )?),
                        write: $crate::glue::sysfs::sysfs_attrs!(@has $( $store )?),
                    },
                )*
            ];

            fn show(
                &self,
                idx: usize,
                out: &mut $crate::glue::sysfs::SysfsBuf<'_>,
            ) -> ::kernel::error::Result {
                let this = self;
                let mut i = 0usize;
                $(
                    if idx == i {
                        return $crate::glue::sysfs::sysfs_attrs!(@show this, out $(, $show )?);
                    }
                    i += 1;
                )*
                let _ = i;
                Err(::kernel::error::code::EINVAL)
            }

            fn store(&self, idx: usize, input: &[u8]) -> ::kernel::error::Result {
                let this = self;
                let text = $crate::glue::sysfs::input_str(input)?;
                let mut i = 0usize;
                $(
                    if idx == i {
                        return $crate::glue::sysfs::sysfs_attrs!(@store this, text $(, $store )?);
                    }
                    i += 1;
                )*
                let _ = (i, text);
                Err(::kernel::error::code::EINVAL)
            }
        }
    };
    (@has) => { false };
    (@has $e:expr) => { true };
    (@show $t:ident, $o:ident) => { Err(::kernel::error::code::EINVAL) };
    (@show $t:ident, $o:ident, $f:expr) => { $crate::glue::sysfs::call_show($t, $o, $f) };
    (@store $t:ident, $x:ident) => { Err(::kernel::error::code::EINVAL) };
    (@store $t:ident, $x:ident, $f:expr) => { $crate::glue::sysfs::call_store($t, $x, $f) };
    ($ty:ty { $($body:tt)* }) => {
        $crate::glue::sysfs::sysfs_attrs!(@munch $ty; []; $($body)*);
    };
}
pub(crate) use sysfs_attrs;

/// Calls a `show` of [`sysfs_attrs!`] (gives the closure its signature).
pub(crate) fn call_show<T, F>(data: &T, out: &mut SysfsBuf<'_>, f: F) -> Result
where
    F: FnOnce(&T, &mut SysfsBuf<'_>) -> Result,
{
    f(data, out)
}

/// Calls a `store` of [`sysfs_attrs!`] (gives the closure its signature).
pub(crate) fn call_store<T, F>(data: &T, text: &str, f: F) -> Result
where
    F: FnOnce(&T, &str) -> Result,
{
    f(data, text)
}

/// A sysfs write as text, trimmed; `EINVAL` if it is not UTF-8.
pub(crate) fn input_str(input: &[u8]) -> Result<&str> {
    core::str::from_utf8(input)
        .map(str::trim)
        .map_err(|_| EINVAL)
}

/// Whether the attributes of each subdirectory are consecutive (the shim
/// makes one group per run; two runs of one name would collide).
const fn dirs_consecutive(attrs: &[Attr]) -> bool {
    let mut i = 1;
    while i < attrs.len() {
        let mut j = 0;
        while j + 1 < i {
            // `attrs[j]` and `attrs[i]` are in the same directory, but the
            // one before `attrs[i]` is not.
            if same_dir(attrs[j].dir, attrs[i].dir) && !same_dir(attrs[i - 1].dir, attrs[i].dir) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Counts the runs of attributes in one directory (the shim's groups).
const fn dir_runs(attrs: &[Attr]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < attrs.len() {
        if i == 0 || !same_dir(attrs[i - 1].dir, attrs[i].dir) {
            n += 1;
        }
        i += 1;
    }
    n
}

const fn same_dir(a: Option<&CStr>, b: Option<&CStr>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let (a, b) = (a.to_bytes(), b.to_bytes());
            if a.len() != b.len() {
                return false;
            }
            let mut i = 0;
            while i < a.len() {
                if a[i] != b[i] {
                    return false;
                }
                i += 1;
            }
            true
        }
        _ => false,
    }
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

    /// Appends `v` and a newline: the usual one-value file.
    pub(crate) fn line(&mut self, v: impl core::fmt::Display) -> Result {
        self.fmt(format_args!("{v}\n"))
    }
}

/// Where an [`AttrDir`] goes.
pub(crate) enum Parent<'a> {
    /// Below the device's directory.
    Device(&'a kernel::device::Device),
    /// Below `/sys/kernel/vhost_zc/devices` (while [`SysfsRoot`] exists).
    Devices,
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
// SAFETY: `&AttrDir` gives out `&T` (`T: Sync`, `AttrSource`) and clones
// of the `Arc<T>`, whose last owner may drop `T` on another thread: `T: Send`.
unsafe impl<T: AttrSource + Send> Sync for AttrDir<T> {}

impl<T: AttrSource> AttrDir<T> {
    /// Pins `data` and creates `<parent>/<name>/` with `T::ATTRS` (and
    /// their subdirectories). `name` is copied.
    pub(crate) fn new<E>(parent: Parent<'_>, name: &CStr, data: impl PinInit<T, E>) -> Result<Self>
    where
        Error: From<E>,
    {
        // A directory too big for the shim, or with a subdirectory split in
        // two, fails the build, not the probe.
        const {
            assert!(T::ATTRS.len() <= ffi::ATTR_DIR_MAX);
            assert!(dir_runs(T::ATTRS) <= ffi::ATTR_GROUPS_MAX);
            assert!(dirs_consecutive(T::ATTRS));
        };
        let data = Arc::pin_init(data, GFP_KERNEL)?;
        let mut descs = KVec::with_capacity(T::ATTRS.len(), GFP_KERNEL)?;
        for a in T::ATTRS {
            descs.push(
                ffi::AttrDesc {
                    name: a.name.as_char_ptr(),
                    dir: a.dir.map_or(core::ptr::null(), |d| d.as_char_ptr()),
                    mode: if a.read { 0o444 } else { 0 } | if a.write { 0o200 } else { 0 },
                },
                GFP_KERNEL,
            )?;
        }
        let parent = match parent {
            // `device::Device` is `#[repr(transparent)]` over
            // `Opaque<device>`, so this is the address of the `struct device`.
            Parent::Device(dev) => core::ptr::from_ref(dev).cast_mut().cast::<c_void>(),
            Parent::Devices => core::ptr::null_mut(),
        };
        let priv_ = core::ptr::from_ref::<T>(&data).cast::<c_void>();
        // SAFETY: `parent` is null or a live device (borrowed for the
        // call); `descs` holds `descs.len()` (at most `ATTR_DIR_MAX`)
        // entries, read during the call only, whose strings are `'static`
        // (the shim keeps the name pointers until the directory is destroyed);
        // `name` is NUL-terminated and copied; `priv_` points to the `T` in
        // the `Arc`, which stays put and alive (we hold a reference) until
        // `Drop` has destroyed the directory; the callbacks are
        // instantiated for that same `T`.
        let kobj = from_err_ptr(unsafe {
            ffi::vzc_attr_dir_create(
                parent,
                name.as_char_ptr(),
                descs.as_ptr(),
                descs.len() as c_uint,
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
