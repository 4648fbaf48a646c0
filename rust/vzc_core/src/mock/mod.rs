// SPDX-License-Identifier: GPL-2.0-only
//! Test doubles.

#[cfg(test)]
pub(crate) mod pf;
