// SPDX-License-Identifier: GPL-2.0-only
//! The control plane, kernel-independent: what the generic netlink family
//! `vhost_zc` (Documentation/netlink/specs/vhost_zc.yaml) accepts and the
//! table of ports it manages.
//!
//! - [`attr`]: attribute payloads from a netlink user (hostile) turned into
//!   values that are valid by construction: [`attr::TapName`],
//!   [`attr::PciAddr`], [`attr::GuestMac`];
//! - [`port`]: the ports (tap -> VF bindings), keyed by network namespace
//!   and tap name, with every refusal as an errno and an extack message.
//!
//! The kernel side (drivers/control) only reads attributes, looks up the tap
//! and the VF, and sends what this module decides.

pub mod attr;
pub mod port;

/// A refused request: the errno (positive) and the extack message the user
/// sees, pointing at the attribute that caused it when there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// errno, positive (the kernel returns it negated).
    pub errno: i32,
    /// Message for the netlink extended ack (static: the kernel keeps the
    /// pointer, not a copy).
    pub msg: &'static core::ffi::CStr,
    /// The offending attribute of the `port` set, if any.
    pub attr: Option<u16>,
}

impl Refusal {
    /// A refusal pointing at attribute `attr`.
    pub const fn at(errno: i32, attr: u16, msg: &'static core::ffi::CStr) -> Refusal {
        Refusal {
            errno,
            msg,
            attr: Some(attr),
        }
    }

    /// A refusal of the request as a whole.
    pub const fn whole(errno: i32, msg: &'static core::ffi::CStr) -> Refusal {
        Refusal {
            errno,
            msg,
            attr: None,
        }
    }
}
