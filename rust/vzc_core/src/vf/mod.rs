// SPDX-License-Identifier: GPL-2.0-only
//! The 82576 virtual function, as plain values and state machines (the
//! kernel driver in `drivers/net/igbvf` does the register and DMA accesses).
//!
//! - [`mbx`]: the VF<->PF mailbox protocol (its messages in `mbx::msg`).
//! - [`ring`]: RX/TX descriptor formats, ring geometry, queue control values.
//! - [`rx_chain`]: frame assembly from RX write-backs.
//! - [`counter`]: wrapping 32-bit statistics registers, widened.
//! - [`health`]: interrupt causes, fault injection, recovery policy.
//! - [`frame`]: self-test frames.

pub mod counter;
pub mod frame;
pub mod health;
pub mod mbx;
pub mod ring;
pub mod rx_chain;
