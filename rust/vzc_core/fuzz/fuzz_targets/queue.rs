// SPDX-License-Identifier: GPL-2.0-only
//! The split-ring engine (`SplitQueue`) against a hostile guest that
//! rewrites its avail index, avail entries, flags and `used_event` between
//! any two device steps, with ring accesses that may fail.
//!
//! Asserts, after every step, agreement with a naive model of the device
//! state (last_avail, last_used, avail_seen): `AvailJump` exactly when the
//! guest moved its index by more than the ring size, `BadHead` exactly for
//! heads not below the size, and neither changes the state; `discard`
//! never rewinds past the used position; used elements and the used index
//! land where the guest reads them; every access is inside its ring
//! (the event fields only with EVENT_IDX); and no wake-up is lost: with
//! EVENT_IDX a publish signals iff the used index passed `used_event` since
//! the previous publish (checked index by index), without it iff the guest
//! did not set NO_INTERRUPT.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::cell::{Cell, RefCell};
use vzc_core::virtio::desc::QueueSize;
use vzc_core::virtio::queue::{QueueError, QueueState, RingIo, SplitQueue};
use vzc_core::virtio::split::{avail, used, VRING_AVAIL_F_NO_INTERRUPT};

#[derive(Arbitrary, Debug)]
enum Op {
    GuestAvailIdx(u16),
    GuestEntry(u16, u16),
    GuestFlags(u16),
    GuestUsedEvent(u16),
    FailIn(u8),
    Pending,
    Pop,
    Take(u16),
    Discard(u16),
    EnableNotify,
    AddUsed(u16, u32),
    Publish,
}

#[derive(Arbitrary, Debug)]
struct Input {
    size_log2: u8,
    event_idx: bool,
    base: u16,
    used: u16,
    ops: Vec<Op>,
}

struct Io {
    avail: RefCell<Vec<u8>>,
    used: RefCell<Vec<u8>>,
    fail_in: Cell<Option<u8>>,
}

impl Io {
    fn fail(&self) -> Result<(), ()> {
        match self.fail_in.get() {
            Some(0) => {
                self.fail_in.set(None);
                Err(())
            }
            Some(n) => {
                self.fail_in.set(Some(n - 1));
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn avail_u16(&self, off: u64) -> u16 {
        let a = self.avail.borrow();
        u16::from_le_bytes([a[off as usize], a[off as usize + 1]])
    }

    fn used_u16(&self, off: u64) -> u16 {
        let u = self.used.borrow();
        u16::from_le_bytes([u[off as usize], u[off as usize + 1]])
    }

    fn set_avail_u16(&self, off: u64, v: u16) {
        self.avail.borrow_mut()[off as usize..off as usize + 2].copy_from_slice(&v.to_le_bytes());
    }
}

impl RingIo for Io {
    type Error = ();

    fn read_avail_u16(&self, off: u64) -> Result<u16, ()> {
        assert!(
            off.is_multiple_of(2) && (off + 2) as usize <= self.avail.borrow().len(),
            "avail read at {off}"
        );
        self.fail()?;
        Ok(self.avail_u16(off))
    }

    fn write_used_u16(&self, off: u64, v: u16) -> Result<(), ()> {
        assert!(
            off.is_multiple_of(2) && (off + 2) as usize <= self.used.borrow().len(),
            "used write at {off}"
        );
        self.fail()?;
        self.used.borrow_mut()[off as usize..off as usize + 2].copy_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn write_used_elem(&self, off: u64, id: u16, len: u32) -> Result<(), ()> {
        assert!(
            (off + 4).is_multiple_of(8) && (off + 8) as usize <= self.used.borrow().len(),
            "used elem at {off}"
        );
        self.fail()?;
        let mut u = self.used.borrow_mut();
        u[off as usize..off as usize + 4].copy_from_slice(&u32::from(id).to_le_bytes());
        u[off as usize + 4..off as usize + 8].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    fn log_used(&self, off: u64, len: u64) -> Result<(), ()> {
        assert!((off + len) as usize <= self.used.borrow().len());
        self.fail()
    }
}

fuzz_target!(|inp: Input| {
    let size = QueueSize::new(1 << (inp.size_log2 % 16)).unwrap();
    let n = size.get();
    let ev = inp.event_idx;
    let io = Io {
        avail: RefCell::new(vec![0; size.avail_ring_size(ev) as usize]),
        used: RefCell::new(vec![0; size.used_ring_size(ev) as usize]),
        fail_in: Cell::new(None),
    };
    let mut q = SplitQueue::new(size, ev, QueueState::at(inp.base, inp.used));
    // The model.
    let (mut last_avail, mut last_used, mut seen) = (inp.base, inp.used, inp.base);
    let mut signalled: Option<u16> = None;
    for op in inp.ops.iter().take(256) {
        let before = q.state();
        let ok = match *op {
            Op::GuestAvailIdx(v) => {
                io.set_avail_u16(avail::IDX, v);
                true
            }
            Op::GuestEntry(pos, head) => {
                io.set_avail_u16(avail::ring(size.slot(pos)), head);
                true
            }
            Op::GuestFlags(f) => {
                io.set_avail_u16(avail::FLAGS, f);
                true
            }
            Op::GuestUsedEvent(e) => {
                if ev {
                    io.set_avail_u16(avail::used_event(size), e);
                }
                true
            }
            Op::FailIn(k) => {
                io.fail_in.set(Some(k % 8));
                true
            }
            Op::Pending => {
                let a = io.avail_u16(avail::IDX);
                match q.pending(&io) {
                    Ok(d) => {
                        assert_eq!(d, a.wrapping_sub(last_avail));
                        assert!(d <= n);
                        seen = a;
                        true
                    }
                    Err(QueueError::AvailJump) => {
                        assert!(a.wrapping_sub(last_avail) > n);
                        assert_eq!(q.state(), before);
                        true
                    }
                    Err(e) => {
                        assert_eq!(e, QueueError::Io(()));
                        false
                    }
                }
            }
            Op::Pop => {
                let h = io.avail_u16(avail::ring(size.slot(last_avail)));
                match q.pop_head(&io) {
                    Ok(None) => last_avail == seen,
                    Ok(Some(got)) => {
                        assert!(last_avail != seen && got == h && h < n);
                        last_avail = last_avail.wrapping_add(1);
                        true
                    }
                    Err(QueueError::BadHead(b)) => {
                        assert!(b == h && h >= n && q.state() == before);
                        true
                    }
                    Err(e) => {
                        assert_eq!(e, QueueError::Io(()));
                        false
                    }
                }
            }
            Op::Take(k) => {
                // The caller takes only what it saw.
                let k = (u32::from(k) % (u32::from(seen.wrapping_sub(last_avail)) + 1)) as u16;
                q.take(k);
                last_avail = last_avail.wrapping_add(k);
                true
            }
            Op::Discard(k) => {
                let in_flight = last_avail.wrapping_sub(last_used);
                match q.discard(k) {
                    Ok(()) => {
                        assert!(k <= in_flight);
                        last_avail = last_avail.wrapping_sub(k);
                    }
                    Err(_) => assert!(k > in_flight && q.state() == before),
                }
                true
            }
            Op::EnableNotify => {
                let a = io.avail_u16(avail::IDX);
                let was = seen;
                match q.enable_notify(&io) {
                    Ok(again) => {
                        if ev {
                            assert_eq!(io.used_u16(used::avail_event(size)), was);
                        }
                        assert!(a.wrapping_sub(last_avail) <= n);
                        seen = a;
                        assert_eq!(again, a != was);
                        true
                    }
                    Err(QueueError::AvailJump) => {
                        assert!(a.wrapping_sub(last_avail) > n);
                        true
                    }
                    Err(_) => false,
                }
            }
            Op::AddUsed(id, len) => match q.add_used(&io, id, len) {
                Ok(()) => {
                    let off = used::ring(size.slot(last_used)) as usize;
                    let u = io.used.borrow();
                    assert_eq!(&u[off..off + 4], &u32::from(id).to_le_bytes());
                    assert_eq!(&u[off + 4..off + 8], &len.to_le_bytes());
                    last_used = last_used.wrapping_add(1);
                    true
                }
                Err(_) => false,
            },
            Op::Publish => {
                let flags = io.avail_u16(avail::FLAGS);
                let event = if ev {
                    io.avail_u16(avail::used_event(size))
                } else {
                    0
                };
                match q.publish(&io) {
                    Ok(sig) => {
                        assert_eq!(io.used_u16(used::IDX), last_used);
                        let want = if !ev {
                            flags & VRING_AVAIL_F_NO_INTERRUPT == 0
                        } else {
                            // Did the index pass `event` since the last decision?
                            signalled.is_none_or(|old| {
                                (1..=last_used.wrapping_sub(old))
                                    .any(|k| old.wrapping_add(k) == event.wrapping_add(1))
                            })
                        };
                        assert_eq!(sig, want, "signal decision (flags {flags:#x} event {event} used {last_used} prev {signalled:?})");
                        if ev {
                            signalled = Some(last_used);
                        }
                        true
                    }
                    Err(_) => false,
                }
            }
        };
        if !ok {
            // An access failed midway: the model follows the engine, and the
            // notifier's memory is unknown from here.
            let s = q.state();
            (last_avail, last_used, seen) = (s.last_avail_idx, s.last_used_idx, s.avail_seen);
            signalled = None;
            if ev {
                return;
            }
        }
        let s = q.state();
        assert_eq!(
            (s.last_avail_idx, s.last_used_idx, s.avail_seen),
            (last_avail, last_used, seen),
            "after {op:?}"
        );
        assert_eq!(q.in_flight(), last_avail.wrapping_sub(last_used));
    }
});
