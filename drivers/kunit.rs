// SPDX-License-Identifier: GPL-2.0-only

//! KUnit suite: the `no_std` core run inside the kernel (kernel `core`,
//! overflow checks, KASAN), against a guest laid out in a byte array the way
//! a virtio driver would lay it out. The cargo tests cover the core in depth;
//! this suite proves the same code behaves the same once built into the module.

use kernel::prelude::*;

use crate::vzc_core::{
    avail_pending, net, vhost::dirty, virtio::split, ChainSummary, DescChain, DescTable,
    Descriptor, Error, GuestMemory, MemRegion, MemTable, QueueSize, Segment, VIRTQ_DESC_F_INDIRECT,
    VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE,
};

/// Guest-physical base of the test guest's only memory region.
const GPA: u64 = 0x10_000;
/// Bytes of guest RAM: a 4-entry descriptor table, a 2-entry indirect table and data.
const RAM: usize = 256;
/// Offsets (from `GPA`) of the rings and buffers.
const DESC_OFF: u64 = 0;
const INDIRECT_OFF: u64 = 64;
const DATA_OFF: u64 = 128;

/// A guest driver's view: RAM plus the memory table the VMM would hand vhost.
struct Guest {
    ram: [u8; RAM],
    regions: [MemRegion; 1],
}

impl Guest {
    fn new() -> Self {
        Self {
            ram: [0; RAM],
            regions: [MemRegion {
                guest_phys_addr: GPA,
                size: RAM as u64,
                // The "userspace address" of the region is the offset into `ram`.
                userspace_addr: 0,
            }],
        }
    }

    fn set_desc(&mut self, table_off: u64, index: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let d = Descriptor {
            addr,
            len,
            flags,
            next,
        };
        let at = (table_off + 16 * u64::from(index)) as usize;
        self.ram[at..at + 16].copy_from_slice(&d.to_le_bytes());
    }

    fn walk(&self, head: u16, out: &mut KVec<Segment>) -> Result<ChainSummary, Error> {
        out.clear();
        DescChain::new(self, self, head).collect_into(out)
    }
}

impl GuestMemory for Guest {
    fn read_obj(&self, gpa: u64, buf: &mut [u8]) -> Result<(), Error> {
        let table = MemTable::new(&self.regions)?;
        let host = table.translate(gpa, buf.len() as u64)?;
        let start = usize::try_from(host.addr()).map_err(|_| Error::Fault)?;
        let src = self.ram.get(start..start + buf.len()).ok_or(Error::Fault)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn check_range(&self, gpa: u64, len: u64, _write: bool) -> Result<(), Error> {
        MemTable::new(&self.regions)?.check_range(gpa, len)
    }
}

impl DescTable for Guest {
    fn size(&self) -> QueueSize {
        // 4 is a valid queue size; `new` cannot fail for it.
        QueueSize::new(4).unwrap_or_else(|_| unreachable!())
    }

    fn read(&self, index: u16) -> Result<Descriptor, Error> {
        let mut raw = [0u8; 16];
        self.read_obj(GPA + DESC_OFF + 16 * u64::from(index), &mut raw)?;
        Ok(Descriptor::from_le_bytes(raw))
    }
}

#[kunit_tests(vhost_zc_core)]
mod tests {
    use super::*;

    #[test]
    fn chain_read_then_write() {
        let mut g = Guest::new();
        g.set_desc(DESC_OFF, 0, GPA + DATA_OFF, 10, VIRTQ_DESC_F_NEXT, 2);
        g.set_desc(DESC_OFF, 2, GPA + DATA_OFF + 16, 20, VIRTQ_DESC_F_WRITE, 0);
        let mut segs = KVec::with_capacity(4, GFP_KERNEL).unwrap();
        let sum = g.walk(0, &mut segs).unwrap();
        assert_eq!(sum.readable, 1);
        assert_eq!(sum.writable, 1);
        assert_eq!(sum.read_bytes, 10);
        assert_eq!(sum.write_bytes, 20);
        assert_eq!(segs[1].gpa(), GPA + DATA_OFF + 16);
        assert!(segs[1].writable());
    }

    #[test]
    fn chain_indirect() {
        let mut g = Guest::new();
        g.set_desc(
            DESC_OFF,
            1,
            GPA + INDIRECT_OFF,
            32,
            VIRTQ_DESC_F_INDIRECT,
            0,
        );
        g.set_desc(INDIRECT_OFF, 0, GPA + DATA_OFF, 12, VIRTQ_DESC_F_NEXT, 1);
        g.set_desc(
            INDIRECT_OFF,
            1,
            GPA + DATA_OFF + 12,
            100,
            VIRTQ_DESC_F_WRITE,
            0,
        );
        let mut segs = KVec::with_capacity(4, GFP_KERNEL).unwrap();
        let sum = g.walk(1, &mut segs).unwrap();
        assert_eq!(sum.count(), 2);
        assert_eq!(sum.write_bytes, 100);
    }

    #[test]
    fn chain_loop_is_an_error() {
        let mut g = Guest::new();
        g.set_desc(DESC_OFF, 0, GPA + DATA_OFF, 8, VIRTQ_DESC_F_NEXT, 1);
        g.set_desc(DESC_OFF, 1, GPA + DATA_OFF, 8, VIRTQ_DESC_F_NEXT, 0);
        let mut segs = KVec::with_capacity(8, GFP_KERNEL).unwrap();
        assert_eq!(g.walk(0, &mut segs), Err(Error::Loop));
    }

    #[test]
    fn chain_hostile_values() {
        let mut g = Guest::new();
        // Next index beyond the 4-entry table.
        g.set_desc(DESC_OFF, 0, GPA + DATA_OFF, 8, VIRTQ_DESC_F_NEXT, 9);
        let mut segs = KVec::with_capacity(4, GFP_KERNEL).unwrap();
        assert_eq!(g.walk(0, &mut segs), Err(Error::IndexOutOfRange));
        // A buffer outside guest memory, and one whose length runs past it.
        g.set_desc(DESC_OFF, 0, 0x4000_0000, 8, 0, 0);
        assert_eq!(g.walk(0, &mut segs), Err(Error::AddressNotMapped));
        g.set_desc(DESC_OFF, 0, GPA + DATA_OFF, u32::MAX, 0, 0);
        assert!(g.walk(0, &mut segs).is_err());
        // The guest moving its avail index by more than the ring size.
        let size = QueueSize::new(4).unwrap();
        assert_eq!(avail_pending(size, 0, 4), Ok(4));
        assert_eq!(avail_pending(size, 0xfffe, 2), Ok(4));
        assert_eq!(avail_pending(size, 0, 5), Err(Error::AvailIdxJump));
    }

    #[test]
    fn notify_and_dirty_log() {
        // Event-idx suppression as the data path uses it.
        let mut n = split::Notifier::default();
        assert!(n.should_signal(true, 0, 100, 1));
        assert!(!n.should_signal(true, 0, 3, 2));
        assert!(n.should_signal(true, 0, 3, 4));
        // A guest write crossing a page boundary logs both pages, and a GPA
        // past guest memory is refused rather than logged out of bounds.
        let mut bits = dirty::log_bits(0x1000, 0x7ff0, 0x20, 1 << 20).unwrap();
        assert_eq!(bits.next().map(|b| (b.addr, b.bit)), Some((0x1000, 7)));
        assert_eq!(bits.next().map(|b| (b.addr, b.bit)), Some((0x1001, 0)));
        assert!(bits.next().is_none());
        assert!(dirty::log_bits(0x1000, 1 << 20, 1, 1 << 20).is_none());
    }

    #[test]
    fn mergeable_rx_plan() {
        let sizes = [1000u32, 1000];
        let mut i = 0usize;
        let plan = net::plan_rx(1500, net::UIO_MAXIOV, || {
            let c = sizes.get(i).map(|&w| net::RxChain {
                head: i as u16,
                readable: 0,
                write_bytes: w,
            });
            i += 1;
            c
        });
        assert_eq!(
            plan,
            net::RxPlan::Ready {
                heads: 2,
                last_len: 500
            }
        );
    }
}
