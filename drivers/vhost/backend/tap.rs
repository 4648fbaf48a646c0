// SPDX-License-Identifier: GPL-2.0-only

//! The tap copy engine: packets between a split ring and a tap socket,
//! copied by the socket from and to guest memory (upstream
//! `handle_tx_copy` / `handle_rx` of drivers/vhost/net.c, without XDP
//! batching).
//!
//! Per packet: read the avail index and head (guest values, validated by the
//! core), walk the chain (`vzc_core::DescChain`: bounds, loops, indirect),
//! turn its segments into user iovecs through the memory table, move the
//! packet with one sendmsg/recvmsg, write the used element. The dispatcher
//! ([`super::handle_tx`] / [`super::handle_rx`]) publishes the used index
//! and decides on the signal once per run. Nothing allocates.

use kernel::prelude::*;

use super::{Outcome, Run};
use crate::glue::{
    socket::{iovec, BackendSocket, IoVec},
    user,
};
use crate::vhost::guest_mem::{for_each_piece, Guest, PieceError};
use crate::vhost::vq::Broken;
use crate::vzc_core::{
    net::{plan_rx, RxChain, RxPlan, NUM_BUFFERS_OFF, UIO_MAXIOV},
    DescChain, Error, Segment,
};

/// Packets per run before yielding to the other queue (`VHOST_NET_PKT_WEIGHT`).
const PKT_WEIGHT: usize = 256;
/// Bytes per run before yielding (`VHOST_NET_WEIGHT`).
const BYTE_WEIGHT: usize = 0x80000;

/// Appends iovecs for `len` bytes of segment `seg`, skipping its first `skip`.
fn push_iov(
    guest: &Guest<'_>,
    iov: &mut KVec<IoVec>,
    seg: &Segment,
    skip: u64,
    len: u64,
) -> Result<(), Broken> {
    if len == 0 {
        return Ok(());
    }
    let gpa = seg.gpa().checked_add(skip).ok_or(Broken::RingFault)?;
    for piece in guest.xlate(gpa, len, seg.writable()) {
        let p = piece.map_err(Broken::Chain)?;
        iov.push_within_capacity(iovec(p.addr(), p.len()))
            .map_err(|_| Broken::TooManyIovecs)?;
    }
    Ok(())
}

/// Writes `data` at byte `offset` of the buffer formed by `segs` (the
/// header vhost owns, or `num_buffers`), through the memory table.
fn write_segs(
    guest: &Guest<'_>,
    segs: &[Segment],
    mut offset: u64,
    mut data: &[u8],
) -> Result<(), Broken> {
    for seg in segs {
        if data.is_empty() {
            break;
        }
        let l = u64::from(seg.len());
        if offset >= l {
            offset -= l;
            continue;
        }
        let n = core::cmp::min(l - offset, data.len() as u64);
        let gpa = seg.gpa() + offset;
        let (now, rest) = data.split_at(n as usize);
        for_each_piece(guest.xlate(gpa, n, true), now.len(), |hva, at| {
            user::write_bytes(hva, &now[at])
        })
        .map_err(|e| match e {
            PieceError::Xlate(e) => Broken::Chain(e),
            PieceError::Fault => Broken::RingFault,
        })?;
        data = rest;
        offset = 0;
    }
    if data.is_empty() {
        Ok(())
    } else {
        Err(Broken::ShortHeader)
    }
}

/// Guest → tap: the packets the guest made available, sent one by one;
/// each buffer goes back to the guest used, with length 0.
pub(super) fn handle_tx_copy(
    run: &mut Run<'_, '_>,
    sock: &BackendSocket,
) -> Result<Outcome, Broken> {
    let mut added = 0usize;
    let mut outcome = Outcome::Idle;
    let mut bytes = 0usize;
    loop {
        if added >= PKT_WEIGHT || bytes >= BYTE_WEIGHT {
            outcome = Outcome::More;
            break;
        }
        if run.ring.pending()? == 0 {
            if run.ring.enable_notify()? {
                continue;
            }
            break;
        }
        let head = run.ring.head_at(run.ring.last_avail_idx())?;
        run.scratch.segs.clear();
        let sum =
            match DescChain::new(&run.table, run.guest, head).collect_into(&mut run.scratch.segs) {
                Ok(sum) => sum,
                // An IOTLB miss: nothing is taken; userspace is asked for the
                // mapping and its update runs the ring again.
                Err(Error::IotlbMiss) => {
                    outcome = Outcome::Blocked;
                    break;
                }
                Err(e) => return Err(Broken::Chain(e)),
            };
        if sum.writable != 0 {
            return Err(Broken::Direction);
        }
        let total = u64::from(sum.read_bytes);
        let hlen = run.hdr.vhost_hlen as u64;
        if total < hlen {
            return Err(Broken::ShortHeader);
        }
        // Gather the chain, minus the header vhost strips (if it owns it).
        run.scratch.iov.clear();
        let mut skip = hlen;
        for seg in &run.scratch.segs[..sum.readable] {
            let l = u64::from(seg.len());
            let k = core::cmp::min(skip, l);
            skip -= k;
            // The walk checked every segment: a miss cannot happen here.
            push_iov(run.guest, &mut run.scratch.iov, seg, k, l - k)?;
        }
        let len = (total - hlen) as usize;
        match sock.send(&run.scratch.iov, len) {
            Ok(_) => {
                run.counts.packets += 1;
                run.counts.bytes += (len - run.hdr.sock_hlen.min(len)) as u64;
            }
            // Retryable: leave the buffer in the ring. A full socket wakes
            // us with EPOLLOUT when it drains; a socket that is writable
            // (the send failed for memory) raises no wake-up, so the ring
            // goes round again, as upstream's re-poll does
            // (vhost_net_enable_vq). Blocking here stalled TX for good.
            Err(e) if e == EAGAIN || e == ENOBUFS || e == ENOMEM => {
                run.counts.waits += 1;
                outcome = if sock.writable() {
                    Outcome::More
                } else {
                    Outcome::Blocked
                };
                break;
            }
            // Anything else is this packet's fault: drop it, as upstream.
            Err(_) => run.counts.dropped += 1,
        }
        run.ring.take(1);
        run.ring.add_used(head, 0)?;
        added += 1;
        bytes += len;
    }
    Ok(outcome)
}

/// Tap → guest: the socket's packets, each received into as many guest
/// buffers as it needs (one unless `VIRTIO_NET_F_MRG_RXBUF`).
pub(super) fn handle_rx_copy(
    run: &mut Run<'_, '_>,
    sock: &BackendSocket,
) -> Result<Outcome, Broken> {
    let quota = if run.hdr.mergeable { UIO_MAXIOV } else { 1 };
    // Packets taken or dropped: drops count toward the weight too, as
    // upstream's, so a stream of undeliverable packets still yields.
    let mut pkts = 0usize;
    let mut bytes = 0usize;
    let mut outcome = Outcome::Idle;
    loop {
        if pkts >= PKT_WEIGHT || bytes >= BYTE_WEIGHT {
            outcome = Outcome::More;
            break;
        }
        // The socket's next frame; it arrives behind `sock_hlen` bytes of
        // virtio-net header (IFF_VNET_HDR), and vhost may add its own.
        let plen = sock.peek_len();
        if plen == 0 {
            break;
        }
        let sock_len = plen + run.hdr.sock_hlen;
        let datalen = u32::try_from(sock_len + run.hdr.vhost_hlen).unwrap_or(u32::MAX);

        // Take chains until the packet fits (the core decides), keeping
        // their segments back to back in `run.scratch.segs`.
        let mut avail_n = run.ring.pending()?;
        let mut cursor = run.ring.last_avail_idx();
        let mut nsegs = 0usize;
        let mut fail: Option<Broken> = None;
        run.scratch.segs.clear();
        run.scratch.heads.clear();
        let plan = plan_rx(datalen, quota, || {
            if avail_n == 0 {
                match run.ring.pending() {
                    Ok(n) => {
                        avail_n = n.wrapping_sub(cursor.wrapping_sub(run.ring.last_avail_idx()))
                    }
                    Err(e) => {
                        fail = Some(e);
                        return None;
                    }
                }
                if avail_n == 0 {
                    return None;
                }
            }
            let head = match run.ring.head_at(cursor) {
                Ok(h) => h,
                Err(e) => {
                    fail = Some(e);
                    return None;
                }
            };
            let sum = match DescChain::new(&run.table, run.guest, head)
                .collect_into(&mut run.scratch.segs)
            {
                Ok(sum) => sum,
                Err(e) => {
                    fail = Some(Broken::Chain(e));
                    return None;
                }
            };
            if run
                .scratch
                .heads
                .push_within_capacity((head, sum.write_bytes))
                .is_err()
            {
                fail = Some(Broken::TooManyIovecs);
                return None;
            }
            nsegs += sum.count();
            cursor = cursor.wrapping_add(1);
            avail_n -= 1;
            Some(RxChain {
                head,
                readable: sum.readable,
                write_bytes: sum.write_bytes,
            })
        });
        match fail {
            // An IOTLB miss in a chain: nothing is taken (see handle_tx_copy).
            Some(Broken::Chain(Error::IotlbMiss)) => {
                outcome = Outcome::Blocked;
                break;
            }
            Some(e) => return Err(e),
            None => {}
        }
        let (nheads, last_len) = match plan {
            RxPlan::Ready { heads, last_len } => (heads, last_len),
            RxPlan::Wait { .. } => {
                // Out of buffers: the packet stays queued; a guest kick
                // brings us back (unless buffers arrived meanwhile).
                run.counts.waits += 1;
                if run.ring.enable_notify()? {
                    continue;
                }
                outcome = Outcome::Blocked;
                break;
            }
            RxPlan::TooBig { .. } => {
                // No amount of buffers within quota holds it: drop it.
                let _ = sock.discard();
                run.counts.dropped += 1;
                pkts += 1;
                continue;
            }
            RxPlan::BadChain => return Err(Broken::Direction),
        };

        // Scatter list over the bytes the plan uses, minus the header vhost
        // writes itself (if it owns it); every written byte is logged.
        run.scratch.iov.clear();
        let mut left = u64::from(datalen);
        let mut skip = run.hdr.vhost_hlen as u64;
        for seg in &run.scratch.segs[..nsegs] {
            if left == 0 {
                break;
            }
            let l = core::cmp::min(u64::from(seg.len()), left);
            let k = core::cmp::min(skip, l);
            push_iov(run.guest, &mut run.scratch.iov, seg, k, l - k)?;
            if let Some(log) = run.ring.io.log {
                run.guest
                    .log_write(&log, seg.gpa(), l)
                    .map_err(|_| Broken::Log)?;
            }
            skip -= k;
            left -= l;
        }
        match sock.recv(&run.scratch.iov, sock_len) {
            Ok(n) if n == sock_len => {}
            // Raced with another reader or the packet changed: the buffers
            // were not consumed; go on, as upstream.
            _ => {
                run.counts.dropped += 1;
                pkts += 1;
                continue;
            }
        }
        let segs = &run.scratch.segs[..nsegs];
        if run.hdr.vhost_hlen > 0 {
            // vhost owns the header: a plain one (no offloads).
            let plain = [0u8; crate::vzc_core::net::HDR_MRG_LEN];
            write_segs(run.guest, segs, 0, &plain[..run.hdr.vhost_hlen])?;
        }
        if run.hdr.mergeable {
            let n = nheads as u16;
            write_segs(run.guest, segs, NUM_BUFFERS_OFF as u64, &n.to_le_bytes())?;
        }
        for (i, &(head, wbytes)) in run.scratch.heads[..nheads].iter().enumerate() {
            let len = if i + 1 == nheads { last_len } else { wbytes };
            run.ring.add_used(head, len)?;
        }
        run.ring.take(nheads as u16);
        pkts += 1;
        bytes += plen;
        run.counts.packets += 1;
        run.counts.bytes += plen as u64;
    }
    Ok(outcome)
}
