// SPDX-License-Identifier: GPL-2.0-only

//! Network hardware drivers of the module.

pub(crate) mod igbvf;
