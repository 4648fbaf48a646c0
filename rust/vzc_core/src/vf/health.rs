// SPDX-License-Identifier: GPL-2.0-only

//! Keeping a VF alive, kernel-independent: when the watchdog may reset the
//! VF ([`Recovery`], igbvf's "at most one reset per 10 s"), injected ring
//! allocation failures ([`FaultInject`]), and the MSI-X register values of
//! igbvf `igbvf_configure_msix` ([`msix`]).

/// What the watchdog does about the VF's health this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing to recover.
    Idle,
    /// Recovery is needed but the PF is still resetting (RSTI asserted):
    /// a handshake cannot succeed yet, so none is tried.
    WaitPf,
    /// Recovery is needed but the last attempt was too recent.
    Deferred,
    /// Reset the VF and redo the handshake now.
    Reset,
}

/// Counters of [`Recovery`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryStats {
    /// Recovery resets that succeeded.
    pub recovered: u64,
    /// Recovery resets whose handshake failed.
    pub failed: u64,
    /// Rounds in which a needed recovery was held back by the rate limit.
    pub deferred: u64,
    /// Rounds in which a needed recovery waited for the PF's reset to end.
    pub waited_pf: u64,
}

/// Rate limit of watchdog-initiated VF resets. igbvf schedules its reset
/// task from the watchdog only if the last reset is at least 10 s old
/// (`igbvf_has_link`: `time_after(jiffies, last_reset + 10 * HZ)`); a PF
/// that keeps failing handshakes therefore costs one attempt per 10 s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    min_interval_ms: u64,
    /// When the last attempt started, if any.
    last_attempt_ms: Option<u64>,
    /// A PF reset was seen and not yet recovered from.
    pending: bool,
    stats: RecoveryStats,
}

/// igbvf's spacing of watchdog resets.
pub const RECOVERY_INTERVAL_MS: u64 = 10_000;

impl Recovery {
    /// No recovery yet; attempts at least `min_interval_ms` apart.
    pub const fn new(min_interval_ms: u64) -> Self {
        Recovery {
            min_interval_ms,
            last_attempt_ms: None,
            pending: false,
            stats: RecoveryStats {
                recovered: 0,
                failed: 0,
                deferred: 0,
                waited_pf: 0,
            },
        }
    }

    /// Decides at time `now_ms` (monotonic). `pf_reset_seen`: the PF's
    /// reset indication was read this round (it is remembered until a
    /// recovery succeeds); `mailbox_ready`: the last handshake holds (no
    /// poll timed out since); `pf_resetting`: RSTI is asserted now.
    pub fn decide(
        &mut self,
        now_ms: u64,
        pf_reset_seen: bool,
        mailbox_ready: bool,
        pf_resetting: bool,
    ) -> Action {
        self.pending |= pf_reset_seen;
        if !self.pending && mailbox_ready {
            return Action::Idle;
        }
        if pf_resetting {
            self.stats.waited_pf += 1;
            return Action::WaitPf;
        }
        if let Some(last) = self.last_attempt_ms {
            if now_ms.saturating_sub(last) < self.min_interval_ms {
                self.stats.deferred += 1;
                return Action::Deferred;
            }
        }
        self.last_attempt_ms = Some(now_ms);
        Action::Reset
    }

    /// The outcome of the reset [`Recovery::decide`] asked for.
    pub fn done(&mut self, ok: bool) {
        if ok {
            self.pending = false;
            self.stats.recovered += 1;
        } else {
            self.stats.failed += 1;
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> RecoveryStats {
        self.stats
    }
}

/// Most failures that can be armed at once.
pub const MAX_INJECT: u32 = 64;

/// Injected allocation failures for testing the unwinding of ring setup:
/// after `skip` more allocation points succeed, the next `fail` ones fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultInject {
    skip: u32,
    fail: u32,
    /// Failures injected so far.
    pub hits: u64,
}

impl FaultInject {
    /// Nothing armed.
    pub const fn new() -> Self {
        FaultInject {
            skip: 0,
            fail: 0,
            hits: 0,
        }
    }

    /// Parses `"<fail> [<skip>]"` (both 0..=[`MAX_INJECT`]) and arms it,
    /// replacing what was armed; `None` (nothing changed) for bad input.
    pub fn arm(&mut self, text: &str) -> Option<()> {
        let mut w = text.split_whitespace();
        let fail: u32 = w.next()?.parse().ok()?;
        let skip: u32 = match w.next() {
            Some(s) => s.parse().ok()?,
            None => 0,
        };
        if w.next().is_some() || fail > MAX_INJECT || skip > MAX_INJECT {
            return None;
        }
        self.fail = fail;
        self.skip = if fail == 0 { 0 } else { skip };
        Some(())
    }

    /// Called at each allocation point: whether it must fail.
    pub fn should_fail(&mut self) -> bool {
        if self.fail == 0 {
            return false;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        self.fail -= 1;
        self.hits += 1;
        true
    }

    /// (failures still armed, successes to let through first).
    pub fn armed(&self) -> (u32, u32) {
        (self.fail, self.skip)
    }
}

/// MSI-X layout of igbvf (`igbvf_configure_msix`): vector 0 for TX queue 0,
/// 1 for RX queue 0, 2 for "other" causes (the mailbox).
pub mod msix {
    /// Vectors used.
    pub const VECTORS: u32 = 3;
    /// TX queue 0's vector.
    pub const TX: u8 = 0;
    /// RX queue 0's vector.
    pub const RX: u8 = 1;
    /// The mailbox's vector.
    pub const MBX: u8 = 2;
    /// IVAR entry valid (`E1000_IVAR_VALID`).
    pub const IVAR_VALID: u32 = 0x80;
    /// All three vectors (EIMS, EIAC, EIMC).
    pub const ALL: u32 = (1 << VECTORS) - 1;

    /// IVAR0: RX queue 0 in byte 0, TX queue 0 in byte 1 (queue 1's bytes
    /// 2 and 3 unused), as `igbvf_assign_vector`.
    pub const fn ivar0() -> u32 {
        (RX as u32 | IVAR_VALID) | ((TX as u32 | IVAR_VALID) << 8)
    }

    /// IVAR_MISC: the mailbox's vector.
    pub const fn ivar_misc() -> u32 {
        MBX as u32 | IVAR_VALID
    }

    /// EITR value for an interval of `us` microseconds (82576 EITR
    /// interval field, bits 14:2, in 1 us units as QEMU's igb models it);
    /// clamped to the field.
    pub const fn eitr(us: u32) -> u32 {
        let us = if us > 0x1fff { 0x1fff } else { us };
        us << 2
    }

    /// The vector an EICR-style bit set names, for each of ours.
    pub const fn bit(vector: u8) -> u32 {
        1 << vector
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_when_healthy() {
        let mut r = Recovery::new(RECOVERY_INTERVAL_MS);
        assert_eq!(r.decide(0, false, true, false), Action::Idle);
        assert_eq!(r.stats(), RecoveryStats::default());
    }

    #[test]
    fn first_recovery_immediate_then_spaced() {
        let mut r = Recovery::new(10_000);
        assert_eq!(r.decide(5, true, true, false), Action::Reset);
        r.done(false);
        // Still pending (the reset failed): not before 10 s.
        assert_eq!(r.decide(2_000, false, false, false), Action::Deferred);
        assert_eq!(r.decide(10_004, false, false, false), Action::Deferred);
        assert_eq!(r.decide(10_005, false, false, false), Action::Reset);
        r.done(true);
        assert_eq!(r.decide(12_000, false, true, false), Action::Idle);
        let s = r.stats();
        assert_eq!((s.recovered, s.failed, s.deferred), (1, 1, 2));
    }

    #[test]
    fn waits_for_the_pf_without_spending_an_attempt() {
        let mut r = Recovery::new(10_000);
        // PF down: RSTI stays up for a while.
        for t in [0, 2_000, 4_000] {
            assert_eq!(r.decide(t, true, true, true), Action::WaitPf);
        }
        // PF up: the reset indication was remembered.
        assert_eq!(r.decide(6_000, false, false, false), Action::Reset);
        r.done(true);
        assert_eq!(r.decide(8_000, false, true, false), Action::Idle);
        assert_eq!(r.stats().waited_pf, 3);
    }

    #[test]
    fn a_pf_reset_seen_while_healthy_is_remembered() {
        let mut r = Recovery::new(10_000);
        assert_eq!(r.decide(0, true, true, false), Action::Reset);
        r.done(true);
        // A second PF reset within 10 s of the last attempt waits its turn.
        assert_eq!(r.decide(3_000, true, true, false), Action::Deferred);
        assert_eq!(r.decide(9_000, false, true, false), Action::Deferred);
        assert_eq!(r.decide(10_000, false, true, false), Action::Reset);
        r.done(true);
        assert_eq!(r.decide(10_001, false, true, false), Action::Idle);
    }

    #[test]
    fn inject_parse_and_count() {
        let mut f = FaultInject::new();
        assert!(!f.should_fail());
        for bad in ["", "x", "1 x", "65", "1 65", "1 2 3", "-1"] {
            assert_eq!(f.arm(bad), None, "{bad:?}");
        }
        assert_eq!(f.armed(), (0, 0));
        f.arm("2 1").unwrap();
        assert_eq!(f.armed(), (2, 1));
        assert!(!f.should_fail());
        assert!(f.should_fail());
        assert!(f.should_fail());
        assert!(!f.should_fail());
        assert_eq!(f.hits, 2);
        f.arm("1").unwrap();
        f.arm("0 5").unwrap();
        assert_eq!(f.armed(), (0, 0));
        assert!(!f.should_fail());
    }

    #[test]
    fn msix_values_match_igbvf() {
        // igbvf: TX queue 0 -> vector 0 (byte 1), RX queue 0 -> vector 1
        // (byte 0), IVAR_MISC = 2 | valid, enable mask GENMASK(2, 0).
        assert_eq!(msix::ivar0(), 0x8081);
        assert_eq!(msix::ivar_misc(), 0x82);
        assert_eq!(msix::ALL, 0x7);
        assert_eq!(msix::eitr(50), 200);
        assert_eq!(msix::eitr(u32::MAX), 0x7ffc);
        assert_eq!(msix::bit(msix::MBX), 4);
    }
}
