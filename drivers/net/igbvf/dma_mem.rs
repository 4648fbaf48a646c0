// SPDX-License-Identifier: GPL-2.0-only

//! Bounds-checked volatile accesses to coherent DMA memory shared with the
//! device (descriptor rings, self-test buffers): an index past the end is
//! `EINVAL`, never an access.

use kernel::{
    dma::Coherent,
    io::{io_read, io_write},
    prelude::*,
};

/// Element `i` of a quadword array.
pub(crate) fn read_u64(mem: &Coherent<[u64]>, i: usize) -> Result<u64> {
    Ok(io_read!(mem, [try: i]))
}

/// Sets element `i` of a quadword array.
pub(crate) fn write_u64(mem: &Coherent<[u64]>, i: usize, val: u64) -> Result {
    io_write!(mem, [try: i], val);
    Ok(())
}

/// Byte `i`.
pub(crate) fn read_u8(mem: &Coherent<[u8]>, i: usize) -> Result<u8> {
    Ok(io_read!(mem, [try: i]))
}

/// Sets byte `i`.
pub(crate) fn write_u8(mem: &Coherent<[u8]>, i: usize, val: u8) -> Result {
    io_write!(mem, [try: i], val);
    Ok(())
}
