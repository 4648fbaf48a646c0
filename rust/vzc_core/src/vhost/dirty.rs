// SPDX-License-Identifier: GPL-2.0-only
//! The dirty log for live migration (`VHOST_F_LOG_ALL`): one bit per 4 KiB
//! guest page in a userspace bitmap at `log_base` (upstream `log_write`).
//!
//! Every page the device writes must be logged, and the bitmap address is
//! computed from guest-controlled GPAs: each bit's address is bounded by the
//! memory table's extent (a GPA past the last region cannot have been
//! written) and checked for overflow, so a hostile guest cannot make the
//! device set bits outside the log.

/// Page size of the log (`VHOST_PAGE_SIZE`).
pub const LOG_PAGE: u64 = 0x1000;

/// One bit to set: byte `addr` (a userspace address), bit `bit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBit {
    /// Userspace address of the bitmap byte.
    pub addr: u64,
    /// Bit within the byte (0..8).
    pub bit: u8,
}

/// The bits to set for a write of `len` bytes at `gpa`. `gpa_end` is the end
/// of guest memory (the highest region end of the memory table); a range
/// reaching past it, or a log address that overflows, is `None` (the caller
/// breaks the queue).
pub fn log_bits(log_base: u64, gpa: u64, len: u64, gpa_end: u64) -> Option<LogBits> {
    if len == 0 {
        return Some(LogBits {
            log_base,
            page: 0,
            last: 0,
            done: true,
        });
    }
    let end = gpa.checked_add(len)?;
    if end > gpa_end {
        return None;
    }
    let last = (end - 1) / LOG_PAGE;
    // The address of the last byte bounds all others.
    log_base.checked_add(last / 8)?;
    Some(LogBits {
        log_base,
        page: gpa / LOG_PAGE,
        last,
        done: false,
    })
}

/// Iterator over the [`LogBit`]s of one write; see [`log_bits`].
#[derive(Debug, Clone)]
pub struct LogBits {
    log_base: u64,
    page: u64,
    last: u64,
    done: bool,
}

impl Iterator for LogBits {
    type Item = LogBit;

    fn next(&mut self) -> Option<LogBit> {
        if self.done {
            return None;
        }
        // No overflow: `log_bits` checked `log_base + last / 8`.
        let b = LogBit {
            addr: self.log_base + self.page / 8,
            bit: (self.page % 8) as u8,
        };
        if self.page == self.last {
            self.done = true;
        } else {
            self.page += 1;
        }
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_of_a_write() {
        let v: Vec<_> = log_bits(0x1000, 0x7ff0, 0x20, 1 << 20).unwrap().collect();
        // 0x7ff0..0x8010 touches pages 7 and 8.
        assert_eq!(
            v,
            vec![
                LogBit {
                    addr: 0x1000,
                    bit: 7
                },
                LogBit {
                    addr: 0x1001,
                    bit: 0
                }
            ]
        );
        assert_eq!(log_bits(0x1000, 5, 0, 0).unwrap().count(), 0);
        assert_eq!(log_bits(0, 0, 4096, 1 << 20).unwrap().count(), 1);
    }

    #[test]
    fn hostile_ranges_are_refused() {
        assert!(log_bits(0x1000, 1 << 20, 1, 1 << 20).is_none());
        assert!(log_bits(0x1000, u64::MAX, 2, u64::MAX).is_none());
        assert!(log_bits(u64::MAX - 1, 0, 1 << 30, u64::MAX).is_none());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the guest asks, every bit lands inside the log that
        /// covers `gpa_end`, and exactly the touched pages are logged.
        #[test]
        fn bits_stay_inside_the_log(
            base in any::<u64>(),
            gpa in any::<u64>(),
            len in 0u64..(1 << 24),
            gpa_end in any::<u64>(),
        ) {
            if let Some(bits) = log_bits(base, gpa, len, gpa_end) {
                let log_len = gpa_end.div_ceil(LOG_PAGE).div_ceil(8);
                let mut n = 0u64;
                for b in bits {
                    prop_assert!(b.addr >= base && b.addr - base < log_len);
                    prop_assert!(b.bit < 8);
                    n += 1;
                }
                if len > 0 {
                    prop_assert_eq!(n, (gpa + len - 1) / LOG_PAGE - gpa / LOG_PAGE + 1);
                }
            }
        }
    }
}
