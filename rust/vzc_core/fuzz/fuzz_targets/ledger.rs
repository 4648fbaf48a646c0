// SPDX-License-Identifier: GPL-2.0-only
//! Zero-copy reclaim bookkeeping driven by a careless or hostile caller:
//! the `Ledger` of heads out of the avail ring gets any sequence of takes
//! (including heads out of range and heads still out, as a broken guest
//! offers them), used entries in any order (including heads not out),
//! give-backs of any count, ring wrap-arounds and stops; the `VfSlots`
//! shadow of the VF ring gets posts, completions, lookups and drains over
//! storage of any length, pre-filled with stale buffers.
//!
//! Asserts against naive models (maps of head -> take position, a FIFO):
//! every result and error variant, `out()` and `is_out()`; a stop plan
//! rewinds exactly the longest run of newest takes still out and publishes
//! exactly the other heads out, each once, in head order, so every head
//! taken ends exactly once (used, given back, rewound or discarded) and
//! nothing is out after `finish`; `VfSlots` refuses short storage, posts at consecutive ring
//! indices, completes in FIFO order, keeps `posted() + room()` = ring - 1,
//! never holds more, and drains oldest first back to index 0.

#![no_main]

use std::collections::{BTreeMap, VecDeque};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::vf::ring::RingSize;
use vzc_core::vhost::abi::VIRTIO_F_VERSION_1;
use vzc_core::zc::bsize::BufSize;
use vzc_core::zc::contain::{PinnedPages, PostedBuf, RxLayout};
use vzc_core::zc::reclaim::{Entry, Ledger, LedgerError, StopPlan};
use vzc_core::zc::slots::{ShortStorage, VfSlots};
use vzc_core::{DescChain, DescTable, Descriptor, Error, GuestMemory, MemRegion, MemTable};
use vzc_core::{QueueSize, Segment, VIRTQ_DESC_F_WRITE};

#[derive(Arbitrary, Debug)]
enum Op {
    Take(u8),
    Used(u8),
    GiveBack(u8),
    /// Take a free head and use it at once, `n` times: positions wrap.
    Cycle(u8),
    Stop,
    Post(u8),
    Complete(u8),
    Get(u8),
    Drain,
}

#[derive(Arbitrary, Debug)]
struct Input {
    queue: u8,
    ring: u8,
    /// Slot storage: the ring plus `extra`, or, if `short`, `extra` mod ring.
    short: bool,
    extra: u8,
    ops: Vec<Op>,
}

const GPA: u64 = 0x10_0000;

/// One writable 1536-byte buffer at `GPA`: the chain every `PostedBuf` uses.
struct OneDesc;

impl DescTable for OneDesc {
    fn size(&self) -> QueueSize {
        QueueSize::new(1).unwrap()
    }
    fn read(&self, _: u16) -> Result<Descriptor, Error> {
        Ok(Descriptor {
            addr: GPA,
            len: 1536,
            flags: VIRTQ_DESC_F_WRITE,
            next: 0,
        })
    }
}

struct Mem<'a>(MemTable<'a>);

impl GuestMemory for Mem<'_> {
    fn read_obj(&self, _: u64, _: &mut [u8]) -> Result<(), Error> {
        Err(Error::Fault)
    }
    fn check_range(&self, gpa: u64, len: u64, _: bool) -> Result<(), Error> {
        self.0.check_range(gpa, len)
    }
}

/// Every host page pinned at its own address.
struct Identity;

impl PinnedPages for Identity {
    fn page_dma(&self, page: u64) -> Option<u64> {
        Some(page)
    }
}

/// The ledger's reference: the takes so far, and which head is out since
/// which take (both ways).
#[derive(Default)]
struct Model {
    taken: u64,
    out: BTreeMap<u16, u64>,
    by_seq: BTreeMap<u64, u16>,
}

impl Model {
    fn take(&mut self, q: u16, h: u16) -> Result<(), LedgerError> {
        if h >= q {
            return Err(LedgerError::BadHead);
        }
        if self.out.contains_key(&h) {
            return Err(LedgerError::Twice);
        }
        self.out.insert(h, self.taken);
        self.by_seq.insert(self.taken, h);
        self.taken += 1;
        Ok(())
    }
    /// `h` ends (used, given back, rewound or discarded): it must be out.
    fn end(&mut self, h: u16) {
        let seq = self.out.remove(&h).expect("a head not out (or twice) ends");
        self.by_seq.remove(&seq);
    }
    fn used(&mut self, q: u16, h: u16) -> Result<(), LedgerError> {
        match (h < q, self.out.contains_key(&h)) {
            (false, _) => Err(LedgerError::BadHead),
            (true, false) => Err(LedgerError::NotOut),
            (true, true) => {
                self.end(h);
                Ok(())
            }
        }
    }
    /// The heads taken at the newest `n` positions, if all still out.
    fn newest(&self, n: u64) -> Option<Vec<u16>> {
        (1..=n)
            .map(|b| self.by_seq.get(&self.taken.checked_sub(b)?).copied())
            .collect()
    }
}

fuzz_target!(|inp: Input| {
    let q = u16::from(inp.queue % 65);
    let head = |x: u8| {
        if x == 255 {
            u16::MAX
        } else {
            u16::from(x) % (q + 2)
        }
    };
    let mut l = Ledger::new(vec![Entry::default(); usize::from(q)]);
    let mut m = Model::default();

    let n = 8 * (u16::from(inp.ring % 8) + 1);
    let ring = RingSize::new(n).unwrap();
    let region = [MemRegion {
        guest_phys_addr: GPA,
        size: 0x1_0000,
        userspace_addr: 0x7000_0000,
    }];
    let table = MemTable::new(&region).unwrap();
    let segs: Vec<Segment> = DescChain::new(&OneDesc, &Mem(table), 0)
        .collect::<Result<_, _>>()
        .unwrap();
    let layout = RxLayout::from_features(1 << VIRTIO_F_VERSION_1);
    let bs = BufSize::from_kib(1).unwrap();
    let buf = |h: u16| PostedBuf::new(h, &segs, layout, bs, &table, &Identity).unwrap();
    let len = if inp.short {
        usize::from(inp.extra) % usize::from(n)
    } else {
        usize::from(n) + usize::from(inp.extra % 8)
    };
    let slots = VfSlots::new(vec![Some(buf(u16::MAX)); len], ring);
    if inp.short {
        return assert_eq!(slots.map(|_| ()).unwrap_err(), ShortStorage);
    }
    let mut s = slots.unwrap();
    assert!((0..n).all(|i| s.get(i).is_none()), "new clears the storage");
    let (mut fifo, mut ntu, mut ntc, mut next) = (VecDeque::new(), 0u16, 0u16, 0u16);

    for op in inp.ops.iter().take(256) {
        match *op {
            Op::Take(x) => assert_eq!(l.take(head(x)), m.take(q, head(x)), "take {}", head(x)),
            Op::Used(x) => assert_eq!(l.used(head(x)), m.used(q, head(x)), "used {}", head(x)),
            Op::GiveBack(k) => {
                let k = u16::from(k % 8);
                let want = m
                    .newest(u64::from(k))
                    .filter(|_| usize::from(k) <= m.out.len());
                let got = l.give_back(k);
                assert_eq!(
                    got,
                    want.as_ref().map(|_| ()).ok_or(LedgerError::NotNewest),
                    "give_back {k}"
                );
                for h in want.unwrap_or_default() {
                    m.end(h);
                    m.taken -= 1;
                }
            }
            Op::Cycle(k) => {
                for _ in 0..k {
                    let Some(h) = (0..q).find(|h| !m.out.contains_key(h)) else {
                        break;
                    };
                    assert_eq!((l.take(h), m.take(q, h)), (Ok(()), Ok(())));
                    assert_eq!((l.used(h), m.used(q, h)), (Ok(()), Ok(())));
                }
            }
            Op::Stop => {
                let plan = l.stop_plan();
                let out = m.out.len() as u64;
                let rewind = (0..=out)
                    .rev()
                    .find(|&k| m.newest(k).is_some())
                    .unwrap_or(0);
                let rewound = m.newest(rewind).unwrap_or_default();
                let want = StopPlan {
                    rewind: rewind as u16,
                    discard: (out - rewind) as u16,
                };
                assert_eq!(plan, want);
                let discards: Vec<u16> = l.discards(plan).collect();
                let expect: Vec<u16> = m
                    .out
                    .keys()
                    .filter(|h| !rewound.contains(h))
                    .copied()
                    .collect();
                assert_eq!(
                    discards, expect,
                    "discards: every other head out, once, in head order"
                );
                for h in rewound.iter().chain(&discards) {
                    m.end(*h);
                }
                assert!(m.out.is_empty(), "a head out neither rewound nor discarded");
                l.finish(plan);
                m.taken -= rewind;
            }
            Op::Post(k) => {
                for _ in 0..k % 16 {
                    let b = buf(next);
                    let r = s.post(b);
                    if fifo.len() == usize::from(n) - 1 {
                        assert_eq!(r, Err(b), "a full ring gives the buffer back");
                        break;
                    }
                    assert_eq!(r, Ok(ntu));
                    fifo.push_back((ntu, next));
                    (ntu, next) = ((ntu + 1) % n, next.wrapping_add(1));
                }
            }
            Op::Complete(k) => {
                for _ in 0..k % 16 {
                    let got = s.complete().map(|(i, b)| (i, b.head()));
                    assert_eq!(got, fifo.pop_front(), "FIFO order");
                    if got.is_none() {
                        break;
                    }
                    ntc = (ntc + 1) % n;
                }
            }
            Op::Get(i) => {
                let want = fifo.iter().find(|e| e.0 == u16::from(i)).map(|e| e.1);
                assert_eq!(s.get(u16::from(i)).map(PostedBuf::head), want);
            }
            Op::Drain => {
                let got: Vec<u16> = s.drain().map(|b| b.head()).collect();
                let want: Vec<u16> = fifo.drain(..).map(|e| e.1).collect();
                assert_eq!(got, want, "drain: oldest first");
                (ntu, ntc) = (0, 0);
            }
        }
        assert_eq!(usize::from(l.out()), m.out.len());
        assert!((0..=q + 1).all(|h| l.is_out(h) == m.out.contains_key(&h)));
        assert_eq!(usize::from(s.posted()), fifo.len());
        assert_eq!(s.posted() + s.room(), n - 1);
        assert_eq!((s.next_to_use(), s.next_to_clean()), (ntu, ntc));
    }
});
