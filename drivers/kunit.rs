// SPDX-License-Identifier: GPL-2.0-only

//! KUnit suite: the `no_std` core run inside the kernel (kernel `core`,
//! overflow checks, KASAN), against the core's guest-driver mock
//! (`vzc_core::mock::MockSplitQueue`: rings laid out in a byte array the way
//! a virtio driver would lay them out). The cargo tests cover the core in depth;
//! this suite proves the same code behaves the same once built into the module.

use kernel::prelude::*;

use crate::vzc_core::{
    avail_pending,
    mock::MockSplitQueue,
    net,
    vhost::dirty,
    virtio::{
        queue::{QueueError, QueueState, SplitQueue},
        split,
    },
    ChainSummary, DescChain, Descriptor, Error, MemRegion, MemTable, QueueSize, Segment,
    VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE,
};

/// Guest-physical base of the test guest's memory.
const GPA: u64 = 0x10_000;

/// Memory for a mock queue of `size` entries.
fn mock_mem(size: u16) -> KVec<u8> {
    KVec::from_elem(0u8, MockSplitQueue::mem_size(size), GFP_KERNEL).unwrap()
}

/// Stores a descriptor of the queue's table.
fn set_desc(g: &MockSplitQueue<'_>, index: u16, addr: u64, len: u32, flags: u16, next: u16) {
    g.set_desc(
        index,
        Descriptor {
            addr,
            len,
            flags,
            next,
        },
    );
}

/// Stores entry `index` of an indirect table at `table`.
fn set_indirect(
    g: &MockSplitQueue<'_>,
    table: u64,
    index: u16,
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
) {
    let d = Descriptor {
        addr,
        len,
        flags,
        next,
    };
    g.write(table + 16 * u64::from(index), &d.to_le_bytes());
}

/// Walks the chain at `head` into `out` (emptied first).
fn walk(g: &MockSplitQueue<'_>, head: u16, out: &mut KVec<Segment>) -> Result<ChainSummary, Error> {
    out.clear();
    DescChain::new(g, g, head).collect_into(out)
}

#[kunit_tests(vhost_zc_core)]
mod tests {
    use super::*;

    #[test]
    fn chain_read_then_write() {
        let mut mem = mock_mem(4);
        let g = MockSplitQueue::new(&mut mem, GPA, 4);
        let data = g.buf_addr(0);
        set_desc(&g, 0, data, 10, VIRTQ_DESC_F_NEXT, 2);
        set_desc(&g, 2, data + 16, 20, VIRTQ_DESC_F_WRITE, 0);
        let mut segs = KVec::with_capacity(4, GFP_KERNEL).unwrap();
        let sum = walk(&g, 0, &mut segs).unwrap();
        assert_eq!(sum.readable, 1);
        assert_eq!(sum.writable, 1);
        assert_eq!(sum.read_bytes, 10);
        assert_eq!(sum.write_bytes, 20);
        assert_eq!(segs[1].gpa(), data + 16);
        assert!(segs[1].writable());
    }

    #[test]
    fn chain_indirect() {
        let mut mem = mock_mem(4);
        let g = MockSplitQueue::new(&mut mem, GPA, 4);
        let (data, table) = (g.buf_addr(0), g.buf_addr(3));
        set_desc(&g, 1, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        set_indirect(&g, table, 0, data, 12, VIRTQ_DESC_F_NEXT, 1);
        set_indirect(&g, table, 1, data + 12, 100, VIRTQ_DESC_F_WRITE, 0);
        let mut segs = KVec::with_capacity(4, GFP_KERNEL).unwrap();
        let sum = walk(&g, 1, &mut segs).unwrap();
        assert_eq!(sum.count(), 2);
        assert_eq!(sum.write_bytes, 100);
    }

    #[test]
    fn chain_loop_is_an_error() {
        let mut mem = mock_mem(4);
        let g = MockSplitQueue::new(&mut mem, GPA, 4);
        let data = g.buf_addr(0);
        set_desc(&g, 0, data, 8, VIRTQ_DESC_F_NEXT, 1);
        set_desc(&g, 1, data, 8, VIRTQ_DESC_F_NEXT, 0);
        let mut segs = KVec::with_capacity(8, GFP_KERNEL).unwrap();
        assert_eq!(walk(&g, 0, &mut segs), Err(Error::Loop));
    }

    #[test]
    fn chain_hostile_values() {
        let mut mem = mock_mem(4);
        let g = MockSplitQueue::new(&mut mem, GPA, 4);
        let data = g.buf_addr(0);
        // Next index beyond the 4-entry table.
        set_desc(&g, 0, data, 8, VIRTQ_DESC_F_NEXT, 9);
        let mut segs = KVec::with_capacity(4, GFP_KERNEL).unwrap();
        assert_eq!(walk(&g, 0, &mut segs), Err(Error::IndexOutOfRange));
        // A buffer outside guest memory, and one whose length runs past it.
        set_desc(&g, 0, 0x4000_0000, 8, 0, 0);
        assert_eq!(walk(&g, 0, &mut segs), Err(Error::AddressNotMapped));
        set_desc(&g, 0, data, u32::MAX, 0, 0);
        assert!(walk(&g, 0, &mut segs).is_err());
        // The guest moving its avail index by more than the ring size.
        let size = QueueSize::new(4).unwrap();
        assert_eq!(avail_pending(size, 0, 4), Ok(4));
        assert_eq!(avail_pending(size, 0xfffe, 2), Ok(4));
        assert_eq!(avail_pending(size, 0, 5), Err(Error::AvailIdxJump));
    }

    #[test]
    fn memory_table_translation() {
        let regions = [MemRegion {
            guest_phys_addr: GPA,
            size: 0x1000,
            userspace_addr: 0x7f00_0000,
        }];
        let table = MemTable::new(&regions).unwrap();
        let host = table.translate(GPA + 0x10, 0x20).unwrap();
        assert_eq!((host.addr(), host.len()), (0x7f00_0010, 0x20));
        assert_eq!(
            table.translate(GPA + 0xff0, 0x20).map(|h| h.addr()),
            Err(Error::AddressNotMapped)
        );
        assert_eq!(table.check_range(GPA - 1, 1), Err(Error::AddressNotMapped));
    }

    #[test]
    fn engine_out_of_order_batch_across_the_wrap() {
        let mut mem = mock_mem(8);
        let mut g = MockSplitQueue::new(&mut mem, GPA, 8);
        g.start_at(65534);
        let mut q = SplitQueue::new(g.size(), true, QueueState::at(65534, 65534));
        let mut heads = [0u16; 4];
        for h in heads.iter_mut() {
            *h = g.add_chain(&[(64, true)]);
        }
        g.kick();
        assert_eq!(q.pending(&g), Ok(4));
        for &h in &heads {
            assert_eq!(q.pop_head(&g), Ok(Some(h)));
        }
        // Give the last two back and take them again.
        q.discard(2).unwrap();
        assert_eq!(q.pop_head(&g), Ok(Some(heads[2])));
        assert_eq!(q.pop_head(&g), Ok(Some(heads[3])));
        assert_eq!(q.enable_notify(&g), Ok(false));
        assert_eq!(g.avail_event(), 2);
        // Out of avail order, in one used-index update across the wrap.
        g.set_used_event(65535);
        let done = [(heads[3], 4), (heads[0], 1), (heads[2], 3), (heads[1], 2)];
        q.add_used_n(&g, &done).unwrap();
        assert_eq!(g.used_idx(), 65534);
        assert_eq!(q.publish(&g), Ok(true));
        assert_eq!(g.used_idx(), 2);
        for &e in &done {
            assert_eq!(g.pop_used(), Some(e));
        }
        assert_eq!(g.pop_used(), None);
        let (written, logged) = g.used_bytes();
        assert_eq!(written, logged);
        // A hostile guest: an avail jump and a head past the table.
        g.set_avail_idx(11);
        assert_eq!(q.pending(&g), Err(QueueError::AvailJump));
        g.set_avail_entry(2, 8);
        g.set_avail_idx(3);
        assert_eq!(q.pending(&g), Ok(1));
        assert_eq!(q.pop_head(&g), Err(QueueError::BadHead(8)));
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
