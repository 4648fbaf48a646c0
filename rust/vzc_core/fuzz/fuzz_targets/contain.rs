// SPDX-License-Identifier: GPL-2.0-only
#![no_main]
libfuzzer_sys::fuzz_target!(|_d: &[u8]| {});
