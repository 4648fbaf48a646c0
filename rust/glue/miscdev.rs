// SPDX-License-Identifier: GPL-2.0-only

//! A misc device at a fixed minor with the file operations vhost needs.
//!
//! The `kernel` crate's `MiscDevice` registers only dynamic minors and has no
//! `poll` or `llseek`; `/dev/vhost-net` is minor 238 (udev and libvirt know it
//! by that number) and must poll (the IOTLB message channel) and refuse seeks.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h).

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    ffi::{c_int, c_long, c_uint, c_ulong},
    fs::File,
    iov::{IovIterDest, IovIterSource},
    prelude::*,
    sync::{poll::PollTable, Arc, ArcBorrow},
    types::{ForeignOwnable, Opaque},
    ModuleMetadata,
};

/// What an open `/dev/vhost-net` file does. One `Arc<Self>` per open file.
pub(crate) trait FileOps: Send + Sync + Sized + 'static {
    /// The module owning the file operations (pins the module while files are open).
    type OwnerModule: ModuleMetadata;
    /// A new open file.
    fn open() -> Result<Arc<Self>>;
    /// The last reference to the file went away.
    fn release(this: Arc<Self>);
    /// `unlocked_ioctl`; `compat_ioctl` is `compat_ptr_ioctl` (every vhost
    /// argument has the same layout in 32- and 64-bit processes).
    fn ioctl(this: ArcBorrow<'_, Self>, cmd: u32, arg: usize) -> Result<isize>;
    /// `read_iter`; `nonblock` is the file's `O_NONBLOCK`.
    fn read(this: ArcBorrow<'_, Self>, nonblock: bool, iov: &mut IovIterDest<'_>) -> Result<usize>;
    /// `write_iter`.
    fn write(this: ArcBorrow<'_, Self>, iov: &mut IovIterSource<'_>) -> Result<usize>;
    /// `poll`: returns the ready mask after registering `table` on `file`.
    fn poll(this: ArcBorrow<'_, Self>, file: &File, table: PollTable<'_>) -> u32;
}

/// A registered misc device; deregistered on drop.
///
/// # Invariants
///
/// `inner` holds a `struct miscdevice` registered with `misc_register()`.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: FileOps> {
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    _t: PhantomData<T>,
}

// SAFETY: after registration the misc core owns all accesses to `inner`; the
// wrapper only passes its address back to `misc_deregister()`.
unsafe impl<T: FileOps> Send for Registration<T> {}
// SAFETY: see `Send`; `&Registration` exposes nothing.
unsafe impl<T: FileOps> Sync for Registration<T> {}

impl<T: FileOps> Registration<T> {
    /// Registers `/dev/<name>` at `minor`. Fails with `EBUSY` if the minor is
    /// taken (e.g. by the stock `vhost_net`), logging `busy_hint`.
    pub(crate) fn register(
        name: &'static CStr,
        minor: u32,
        busy_hint: &'static CStr,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                let mut m: bindings::miscdevice = pin_init::zeroed();
                m.minor = minor as c_int;
                m.name = name.as_char_ptr();
                m.fops = &VTable::<T>::FOPS;
                // SAFETY: `slot` is valid for writes (`try_ffi_init` contract).
                unsafe { slot.write(m) };
                // SAFETY: `slot` holds a fully initialised miscdevice; it is
                // pinned and deregistered by `drop` before it is freed.
                let r = to_result(unsafe { bindings::misc_register(slot) });
                if r == Err(EBUSY) {
                    pr_err!("/dev/{}: {}\n", name.to_str().unwrap_or("?"), busy_hint.to_str().unwrap_or("?"));
                }
                r
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T: FileOps> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: registered, by the type invariant.
        unsafe { bindings::misc_deregister(self.inner.get()) };
    }
}

struct VTable<T: FileOps>(PhantomData<T>);

impl<T: FileOps> VTable<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: kernel::module::this_module::<T::OwnerModule>().as_ptr(),
        open: Some(Self::open),
        release: Some(Self::release),
        read_iter: Some(Self::read_iter),
        write_iter: Some(Self::write_iter),
        poll: Some(Self::poll),
        unlocked_ioctl: Some(Self::ioctl),
        #[cfg(CONFIG_COMPAT)]
        compat_ioctl: bindings::compat_ptr_ioctl,
        llseek: Some(bindings::noop_llseek),
        ..pin_init::zeroed()
    };

    /// # Safety
    ///
    /// `file` is an open file of this table, between `open` and `release`.
    unsafe fn borrow<'a>(file: *mut bindings::file) -> ArcBorrow<'a, T> {
        // SAFETY: between `open` and `release`, `private_data` is the pointer
        // `into_foreign` returned, and the VFS keeps the file alive for the call.
        unsafe { <Arc<T> as ForeignOwnable>::borrow((*file).private_data) }
    }

    /// # Safety
    ///
    /// Only called by the VFS, as this table's file operation, on a file
    /// opened through it.
    unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        match T::open() {
            Ok(this) => {
                // SAFETY: `open` may set the private data; `misc_open` stored
                // the miscdevice there, which we no longer need.
                unsafe { (*file).private_data = this.into_foreign() };
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the VFS, as this table's file operation, on a file
    /// opened through it.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `file` is the file being released, opened through this
        // table: its `private_data` is the `Arc` that `open` stored, which
        // `release`, the last call on `file`, takes back.
        let this = unsafe { <Arc<T> as ForeignOwnable>::from_foreign((*file).private_data) };
        T::release(this);
        0
    }

    /// # Safety
    ///
    /// Only called by the VFS, as this table's file operation, on a file
    /// opened through it.
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: `file` is the file this `unlocked_ioctl` was called on,
        // opened through this table and held by the VFS for the call.
        let this = unsafe { Self::borrow(file) };
        match T::ioctl(this, cmd, arg) {
            Ok(r) => r as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// Only called by the VFS, as this table's file operation, on a file
    /// opened through it.
    unsafe extern "C" fn read_iter(
        kiocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
    ) -> isize {
        // SAFETY: `kiocb` is valid for the call; its `ki_filp` is the file
        // this `read_iter` was called on, opened through this table.
        let file = unsafe { (*kiocb).ki_filp };
        // SAFETY: `file` is held by the VFS for the call.
        let nonblock = unsafe { (*file).f_flags } & bindings::O_NONBLOCK != 0;
        // SAFETY: `file` is the kiocb's file, which this `read_iter` was
        // called on: opened through this table and held for the call.
        let this = unsafe { Self::borrow(file) };
        // SAFETY: `read_iter` gets an iov_iter valid for writing during the call.
        let iov = unsafe { IovIterDest::from_raw(iter) };
        match T::read(this, nonblock, iov) {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// Only called by the VFS, as this table's file operation, on a file
    /// opened through it.
    unsafe extern "C" fn write_iter(
        kiocb: *mut bindings::kiocb,
        iter: *mut bindings::iov_iter,
    ) -> isize {
        // SAFETY: `kiocb` is valid for the call; its `ki_filp` is the file
        // this `write_iter` was called on, opened through this table and
        // held by the VFS for the call.
        let this = unsafe { Self::borrow((*kiocb).ki_filp) };
        // SAFETY: `write_iter` gets an iov_iter valid for reading during the call.
        let iov = unsafe { IovIterSource::from_raw(iter) };
        match T::write(this, iov) {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// Only called by the VFS, as this table's file operation, on a file
    /// opened through it.
    unsafe extern "C" fn poll(
        file: *mut bindings::file,
        table: *mut bindings::poll_table_struct,
    ) -> bindings::__poll_t {
        // SAFETY: `file` is the file this `poll` was called on, opened
        // through this table and held by the VFS for the call.
        let this = unsafe { Self::borrow(file) };
        // SAFETY: `file` is valid for the call; no fdget_pos region is active on it here.
        let f = unsafe { File::from_raw_file(file) };
        // SAFETY: `table` is null or valid for the duration of the call.
        let pt = unsafe { PollTable::from_raw(table) };
        T::poll(this, f, pt)
    }
}
