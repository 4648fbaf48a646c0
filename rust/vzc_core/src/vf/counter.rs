// SPDX-License-Identifier: GPL-2.0-only
//! Hardware statistics registers: 32-bit counters that wrap, widened to 64.

/// A 32-bit hardware counter that wraps (VFGPRC and friends), extended to
/// 64 bits by reading it often enough (less than one wrap between reads),
/// as igbvf `igbvf_update_stats` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WrapCounter {
    last: u32,
    total: u64,
}

impl WrapCounter {
    /// Zero, starting from a raw 0.
    pub const fn new() -> Self {
        WrapCounter { last: 0, total: 0 }
    }

    /// Takes `raw` as the new starting point without counting anything: after
    /// a reset, when the register may have restarted (a drop to a lower value
    /// would otherwise count as a wrap).
    pub fn rebase(&mut self, raw: u32) {
        self.last = raw;
    }

    /// Adds what the register counted since the last read.
    pub fn update(&mut self, raw: u32) -> u64 {
        self.total = self
            .total
            .wrapping_add(u64::from(raw.wrapping_sub(self.last)));
        self.last = raw;
        self.total
    }

    /// Total so far.
    pub fn get(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_counter() {
        let mut c = WrapCounter::default();
        c.rebase(0xffff_fff0);
        assert_eq!(c.update(0xffff_fff0), 0);
        assert_eq!(c.update(0x10), 0x20);
        assert_eq!(c.update(0x10), 0x20);
        assert_eq!(c.update(0x8000_0010), 0x8000_0020);
        // A reset to zero is not a wrap once rebased.
        c.rebase(0);
        assert_eq!(c.update(5), 0x8000_0025);
        assert_eq!(c.get(), 0x8000_0025);
    }
}
