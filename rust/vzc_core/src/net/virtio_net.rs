// SPDX-License-Identifier: GPL-2.0-only
//! virtio-net specifics of the data path: the header the guest and the tap
//! exchange (virtio 1.x §5.1.6), and how RX packets are spread over guest
//! buffers with `VIRTIO_NET_F_MRG_RXBUF` (upstream `get_rx_bufs`).

use super::super::vhost::abi::{VIRTIO_F_ANY_LAYOUT, VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF};

/// `struct virtio_net_hdr` (no `num_buffers`).
pub const HDR_LEN: usize = 10;
/// `struct virtio_net_hdr_mrg_rxbuf` / `virtio_net_hdr_v1`.
pub const HDR_MRG_LEN: usize = 12;
/// Offset of `num_buffers` in the 12-byte header.
pub const NUM_BUFFERS_OFF: usize = 10;
/// Upstream's per-packet iovec and head limit (`UIO_MAXIOV`).
pub const UIO_MAXIOV: usize = 1024;

/// Who handles the virtio-net header: vhost or the tap (upstream
/// `vhost_net_set_features`). `VHOST_NET_F_VIRTIO_NET_HDR` (the ANY_LAYOUT
/// bit) asks vhost to add/strip it; otherwise the tap (IFF_VNET_HDR) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSplit {
    /// Bytes vhost strips on TX and writes on RX.
    pub vhost_hlen: usize,
    /// Bytes the socket carries in front of each frame.
    pub sock_hlen: usize,
    /// Whether RX may use several buffers per packet.
    pub mergeable: bool,
}

impl HeaderSplit {
    /// From the acked features.
    pub fn from_features(features: u64) -> Self {
        let has = |b: u32| features & (1 << b) != 0;
        let hdr = if has(VIRTIO_NET_F_MRG_RXBUF) || has(VIRTIO_F_VERSION_1) {
            HDR_MRG_LEN
        } else {
            HDR_LEN
        };
        // The bit is VHOST_NET_F_VIRTIO_NET_HDR when vhost sees it.
        let (vhost_hlen, sock_hlen) = if has(VIRTIO_F_ANY_LAYOUT) {
            (hdr, 0)
        } else {
            (0, hdr)
        };
        Self {
            vhost_hlen,
            sock_hlen,
            mergeable: has(VIRTIO_NET_F_MRG_RXBUF),
        }
    }
}

/// One guest RX buffer chain offered for a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxChain {
    /// Head descriptor index (the used-ring id).
    pub head: u16,
    /// Device-readable descriptors in the chain (must be 0 on RX).
    pub readable: usize,
    /// Bytes the device may write.
    pub write_bytes: u32,
}

/// What to do with the packet at the head of the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxPlan {
    /// The first `heads` chains take it; the last one gets `last_len` bytes
    /// (the others their full size).
    Ready {
        /// Chains used.
        heads: usize,
        /// Bytes written into the last chain.
        last_len: u32,
    },
    /// The ring ran dry first: put the `taken` chains back and wait for the
    /// guest (upstream: `vhost_discard_vq_desc` + enable notification).
    Wait {
        /// Chains taken that must be returned to the avail ring.
        taken: usize,
    },
    /// No quota of chains can hold it: drop the packet, return the chains.
    TooBig {
        /// Chains taken that must be returned.
        taken: usize,
    },
    /// A chain had device-readable descriptors: the ring is broken.
    BadChain,
}

/// Spreads `datalen` bytes (header included) over chains pulled from
/// `next_chain`, at most `quota` of them (1 without mergeable buffers,
/// [`UIO_MAXIOV`] with). `next_chain` returns `None` when the avail ring is
/// empty.
pub fn plan_rx(
    datalen: u32,
    quota: usize,
    mut next_chain: impl FnMut() -> Option<RxChain>,
) -> RxPlan {
    let mut left = datalen;
    let mut heads = 0usize;
    while left > 0 && heads < quota {
        let Some(c) = next_chain() else {
            return RxPlan::Wait { taken: heads };
        };
        heads += 1;
        if c.readable != 0 {
            return RxPlan::BadChain;
        }
        if c.write_bytes >= left {
            return RxPlan::Ready {
                heads,
                last_len: left,
            };
        }
        left -= c.write_bytes;
    }
    if left > 0 {
        return RxPlan::TooBig { taken: heads };
    }
    // A zero-length packet still takes one chain (the header goes there).
    RxPlan::Ready { heads, last_len: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_split() {
        let v1 = 1u64 << VIRTIO_F_VERSION_1;
        let mrg = 1u64 << VIRTIO_NET_F_MRG_RXBUF;
        let own = 1u64 << VIRTIO_F_ANY_LAYOUT;
        // QEMU's usual case: the tap has IFF_VNET_HDR and carries the header.
        let h = HeaderSplit::from_features(v1 | mrg);
        assert_eq!((h.vhost_hlen, h.sock_hlen, h.mergeable), (0, 12, true));
        assert_eq!(HeaderSplit::from_features(0).sock_hlen, 10);
        assert_eq!(HeaderSplit::from_features(own).vhost_hlen, 10);
        assert_eq!(HeaderSplit::from_features(own | v1).vhost_hlen, 12);
    }

    fn chains(sizes: &[u32]) -> impl FnMut() -> Option<RxChain> + '_ {
        let mut i = 0;
        move || {
            let c = sizes.get(i).map(|&s| RxChain {
                head: i as u16,
                readable: 0,
                write_bytes: s,
            });
            i += 1;
            c
        }
    }

    #[test]
    fn plans() {
        assert_eq!(
            plan_rx(1500, 1, chains(&[2048])),
            RxPlan::Ready {
                heads: 1,
                last_len: 1500
            }
        );
        assert_eq!(
            plan_rx(1500, UIO_MAXIOV, chains(&[1000, 1000])),
            RxPlan::Ready {
                heads: 2,
                last_len: 500
            }
        );
        assert_eq!(
            plan_rx(1500, UIO_MAXIOV, chains(&[1000])),
            RxPlan::Wait { taken: 1 }
        );
        assert_eq!(
            plan_rx(1500, 1, chains(&[1000, 1000])),
            RxPlan::TooBig { taken: 1 }
        );
        assert_eq!(plan_rx(10, 4, chains(&[])), RxPlan::Wait { taken: 0 });
        let mut bad = || {
            Some(RxChain {
                head: 0,
                readable: 1,
                write_bytes: 100,
            })
        };
        assert_eq!(plan_rx(10, 4, &mut bad), RxPlan::BadChain);
    }
}
