// SPDX-License-Identifier: GPL-2.0-only

//! The VF<->PF mailbox on the BAR.
//!
//! The protocol itself (locking, read-to-clear bits, bounded polls,
//! ACK/NACK/CTS, message layouts) is `vzc_core::vf::mbx`, tested in
//! userspace against a model of the PF. This file gives it register access
//! and turns its errors into kernel errors.

use kernel::{
    io::{
        register::Array,
        Io, //
    },
    prelude::*,
    time::{
        delay::fsleep,
        Delta, //
    },
};

use super::{regs, Bar0};
use crate::vzc_core::vf::mbx::{MbxError, MbxIo};

/// [`MbxIo`] over the VF's BAR0.
pub(crate) struct BarMbx<'a, 'b>(pub(crate) &'a Bar0<'b>);

impl MbxIo for BarMbx<'_, '_> {
    fn read_v2p(&mut self) -> u32 {
        self.0.read(regs::V2PMAILBOX).raw().get()
    }

    fn write_v2p(&mut self, val: u32) {
        self.0.write_reg(regs::V2PMAILBOX::zeroed().with_raw(val));
    }

    fn read_mem(&mut self, i: usize) -> u32 {
        // The protocol never passes i >= MBX_WORDS; if it did, reading 0
        // makes a reply that fails to parse rather than a wild access.
        regs::VMBMEM::try_at(i).map_or(0, |loc| self.0.read(loc).word().get())
    }

    fn write_mem(&mut self, i: usize, val: u32) {
        if let Some(loc) = regs::VMBMEM::try_at(i) {
            self.0.write(loc, regs::VMBMEM::zeroed().with_word(val));
        }
    }

    fn delay_us(&mut self, us: u32) {
        // Process context with only a mutex held: sleeping is allowed, and
        // the 1 s reply budget must not spin a CPU.
        fsleep(Delta::from_micros(i64::from(us)));
    }
}

/// The kernel error for a mailbox failure.
pub(crate) fn to_error(e: MbxError) -> Error {
    match e {
        MbxError::LockTimeout | MbxError::Timeout => ETIMEDOUT,
        MbxError::NotReady | MbxError::PfInReset => EBUSY,
        MbxError::Nack => EPERM,
        MbxError::UnexpectedReply => EIO,
        MbxError::InvalidArgument => EINVAL,
    }
}
