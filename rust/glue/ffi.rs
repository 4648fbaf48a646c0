// SPDX-License-Identifier: GPL-2.0-only

//! Declarations of the C shim (`rust/glue/vzc_shim.{c,h}`) and of the
//! exported kernel functions that have no bindings, one block per user in
//! `rust/glue`. Raw and `unsafe`; only the safe wrappers in `rust/glue` call
//! them.
//!
//! C headers: `rust/glue/vzc_shim.h` and
//! [`include/linux/sched/vhost_task.h`](srctree/include/linux/sched/vhost_task.h).

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_ushort, c_void};

// `struct kobject`, `struct file` and `struct device` are passed as `c_void`: Rust never looks
// inside them here, and with LOCKDEP off their bindgen types hold an empty
// struct (`lock_class_key`) that `improper_ctypes` rejects.

// The shim's sysfs root (`sysfs.rs`).
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sysfs_create(version: *const c_char) -> *mut c_void;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sysfs_destroy(kobj: *mut c_void);
}

// The shim's user-memory access (`user.rs`): `get_user`/`put_user`,
// `clear_user`, `access_ok` and the dirty-log bit are macros or inlines.
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_clear_user(to: *mut c_void, n: c_ulong) -> c_ulong;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_get_user_u16(p: *const c_void, v: *mut u16) -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_put_user_u16(p: *mut c_void, v: u16) -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_access_ok(addr: usize, size: usize) -> bool;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_log_set_bit(uaddr: c_ulong, bit: c_uint) -> c_int;
}

// The shim's file polling (`poll.rs`): a `poll_table` with its wait entry.
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_poll_alloc(
        mask: c_uint,
        wake: unsafe extern "C" fn(*mut c_void, c_ulong),
        data: *mut c_void,
        token: c_ulong,
    ) -> *mut c_void;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_poll_start(p: *mut c_void, file: *mut c_void) -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_poll_stop(p: *mut c_void);
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_poll_free(p: *mut c_void);
}

// The shim's backend sockets (`socket.rs`): the tun/tap/packet lookup and
// non-blocking packet I/O.
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_backend_socket_get(fd: c_int, filep: *mut *mut c_void) -> *mut c_void;
    pub(crate) fn vzc_mm_pinned_vm_add(mm: *mut c_void, delta: c_long);
    pub(crate) fn vzc_tun_identity(file: *mut c_void, name: *mut u8, net_cookie: *mut u64)
        -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sock_sendmsg(
        sock: *mut c_void,
        iov: *const bindings::iovec,
        nr: usize,
        len: usize,
    ) -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sock_recvmsg(
        sock: *mut c_void,
        iov: *const bindings::iovec,
        nr: usize,
        len: usize,
    ) -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sock_peek_len(sock: *mut c_void) -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_sock_discard(sock: *mut c_void) -> c_int;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_file_writable(file: *mut c_void) -> bool;
}

// The shim's scheduling helpers for the worker (`worker.rs`): task state,
// the busy-poll clock, `cpu_relax`, `cond_resched`.
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_set_running();
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_busy_clock() -> u64;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_busy_poll_ok(endtime: u64) -> bool;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_cpu_relax();
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_cond_resched();
}

// kernel/vhost_task.c (exported GPL; no bindings for linux/sched/vhost_task.h).
extern "C" {
    pub(crate) fn vhost_task_create(
        f: unsafe extern "C" fn(*mut c_void) -> bool,
        handle_kill: unsafe extern "C" fn(*mut c_void),
        arg: *mut c_void,
        name: *const c_char,
    ) -> *mut c_void;
    pub(crate) fn vhost_task_start(vtsk: *mut c_void);
    pub(crate) fn vhost_task_stop(vtsk: *mut c_void);
    pub(crate) fn vhost_task_wake(vtsk: *mut c_void);
}

// The shim's sysfs attribute directories (`sysfs.rs`).
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_attr_dir_create(
        parent: *mut c_void,
        name: *const c_char,
        descs: *const AttrDesc,
        n: c_uint,
        priv_: *const c_void,
        show: ShowFn,
        store: StoreFn,
    ) -> *mut c_void;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_attr_dir_destroy(kobj: *mut c_void);
}

// The shim's delayed work (`dwork.rs`): `INIT_DELAYED_WORK` and friends are
// macros and inlines.
extern "C" {
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_dwork_alloc(f: DworkFn, data: *const c_void, token: c_ulong) -> *mut c_void;
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_dwork_queue(w: *mut c_void, ms: c_uint);
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_dwork_disable(w: *mut c_void);
    /// See `vzc_shim.h`.
    pub(crate) fn vzc_dwork_free(w: *mut c_void);
}

/// The callback of `vzc_dwork_alloc`.
pub(crate) type DworkFn = unsafe extern "C" fn(data: *const c_void, token: c_ulong) -> c_long;

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

/// `struct vzc_attr_desc` of `vzc_shim.h`.
#[repr(C)]
pub(crate) struct AttrDesc {
    pub(crate) name: *const c_char,
    /// Null: the directory itself.
    pub(crate) dir: *const c_char,
    pub(crate) mode: c_ushort,
}

/// `VZC_ATTR_DIR_MAX` of `vzc_shim.h`.
pub(crate) const ATTR_DIR_MAX: usize = 256;
/// `VZC_ATTR_GROUPS_MAX` of `vzc_shim.h`.
pub(crate) const ATTR_GROUPS_MAX: usize = 16;

// The generic netlink family (`genl.rs`, `vzc_genl.h`). `struct sk_buff`,
// `struct genl_info`, `struct netlink_callback`, `struct nlattr`, `struct
// net` and `struct pci_dev` are opaque here.
extern "C" {
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_register(net_exit: unsafe extern "C" fn(u64)) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_unregister();
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_attr(info: *const c_void, ty: c_int) -> *const c_void;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_nla_payload(a: *const c_void, len: *mut c_int) -> *const c_void;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_has_attr(info: *const c_void, ty: c_int) -> bool;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_set_err(info: *const c_void, ty: c_int, msg: *const c_char);
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_net_cookie(info: *const c_void) -> u64;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_net(info: *const c_void) -> *mut c_void;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_dump_info(cb: *mut c_void) -> *const c_void;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_dump_cursor(cb: *mut c_void) -> *mut c_ulong;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_reply_new(info: *const c_void, hdr: *mut *mut c_void) -> *mut c_void;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_reply_send(
        skb: *mut c_void,
        hdr: *mut c_void,
        info: *mut c_void,
    ) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_msg_free(skb: *mut c_void);
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_dump_entry(skb: *mut c_void, cb: *mut c_void) -> *mut c_void;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_entry_end(skb: *mut c_void, hdr: *mut c_void);
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_genl_entry_cancel(skb: *mut c_void, hdr: *mut c_void);
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_skb_len(skb: *const c_void) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_nla_put(
        skb: *mut c_void,
        ty: c_int,
        len: c_int,
        data: *const c_void,
    ) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_nla_put_u32(skb: *mut c_void, ty: c_int, value: u32) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_nla_put_uint(skb: *mut c_void, ty: c_int, value: u64) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_nla_nest_start(skb: *mut c_void, ty: c_int) -> *mut c_void;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_nla_nest_end(skb: *mut c_void, nest: *mut c_void);
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_nla_nest_cancel(skb: *mut c_void, nest: *mut c_void);
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_tap_ifindex(net: *mut c_void, name: *const c_char) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_ifindex_by_name(net: *mut c_void, name: *const c_char) -> c_int;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_pci_exists(domain: u32, bus: u8, devfn: u8) -> bool;
    /// See `vzc_genl.h`.
    pub(crate) fn vzc_pci_addr(pdev: *const c_void, domain: *mut u32, bus: *mut u8, devfn: *mut u8);
}
