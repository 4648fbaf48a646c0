// SPDX-License-Identifier: GPL-2.0-only

//! The generic netlink family `vhost_zc`: registration, the handler
//! trampolines the generated ops table (`vhost_zc_nl.c`) calls, and safe
//! views of a request, a reply and a dump. The `kernel` crate has no
//! genetlink support; binder's netlink is C-generated in the same way.
//!
//! The handlers themselves are safe Rust in `drivers/control/netlink.rs`;
//! what each command accepts is `vzc_core::control`.
//!
//! C header: `rust/glue/vzc_genl.h`, `rust/glue/vhost_zc_nl.h` (generated),
//! [`include/net/genetlink.h`](srctree/include/net/genetlink.h).

use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::{
    error::to_result,
    ffi::{c_int, c_void},
    prelude::*, //
};

use super::ffi;
use crate::control::netlink as handlers;
use crate::vzc_core::control::{
    attr::{PciAddr, TapName},
    port::NetId,
    Refusal,
};

/// The family, registered while this lives (with the netns hook that drops
/// the ports of a namespace that goes away).
pub(crate) struct Family(());

impl Family {
    /// Registers the family.
    pub(crate) fn register() -> Result<Family> {
        // SAFETY: `net_exit` is a valid callback for as long as the module is
        // loaded; `Drop` unregisters before the module goes.
        to_result(unsafe { ffi::vzc_genl_register(net_exit) })?;
        Ok(Family(()))
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: registered in `register()`; after this no handler runs.
        unsafe { ffi::vzc_genl_unregister() };
    }
}

/// The pernet exit hook (process context, the namespace is going away).
///
/// # Safety
///
/// Called by the shim's pernet `exit` only.
unsafe extern "C" fn net_exit(cookie: u64) {
    handlers::net_gone(NetId(cookie));
}

/// The message is full (`-EMSGSIZE`): a dump continues in the next one.
#[derive(Debug)]
pub(crate) struct MsgFull;

impl From<MsgFull> for Error {
    fn from(_: MsgFull) -> Error {
        EMSGSIZE
    }
}

/// The requester's network namespace, for the duration of a handler.
pub(crate) struct Net<'a> {
    net: NonNull<c_void>,
    cookie: NetId,
    _l: PhantomData<&'a ()>,
}

/// Why a tap lookup failed.
pub(crate) enum TapLookup {
    /// No interface of that name in the namespace.
    Missing,
    /// An interface that is not a tap (tun in TAP mode).
    NotTap,
}

impl Net<'_> {
    /// The namespace's cookie.
    pub(crate) fn id(&self) -> NetId {
        self.cookie
    }

    /// The ifindex of tap `name`.
    pub(crate) fn tap_ifindex(&self, name: &TapName) -> Result<u32, TapLookup> {
        // SAFETY: `self.net` is valid for the handler's duration (type
        // invariant); the name is NUL-terminated.
        let r = unsafe {
            ffi::vzc_tap_ifindex(self.net.as_ptr(), name.as_bytes_with_nul().as_ptr().cast())
        };
        match r {
            r if r > 0 => Ok(r as u32),
            r if r == -(bindings_errno::EMEDIUMTYPE) => Err(TapLookup::NotTap),
            _ => Err(TapLookup::Missing),
        }
    }

    /// The ifindex of interface `name` now, 0 if there is none.
    pub(crate) fn ifindex(&self, name: &TapName) -> u32 {
        // SAFETY: as in `tap_ifindex`.
        let r = unsafe {
            ffi::vzc_ifindex_by_name(self.net.as_ptr(), name.as_bytes_with_nul().as_ptr().cast())
        };
        r.max(0) as u32
    }
}

mod bindings_errno {
    pub(super) const EMEDIUMTYPE: i32 = kernel::bindings::EMEDIUMTYPE as i32;
}

/// A `doit` request. Valid for the handler's duration.
///
/// # Invariants
///
/// `info` points to the live `struct genl_info` of the running `doit`.
pub(crate) struct Request<'a> {
    info: NonNull<c_void>,
    _l: PhantomData<&'a ()>,
}

impl<'a> Request<'a> {
    /// The payload of attribute `ty` of the request, if present. The
    /// generated policy has checked its type and length.
    pub(crate) fn attr(&self, ty: u16) -> Option<&'a [u8]> {
        // SAFETY: `info` is live (invariant); the shim bounds `ty` by the
        // running op's maxattr (NULL for an attribute the op does not take).
        let a = unsafe { ffi::vzc_genl_attr(self.info.as_ptr(), ty.into()) };
        if a.is_null() {
            return None;
        }
        let mut len: c_int = 0;
        // SAFETY: `a` is an attribute of the request message, which lives
        // until the handler returns.
        let p = unsafe { ffi::vzc_nla_payload(a, &mut len) };
        // SAFETY: the payload is `len` bytes inside the request message.
        Some(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len.max(0) as usize) })
    }

    /// The payload of attribute `ty`, which the command requires: if it is
    /// missing, the extack names it (missing-attribute type and `msg`) and
    /// the request fails with `EINVAL`.
    pub(crate) fn required(&self, ty: u16, msg: &'static CStr) -> Result<&'a [u8]> {
        // SAFETY: `info` is live (invariant).
        if !unsafe { ffi::vzc_genl_has_attr(self.info.as_ptr(), ty.into()) } {
            // SAFETY: `info` is live; `msg` is static and NUL-terminated.
            unsafe { ffi::vzc_genl_set_err(self.info.as_ptr(), 0, msg.as_char_ptr()) };
            return Err(EINVAL);
        }
        self.attr(ty).ok_or(EINVAL)
    }

    /// Reports `r` in the extack; returns its errno.
    pub(crate) fn refuse(&self, r: Refusal) -> Error {
        // SAFETY: `info` is live; `r.msg` is static and NUL-terminated.
        unsafe {
            ffi::vzc_genl_set_err(
                self.info.as_ptr(),
                r.attr.map_or(0, c_int::from),
                r.msg.as_char_ptr(),
            )
        };
        Error::from_errno(-r.errno)
    }

    /// The requester's namespace.
    pub(crate) fn net(&self) -> Net<'a> {
        // SAFETY: `info` is live (invariant).
        let (net, cookie) = unsafe {
            (
                ffi::vzc_genl_net(self.info.as_ptr()),
                ffi::vzc_genl_net_cookie(self.info.as_ptr()),
            )
        };
        Net {
            // A genl_info always has its namespace.
            net: NonNull::new(net).expect("genl_info without a netns"),
            cookie: NetId(cookie),
            _l: PhantomData,
        }
    }

    /// Replies with one message, which `fill` writes.
    pub(crate) fn reply(&self, fill: impl FnOnce(&mut Msg<'_>) -> Result<(), MsgFull>) -> Result {
        let mut hdr: *mut c_void = core::ptr::null_mut();
        // SAFETY: `info` is live (invariant).
        let skb = unsafe { ffi::vzc_genl_reply_new(self.info.as_ptr(), &mut hdr) };
        let skb = NonNull::new(skb).ok_or(ENOMEM)?;
        let mut m = Msg {
            skb,
            _l: PhantomData,
        };
        if let Err(e) = fill(&mut m) {
            // SAFETY: `skb` is ours and not sent.
            unsafe { ffi::vzc_genl_msg_free(skb.as_ptr()) };
            return Err(e.into());
        }
        // SAFETY: `skb`/`hdr` come from `vzc_genl_reply_new` for this
        // `info`; sending consumes `skb`.
        to_result(unsafe { ffi::vzc_genl_reply_send(skb.as_ptr(), hdr, self.info.as_ptr()) })
    }
}

/// A message being written (a reply, or one dump entry).
///
/// # Invariants
///
/// `skb` is a netlink message under construction that nobody else writes.
pub(crate) struct Msg<'a> {
    skb: NonNull<c_void>,
    _l: PhantomData<&'a mut ()>,
}

impl Msg<'_> {
    fn put_result(r: c_int) -> Result<(), MsgFull> {
        if r == 0 {
            Ok(())
        } else {
            Err(MsgFull)
        }
    }

    /// A `u32` attribute.
    pub(crate) fn put_u32(&mut self, ty: u16, v: u32) -> Result<(), MsgFull> {
        // SAFETY: `skb` is ours (invariant).
        Self::put_result(unsafe { ffi::vzc_nla_put_u32(self.skb.as_ptr(), ty.into(), v) })
    }

    /// A `uint` attribute (4 or 8 bytes, as the value needs).
    pub(crate) fn put_uint(&mut self, ty: u16, v: u64) -> Result<(), MsgFull> {
        // SAFETY: `skb` is ours (invariant).
        Self::put_result(unsafe { ffi::vzc_nla_put_uint(self.skb.as_ptr(), ty.into(), v) })
    }

    /// An attribute with payload `data` (a string includes its NUL).
    pub(crate) fn put_bytes(&mut self, ty: u16, data: &[u8]) -> Result<(), MsgFull> {
        let len = c_int::try_from(data.len()).map_err(|_| MsgFull)?;
        // SAFETY: `skb` is ours; `data` is valid for `len` bytes.
        Self::put_result(unsafe {
            ffi::vzc_nla_put(self.skb.as_ptr(), ty.into(), len, data.as_ptr().cast())
        })
    }

    /// A nest `ty` holding what `fill` writes.
    pub(crate) fn nest(
        &mut self,
        ty: u16,
        fill: impl FnOnce(&mut Msg<'_>) -> Result<(), MsgFull>,
    ) -> Result<(), MsgFull> {
        // SAFETY: `skb` is ours (invariant).
        let nest = unsafe { ffi::vzc_nla_nest_start(self.skb.as_ptr(), ty.into()) };
        if nest.is_null() {
            return Err(MsgFull);
        }
        let r = fill(&mut Msg {
            skb: self.skb,
            _l: PhantomData,
        });
        // SAFETY: `nest` was started in `skb` just above, and nothing
        // after it was cancelled.
        unsafe {
            if r.is_ok() {
                ffi::vzc_nla_nest_end(self.skb.as_ptr(), nest)
            } else {
                ffi::vzc_nla_nest_cancel(self.skb.as_ptr(), nest)
            }
        };
        r
    }
}

/// A `dumpit` call: one message to fill with entries, and a cursor kept
/// between the calls of one dump.
///
/// # Invariants
///
/// `skb` and `cb` are the live arguments of the running `dumpit`.
pub(crate) struct Dump<'a> {
    skb: NonNull<c_void>,
    cb: NonNull<c_void>,
    _l: PhantomData<&'a ()>,
}

impl<'a> Dump<'a> {
    /// The requester's namespace.
    pub(crate) fn net(&self) -> Net<'a> {
        // SAFETY: `cb` is live (invariant); a dump's info is its request's.
        let info = unsafe { ffi::vzc_genl_dump_info(self.cb.as_ptr()) };
        Request {
            // A genetlink dump always has its info.
            info: NonNull::new(info.cast_mut()).expect("dump without genl_info"),
            _l: PhantomData,
        }
        .net()
    }

    /// Where the previous call stopped (0 on the first).
    pub(crate) fn cursor(&self) -> usize {
        // SAFETY: `cb` is live (invariant).
        unsafe { *ffi::vzc_genl_dump_cursor(self.cb.as_ptr()) }
    }

    /// Where the next call starts.
    pub(crate) fn set_cursor(&mut self, c: usize) {
        // SAFETY: `cb` is live (invariant).
        unsafe { *ffi::vzc_genl_dump_cursor(self.cb.as_ptr()) = c };
    }

    /// One entry, which `fill` writes; `MsgFull` when it does not fit (the
    /// entry is removed again and goes into the next message).
    pub(crate) fn entry(
        &mut self,
        fill: impl FnOnce(&mut Msg<'_>) -> Result<(), MsgFull>,
    ) -> Result<(), MsgFull> {
        // SAFETY: `skb`/`cb` are live (invariant).
        let hdr = unsafe { ffi::vzc_genl_dump_entry(self.skb.as_ptr(), self.cb.as_ptr()) };
        if hdr.is_null() {
            return Err(MsgFull);
        }
        let r = fill(&mut Msg {
            skb: self.skb,
            _l: PhantomData,
        });
        // SAFETY: `hdr` was put into `skb` just above.
        unsafe {
            if r.is_ok() {
                ffi::vzc_genl_entry_end(self.skb.as_ptr(), hdr)
            } else {
                ffi::vzc_genl_entry_cancel(self.skb.as_ptr(), hdr)
            }
        };
        r
    }

    fn len(&self) -> c_int {
        // SAFETY: `skb` is live (invariant).
        unsafe { ffi::vzc_skb_len(self.skb.as_ptr()) }
    }
}

/// Whether a PCI function exists at `a`.
pub(crate) fn pci_exists(a: &PciAddr) -> bool {
    // SAFETY: plain values; the shim drops the reference it takes.
    unsafe { ffi::vzc_pci_exists(a.domain, a.bus, a.devfn()) }
}

/// A `doit` result as the ops table wants it.
fn doit_ret(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Runs `f` over the `doit` request `info`.
///
/// # Safety
///
/// `info` is the `struct genl_info` of a running `doit` of this family.
unsafe fn doit(info: *mut c_void, f: fn(&Request<'_>) -> Result) -> c_int {
    let Some(info) = NonNull::new(info) else {
        return EINVAL.to_errno();
    };
    // INVARIANT: the caller's guarantee.
    doit_ret(f(&Request {
        info,
        _l: PhantomData,
    }))
}

// The handlers the generated ops table names (`vhost_zc_nl.h`).

/// `VHOST_ZC_CMD_PORT_BIND`.
///
/// # Safety
///
/// Called by genetlink only, with the `doit` arguments.
#[no_mangle]
unsafe extern "C" fn vhost_zc_nl_port_bind_doit(_skb: *mut c_void, info: *mut c_void) -> c_int {
    // SAFETY: genetlink calls this with the request's genl_info.
    unsafe { doit(info, handlers::port_bind) }
}

/// `VHOST_ZC_CMD_PORT_UNBIND`.
///
/// # Safety
///
/// Called by genetlink only, with the `doit` arguments.
#[no_mangle]
unsafe extern "C" fn vhost_zc_nl_port_unbind_doit(_skb: *mut c_void, info: *mut c_void) -> c_int {
    // SAFETY: genetlink calls this with the request's genl_info.
    unsafe { doit(info, handlers::port_unbind) }
}

/// `VHOST_ZC_CMD_PORT_GET`, one port.
///
/// # Safety
///
/// Called by genetlink only, with the `doit` arguments.
#[no_mangle]
unsafe extern "C" fn vhost_zc_nl_port_get_doit(_skb: *mut c_void, info: *mut c_void) -> c_int {
    // SAFETY: genetlink calls this with the request's genl_info.
    unsafe { doit(info, handlers::port_get) }
}

/// `VHOST_ZC_CMD_PORT_GET`, the dump: returns the message's length (0 ends
/// the dump) or an errno.
///
/// # Safety
///
/// Called by genetlink only, with the `dumpit` arguments.
#[no_mangle]
unsafe extern "C" fn vhost_zc_nl_port_get_dumpit(skb: *mut c_void, cb: *mut c_void) -> c_int {
    let (Some(skb), Some(cb)) = (NonNull::new(skb), NonNull::new(cb)) else {
        return EINVAL.to_errno();
    };
    // INVARIANT: genetlink's arguments of this dumpit call.
    let mut d = Dump {
        skb,
        cb,
        _l: PhantomData,
    };
    match handlers::port_dump(&mut d) {
        Ok(()) => d.len(),
        Err(e) => e.to_errno(),
    }
}
