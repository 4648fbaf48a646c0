// SPDX-License-Identifier: GPL-2.0-only
//! One RX queue, three actors: the guest driver (offers buffers, takes used
//! entries), the device (writes frames), and the host (vhost-zc's work, from
//! the core's own code). Only the host functions are measured: callgrind
//! collects inside the `measured_*` wrappers alone (`--toggle-collect`), and
//! the native timer brackets the same calls.
//!
//! Guest layout: Linux mergeable buffers of [`BUF_LEN`] bytes by default
//! (what a Linux guest settles at for MTU 1500: GOOD_PACKET_LEN + header,
//! cache aligned; `--buf-len` for others, e.g. 4096 as under bulk TCP),
//! one descriptor per chain, none crossing a 4 KiB page, a 256-entry
//! queue. All guest RAM is one memory region, pinned and device-contiguous
//! (an IOMMU, or huge pages), so every buffer can be posted.

use std::cell::Cell;

use vzc_core::net::{plan_rx, RxChain, RxPlan, HDR_MRG_LEN, NUM_BUFFERS_OFF, UIO_MAXIOV};
use vzc_core::vf::ring::{
    rx_read_desc, RingSize, RxWriteback, RXD_STAT_DD, RXD_STAT_EOP, RXD_STAT_IPCS, RXD_STAT_TCPCS,
};
use vzc_core::vhost::abi::{VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF};
use vzc_core::virtio::queue::{QueueState, RingIo, SplitQueue};
use vzc_core::virtio::split::{avail, used};
use vzc_core::zc::bsize::{choose, BufSize};
use vzc_core::zc::contain::{frame_room, PinnedPages, PostedBuf, RxLayout, PAGE};
use vzc_core::zc::place::{place, Pieces};
use vzc_core::zc::reclaim::{Entry, Ledger};
use vzc_core::zc::slots::VfSlots;
use vzc_core::{
    DescChain, DescTable, Descriptor, Error, GuestMemory, MemRegion, MemTable, QueueSize, Segment,
    SegmentSink, SinkFull, VIRTQ_DESC_F_WRITE,
};

/// Virtio queue size (QEMU's default RX queue size).
pub const QSZ: u16 = 256;
/// Bytes per guest buffer by default (Linux mergeable, MTU 1500).
pub const BUF_LEN: u32 = 1536;
/// VF RX ring descriptors.
const VF_RING: u16 = 256;
const DATA_GPA: u64 = 0x10_0000;
const HVA: u64 = 0x7f00_0000_0000;
/// Largest frame measured.
pub const MAX_FRAME: usize = 65536;
/// Virtio-net header bytes (VERSION_1 + MRG_RXBUF).
const HDR: u32 = HDR_MRG_LEN as u32;

/// Which host path is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Device -> host buffer, CPU copies into the guest's buffers.
    Copy,
    /// Device -> guest buffers; the CPU writes header, tail, used entries.
    Zc,
}

impl Path {
    /// Its name in tables and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Path::Copy => "copy",
            Path::Zc => "zc",
        }
    }

    /// From [`name`](Self::name).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "copy" => Some(Path::Copy),
            "zc" => Some(Path::Zc),
            _ => None,
        }
    }
}

/// The guest's rings as the host accesses them: the descriptor table, the
/// avail ring and the used ring, each as 16-bit words (ONE load or store per
/// index, as the kernel's `get_user`/`put_user`).
pub struct Rings {
    desc: Vec<Cell<Descriptor>>,
    avail: Vec<Cell<u16>>,
    used: Vec<Cell<u16>>,
}

/// A ring access outside the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRing;

fn word(ring: &[Cell<u16>], off: u64) -> Result<&Cell<u16>, OutOfRing> {
    if !off.is_multiple_of(2) {
        return Err(OutOfRing);
    }
    ring.get(usize::try_from(off / 2).map_err(|_| OutOfRing)?)
        .ok_or(OutOfRing)
}

impl RingIo for Rings {
    type Error = OutOfRing;

    fn read_avail_u16(&self, off: u64) -> Result<u16, OutOfRing> {
        Ok(word(&self.avail, off)?.get())
    }

    fn write_used_u16(&self, off: u64, v: u16) -> Result<(), OutOfRing> {
        word(&self.used, off)?.set(v);
        Ok(())
    }

    fn write_used_elem(&self, off: u64, id: u16, len: u32) -> Result<(), OutOfRing> {
        word(&self.used, off)?.set(id);
        word(&self.used, off + 2)?.set(0);
        word(&self.used, off + 4)?.set(len as u16);
        word(&self.used, off + 6)?.set((len >> 16) as u16);
        Ok(())
    }

    fn log_used(&self, _off: u64, _len: u64) -> Result<(), OutOfRing> {
        // No dirty log (no migration): the kernel's check is one branch.
        Ok(())
    }
}

impl DescTable for Rings {
    fn size(&self) -> QueueSize {
        QueueSize::new(u32::from(QSZ)).expect("valid constant")
    }

    fn read(&self, index: u16) -> Result<Descriptor, Error> {
        self.desc
            .get(usize::from(index))
            .map(Cell::get)
            .ok_or(Error::Fault)
    }
}

/// Guest memory for the chain walker: the memory table's range checks (no
/// indirect tables in this layout).
struct TableMem<'a>(&'a MemTable<'a>);

impl GuestMemory for TableMem<'_> {
    fn read_obj(&self, _gpa: u64, _buf: &mut [u8]) -> Result<(), Error> {
        Err(Error::Fault)
    }

    fn check_range(&self, gpa: u64, len: u64, _write: bool) -> Result<(), Error> {
        self.0.check_range(gpa, len)
    }
}

/// The pinned pages: a table indexed by host page, as the glue keeps one.
struct Pins {
    dma: Vec<u64>,
}

impl PinnedPages for Pins {
    fn page_dma(&self, hva_page: u64) -> Option<u64> {
        let i = usize::try_from(hva_page.checked_sub(HVA)? / PAGE).ok()?;
        self.dma.get(i).copied()
    }
}

/// A chain's segments, in a fixed array (the kernel's preallocated list).
struct Segs {
    segs: Vec<Segment>,
}

impl SegmentSink for Segs {
    fn push_segment(&mut self, seg: Segment) -> Result<(), SinkFull> {
        if self.segs.len() == self.segs.capacity() {
            return Err(SinkFull);
        }
        self.segs.push(seg);
        Ok(())
    }
}

/// Why a host step failed (never, with this well-behaved guest).
#[derive(Debug)]
// The fields are for the Debug output of a failed run.
#[allow(dead_code)]
pub enum HostError {
    /// The ring engine refused the ring.
    Queue,
    /// A chain or a translation failed.
    Chain(Error),
    /// The RX plan did not say Ready.
    Plan(RxPlan),
    /// A buffer could not be posted or a frame not placed.
    Zc(&'static str),
}

/// The whole simulated system for one (path, frame size).
pub struct Bench {
    /// The memory table, validated once (SET_MEM_TABLE), as the kernel
    /// keeps it; the regions live as long as the process.
    table: MemTable<'static>,
    rings: Rings,
    /// Guest RAM (the one region's bytes).
    ram: Vec<u8>,
    pins: Pins,
    // The guest driver's state.
    g_avail: u16,
    g_used: u16,
    // The host's state.
    q: SplitQueue,
    segs: Segs,
    heads: Vec<(u16, u32)>,
    // Zero-copy only.
    layout: RxLayout,
    bsize: BufSize,
    slots: VfSlots<Vec<Option<PostedBuf>>>,
    ledger: Ledger<Vec<Entry>>,
    /// The VF's RX descriptor ring (read format in, write-back out).
    vf_ring: Vec<[u64; 2]>,
    vf_tail: u16,
    // The device's state.
    dev_next: u16,
    /// The device's receive buffer for the copy path (the skb).
    skb: Vec<u8>,
    frame: Vec<u8>,
    /// Packets the guest received, and bytes (a sanity check).
    pub rx_packets: u64,
    /// Tail bytes the last zero-copy frame moved.
    pub tail_bytes: u32,
    buf_len: u32,
}

impl Bench {
    /// A fresh system receiving frames of `frame_len` bytes into guest
    /// buffers of `buf_len` bytes (at most 4096).
    pub fn new(frame_len: usize, buf_len: u32) -> Self {
        // Distance between buffers: none crosses a 4 KiB page.
        let stride = u64::from(buf_len.next_power_of_two());
        let ram_len = stride * u64::from(QSZ);
        let regions: &'static [MemRegion] = Box::leak(Box::new([MemRegion {
            guest_phys_addr: DATA_GPA,
            size: ram_len,
            userspace_addr: HVA,
        }]));
        let table = MemTable::new(regions).expect("valid constant");
        let desc = (0..QSZ)
            .map(|i| {
                Cell::new(Descriptor {
                    addr: DATA_GPA + stride * u64::from(i),
                    len: buf_len,
                    flags: VIRTQ_DESC_F_WRITE,
                    next: 0,
                })
            })
            .collect();
        let q = usize::from(QSZ);
        let rings = Rings {
            desc,
            avail: (0..(3 + q)).map(|_| Cell::new(0)).collect(),
            used: (0..(3 + 4 * q)).map(|_| Cell::new(0)).collect(),
        };
        let pins = Pins {
            dma: (0..ram_len / PAGE).map(|p| HVA + p * PAGE).collect(),
        };
        let layout =
            RxLayout::from_features((1 << VIRTIO_F_VERSION_1) | (1 << VIRTIO_NET_F_MRG_RXBUF));
        let ring = RingSize::new(VF_RING).expect("valid constant");
        let frame: Vec<u8> = (0..frame_len).map(|i| (i * 7 + 1) as u8).collect();
        let mut b = Bench {
            table,
            rings,
            ram: vec![0; ram_len as usize],
            pins,
            g_avail: 0,
            g_used: 0,
            q: SplitQueue::new(
                QueueSize::new(u32::from(QSZ)).expect("valid constant"),
                true,
                QueueState::at(0, 0),
            ),
            segs: Segs {
                segs: Vec::with_capacity(UIO_MAXIOV),
            },
            heads: Vec::with_capacity(UIO_MAXIOV),
            layout,
            // Replaced below by the core's choice.
            bsize: BufSize::from_kib(1).expect("valid constant"),
            slots: VfSlots::new(vec![None; usize::from(VF_RING)], ring).expect("valid constant"),
            ledger: Ledger::new(vec![Entry::default(); q]),
            vf_ring: vec![[0, 0]; usize::from(VF_RING)],
            vf_tail: 0,
            dev_next: 0,
            skb: vec![0; MAX_FRAME],
            frame,
            rx_packets: 0,
            tail_bytes: 0,
            buf_len,
        };
        b.bsize = b.choose_bsize(frame_len as u32);
        for h in 0..QSZ {
            b.guest_offer(h);
        }
        b.guest_kick();
        b
    }

    /// BSIZEPACKET as the core chooses it for these buffers and frames.
    fn choose_bsize(&self, max_frame: u32) -> BufSize {
        let mem = TableMem(&self.table);
        let rooms: Vec<u32> = (0..QSZ)
            .filter_map(|h| {
                let segs: Result<Vec<Segment>, Error> =
                    DescChain::new(&self.rings, &mem, h).collect();
                frame_room(&segs.ok()?, self.layout).ok()
            })
            .collect();
        choose(rooms.iter().copied(), max_frame).expect("valid constant")
    }

    /// The BSIZEPACKET in use (KiB).
    pub fn bsize_kib(&self) -> u8 {
        self.bsize.kib()
    }

    /// Whether the zero-copy path can take frames of `len` bytes at all
    /// (the VF ring's frame assembly holds at most `MAX_PIECES` pieces).
    pub fn zc_supports(&self, len: usize) -> bool {
        len.div_ceil(self.bsize.bytes() as usize) <= vzc_core::zc::place::MAX_PIECES
    }

    // ---- The guest driver (not measured). ----

    fn guest_offer(&mut self, head: u16) {
        let slot = usize::from(self.g_avail % QSZ);
        self.rings.avail[(avail::ring(0) / 2) as usize + slot].set(head);
        self.g_avail = self.g_avail.wrapping_add(1);
    }

    fn guest_kick(&mut self) {
        self.rings.avail[(avail::IDX / 2) as usize].set(self.g_avail);
        // Event index: interrupt me on every used entry (NAPI-like).
        let ue = (avail::used_event(self.rings.size()) / 2) as usize;
        self.rings.avail[ue].set(self.g_used);
    }

    /// The guest takes every published used entry and offers the buffers
    /// again (what virtnet_receive + refill do).
    pub fn guest_poll(&mut self) {
        let idx = self.rings.used[(used::IDX / 2) as usize].get();
        while self.g_used != idx {
            let w = (used::ring(self.g_used % QSZ) / 2) as usize;
            let head = self.rings.used[w].get();
            let len = u32::from(self.rings.used[w + 2].get())
                | (u32::from(self.rings.used[w + 3].get()) << 16);
            assert!(len > 0 && len <= self.buf_len, "used entry of {len} bytes");
            self.g_used = self.g_used.wrapping_add(1);
            self.guest_offer(head);
        }
        self.guest_kick();
    }

    // ---- The device (not measured: DMA costs the host no instructions). ----

    /// Copy path: the NIC writes the frame into the host's receive buffer.
    #[inline(never)]
    pub fn device_to_skb(&mut self) {
        let n = self.frame.len();
        self.skb[..n].copy_from_slice(&self.frame);
    }

    /// Zero-copy path: the VF writes the frame over the posted descriptors
    /// in ring order, BSIZEPACKET bytes each but the last, and writes back.
    #[inline(never)]
    pub fn device_to_guest(&mut self) {
        let bs = self.bsize.bytes() as usize;
        let n = self.frame.len().div_ceil(bs);
        for (k, piece) in self.frame.chunks(bs).enumerate() {
            let d = &mut self.vf_ring[usize::from(self.dev_next)];
            assert!(self.dev_next != self.vf_tail, "VF ring empty");
            let at = (u64::from_le(d[0]) - HVA) as usize;
            self.ram[at..at + piece.len()].copy_from_slice(piece);
            let mut st = RXD_STAT_DD | RXD_STAT_IPCS | RXD_STAT_TCPCS;
            if k + 1 == n {
                st |= RXD_STAT_EOP;
            }
            d[1] = (u64::from(st) | ((piece.len() as u64) << 32)).to_le();
            self.dev_next = (self.dev_next + 1) % VF_RING;
        }
    }

    // ---- The host. ----

    /// Copy path, one packet (drivers/vhost/backend/tap.rs handle_rx_copy
    /// with the tap's recvmsg reduced to a memcpy): avail index, heads and
    /// chains until the packet fits (plan_rx), translation, the header and
    /// the frame copied, used entries, used index, notification decision.
    #[inline(never)]
    pub fn host_copy_rx(&mut self) -> Result<bool, HostError> {
        let frame_len = self.frame.len();
        let datalen = (frame_len as u32) + HDR;
        let table = self.table;
        let mem = TableMem(&table);
        let rings = &self.rings;
        let q = &mut self.q;
        let mut avail_n = q.pending(rings).map_err(|_| HostError::Queue)?;
        let mut cursor = q.last_avail_idx();
        self.segs.segs.clear();
        self.heads.clear();
        let segs = &mut self.segs;
        let heads = &mut self.heads;
        let mut fail = None;
        let plan = plan_rx(datalen, UIO_MAXIOV, || {
            if avail_n == 0 {
                return None;
            }
            let head = match q.head_at(rings, cursor) {
                Ok(h) => h,
                Err(_) => {
                    fail = Some(HostError::Queue);
                    return None;
                }
            };
            let sum = match DescChain::new(rings, &mem, head).collect_into(segs) {
                Ok(s) => s,
                Err(e) => {
                    fail = Some(HostError::Chain(e));
                    return None;
                }
            };
            heads.push((head, sum.write_bytes));
            cursor = cursor.wrapping_add(1);
            avail_n -= 1;
            Some(RxChain {
                head,
                readable: sum.readable,
                write_bytes: sum.write_bytes,
            })
        });
        if let Some(e) = fail {
            return Err(e);
        }
        let RxPlan::Ready { heads: n, last_len } = plan else {
            return Err(HostError::Plan(plan));
        };
        let mut hdr = [0u8; HDR_MRG_LEN];
        hdr[NUM_BUFFERS_OFF..].copy_from_slice(&(n as u16).to_le_bytes());
        // Header then frame, over the segments, each translated.
        let skb = &self.skb[..frame_len];
        let mut pos = 0usize;
        let total = datalen as usize;
        for seg in &self.segs.segs {
            if pos == total {
                break;
            }
            let want = (total - pos).min(seg.len() as usize) as u64;
            for r in table.translate_iter(seg.gpa(), want) {
                let r = r.map_err(HostError::Chain)?;
                let mut at = (r.addr() - HVA) as usize;
                let mut left = r.len() as usize;
                if pos < HDR_MRG_LEN {
                    let h = (HDR_MRG_LEN - pos).min(left);
                    self.ram[at..at + h].copy_from_slice(&hdr[pos..pos + h]);
                    pos += h;
                    at += h;
                    left -= h;
                }
                let s = pos - HDR_MRG_LEN;
                self.ram[at..at + left].copy_from_slice(&skb[s..s + left]);
                pos += left;
            }
        }
        self.q.take(n as u16);
        for (i, &(head, len)) in self.heads.iter().enumerate() {
            let len = if i + 1 == n { last_len } else { len };
            self.q
                .add_used(&self.rings, head, len)
                .map_err(|_| HostError::Queue)?;
        }
        let signal = self.q.publish(&self.rings).map_err(|_| HostError::Queue)?;
        self.rx_packets += 1;
        Ok(signal)
    }

    /// Zero-copy refill: every head the guest offered is walked, checked by
    /// the containment rule (PostedBuf), recorded in the ledger and the VF
    /// slot shadow, and its descriptor written; then the tail register.
    #[inline(never)]
    pub fn host_zc_refill(&mut self) -> Result<u16, HostError> {
        let table = self.table;
        let mem = TableMem(&table);
        self.q.pending(&self.rings).map_err(|_| HostError::Queue)?;
        let mut posted = 0;
        while self.slots.room() > 0 {
            let Some(head) = self.q.pop_head(&self.rings).map_err(|_| HostError::Queue)? else {
                break;
            };
            self.segs.segs.clear();
            DescChain::new(&self.rings, &mem, head)
                .collect_into(&mut self.segs)
                .map_err(HostError::Chain)?;
            let b = PostedBuf::new(
                head,
                &self.segs.segs,
                self.layout,
                self.bsize,
                &table,
                &self.pins,
            )
            .map_err(|_| HostError::Zc("buffer rejected"))?;
            self.ledger
                .take(head)
                .map_err(|_| HostError::Zc("ledger take"))?;
            self.post(b)?;
            posted += 1;
        }
        Ok(posted)
    }

    fn post(&mut self, b: PostedBuf) -> Result<(), HostError> {
        let i = self
            .slots
            .post(b)
            .map_err(|_| HostError::Zc("VF ring full"))?;
        self.vf_ring[usize::from(i)] =
            rx_read_desc(b.dma()).map_err(|_| HostError::Zc("null dma"))?;
        // The tail register write (one MMIO store per batch in the kernel).
        self.vf_tail = self.slots.next_to_use();
        Ok(())
    }

    /// Zero-copy completion of one frame: the write-backs read, the pieces
    /// collected, placement planned (core `place`), the tail moved, the
    /// header written, the used entries added and published, the buffers
    /// holding nothing for the guest posted again.
    #[inline(never)]
    pub fn host_zc_complete(&mut self) -> Result<bool, HostError> {
        let table = self.table;
        let mut pieces: Option<Pieces> = None;
        let mut frame_len = 0u32;
        let status = loop {
            let i = self.slots.next_to_clean();
            let wb = RxWriteback::parse(self.vf_ring[usize::from(i)][1])
                .ok_or(HostError::Zc("descriptor not done"))?;
            let (_, b) = self
                .slots
                .complete()
                .ok_or(HostError::Zc("nothing posted"))?;
            frame_len += u32::from(wb.len);
            match &mut pieces {
                None => pieces = Some(Pieces::new(b)),
                Some(p) => p.push(b).map_err(|_| HostError::Zc("too many pieces"))?,
            }
            let st = wb.status();
            if st.eop {
                break st;
            }
        };
        let pieces = pieces.ok_or(HostError::Zc("no piece"))?;
        let p = place(self.layout, pieces.as_slice(), frame_len, status)
            .map_err(|_| HostError::Zc("place"))?;
        for m in p.moves() {
            let src = table
                .translate(m.src, u64::from(m.len))
                .map_err(HostError::Chain)?;
            let dst = table
                .translate(m.dst, u64::from(m.len))
                .map_err(HostError::Chain)?;
            let s = (src.addr() - HVA) as usize;
            self.ram
                .copy_within(s..s + m.len as usize, (dst.addr() - HVA) as usize);
        }
        let h = p.header();
        let at = table
            .translate(p.first().hdr_gpa(), h.len() as u64)
            .map_err(HostError::Chain)?;
        let at = (at.addr() - HVA) as usize;
        self.ram[at..at + h.len()].copy_from_slice(h);
        for (head, len) in p.used() {
            self.q
                .add_used(&self.rings, head, len)
                .map_err(|_| HostError::Queue)?;
            self.ledger
                .used(head)
                .map_err(|_| HostError::Zc("ledger used"))?;
        }
        self.tail_bytes = p.tail_bytes();
        for b in p.returned() {
            self.post(*b)?;
        }
        let signal = self.q.publish(&self.rings).map_err(|_| HostError::Queue)?;
        self.rx_packets += 1;
        Ok(signal)
    }

    /// Checks that the guest's last packet reads back as the frame (header
    /// `num_buffers`, then the bytes over its used buffers).
    pub fn verify_last(&self) -> bool {
        let last = self.g_used.wrapping_sub(1);
        // Walk back to the packet's first used entry: its num_buffers says
        // how many entries the packet has.
        let mut first = last;
        loop {
            let w = (used::ring(first % QSZ) / 2) as usize;
            let head = self.rings.used[w].get();
            let at = (self.rings.desc[usize::from(head)].get().addr - DATA_GPA) as usize;
            let nb = u16::from_le_bytes([
                self.ram[at + NUM_BUFFERS_OFF],
                self.ram[at + NUM_BUFFERS_OFF + 1],
            ]);
            if last.wrapping_sub(first) + 1 == nb {
                break;
            }
            if last.wrapping_sub(first) > 64 {
                return false;
            }
            first = first.wrapping_sub(1);
        }
        let mut got = Vec::new();
        let mut k = first;
        loop {
            let w = (used::ring(k % QSZ) / 2) as usize;
            let head = self.rings.used[w].get();
            let len = u32::from(self.rings.used[w + 2].get())
                | (u32::from(self.rings.used[w + 3].get()) << 16);
            let at = (self.rings.desc[usize::from(head)].get().addr - DATA_GPA) as usize;
            let skip = if k == first { HDR_MRG_LEN } else { 0 };
            got.extend_from_slice(&self.ram[at + skip..at + len as usize]);
            if k == last {
                break;
            }
            k = k.wrapping_add(1);
        }
        got == self.frame
    }
}
