// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_backends: the backends VHOST_NET_SET_BACKEND accepts besides tun/tap,
 * driven by this process as the guest (its own memory is guest memory):
 *
 *   --macvtap DEV   a macvtap character device (libvirt's type='direct'),
 *                   the vnet header in the socket (TUNSETVNETHDRSZ 12);
 *   --packet IFACE  an AF_PACKET raw socket bound to IFACE, the vnet header
 *                   added and stripped by vhost (VHOST_NET_F_VIRTIO_NET_HDR);
 *
 * with --peer IFACE the other end of the link (a veth peer) and --mac MAC
 * the backend's address. RX: frames sent on the peer arrive in the guest's
 * RX buffers behind a 12-byte header, byte for byte, with the used length
 * right and the call eventfd signalled. TX: a frame the guest queues comes
 * out on the peer byte for byte and is completed in the used ring.
 * Sockets no backend may use are ENOTSOCK. --busy-poll US: the same with
 * VHOST_SET_VRING_BUSYLOOP_TIMEOUT US on both rings (vhost_zc must count
 * busy polls). --base N: the rings start at index N (65534 makes the
 * avail and used indices wrap during the run). --reference: run against stock
 * vhost_net (same expectations); otherwise vhost_zc's counters must show the
 * packets too. TAP-style output; exit status 0 if all checks passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sys/mman.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>

#include "vhost_test.h"

#define QSZ 16
#define BUF 2048
#define GUEST_SIZE (1 << 20)

struct vring_mem {
	VRING_PAGES(QSZ);
};

/* Guest memory layout: two rings, then the buffers. */
struct guest {
	struct vring_mem vr[2];
	uint8_t rxbuf[QSZ][BUF];
	uint8_t txbuf[BUF];
};

static struct guest *g;
static unsigned int busy_us;
/* --base: ring indices start here (e.g. 65534: the 16-bit indices wrap
 * within the run). */
static uint16_t base;

static uint64_t gpa(const void *p)
{
	return GPA + (uint64_t)((const uint8_t *)p - (const uint8_t *)g);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
		      &mac[3], &mac[4], &mac[5]) == 6;
}

/* A raw socket on @ifname for EtherType 0x88b5 frames (send and capture). */
static int raw_socket(const char *ifname, struct sockaddr_ll *sll)
{
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_TEST));

	assert(s >= 0);
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(ETH_P_TEST);
	sll->sll_ifindex = if_nametoindex(ifname);
	assert(sll->sll_ifindex);
	assert(!bind(s, (struct sockaddr *)sll, sizeof(*sll)));
	return s;
}

/* Test frame @id of @len bytes from @src to @dst. */
static void frame(uint8_t *f, size_t len, const uint8_t dst[6], const uint8_t src[6], int id)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_P_TEST >> 8;
	f[13] = ETH_P_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(id * 31 + i * 7);
}

struct dev {
	int fd, kick[2], call[2];
};

/* One vhost-net device over @backend_fd (both rings); @vnet_hdr_in_vhost:
 * VHOST_NET_F_VIRTIO_NET_HDR. */
static void setup(struct dev *d, int backend_fd, int vnet_hdr_in_vhost)
{
	uint64_t f = F_VERSION_1;
	struct vhost_vring_file vf;

	if (vnet_hdr_in_vhost)
		f |= 1ULL << VHOST_NET_F_VIRTIO_NET_HDR;
	d->fd = open("/dev/vhost-net", O_RDWR);
	assert(d->fd >= 0);
	assert(!ioctl(d->fd, VHOST_SET_OWNER, NULL));
	assert(!ioctl(d->fd, VHOST_SET_FEATURES, &f));
	assert(!set_mem1(d->fd, GPA, GUEST_SIZE, g));
	for (int q = 0; q < 2; q++) {
		struct vhost_vring_state s = { .index = q, .num = QSZ };
		/* Ring addresses are the VMM's (user) addresses; buffers in
		 * descriptors are guest-physical, through the memory table. */
		struct vhost_vring_addr a = {
			.index = q, .desc_user_addr = (uintptr_t)g->vr[q].desc,
			.avail_user_addr = (uintptr_t)&g->vr[q].avail,
			.used_user_addr = (uintptr_t)&g->vr[q].used,
		};
		assert(!ioctl(d->fd, VHOST_SET_VRING_NUM, &s));
		s.num = base;
		assert(!ioctl(d->fd, VHOST_SET_VRING_BASE, &s));
		/* The device continues from the used index in memory. */
		g->vr[q].used.idx = base;
		g->vr[q].avail.idx = base;
		assert(!ioctl(d->fd, VHOST_SET_VRING_ADDR, &a));
		d->kick[q] = eventfd(0, EFD_NONBLOCK);
		d->call[q] = eventfd(0, EFD_NONBLOCK);
		vf.index = q;
		vf.fd = d->kick[q];
		assert(!ioctl(d->fd, VHOST_SET_VRING_KICK, &vf));
		vf.fd = d->call[q];
		assert(!ioctl(d->fd, VHOST_SET_VRING_CALL, &vf));
	}
	/* RX: every buffer posted, one descriptor (header + frame) each. */
	for (int i = 0; i < QSZ; i++) {
		g->vr[RX].desc[i] = (struct vring_desc){ gpa(g->rxbuf[i]), BUF, VRING_DESC_F_WRITE, 0 };
		g->vr[RX].avail.ring[(uint16_t)(base + i) % QSZ] = i;
	}
	__atomic_store_n(&g->vr[RX].avail.idx, (uint16_t)(base + QSZ - 1), __ATOMIC_RELEASE);
	for (int q = 0; q < 2 && busy_us; q++) {
		struct vhost_vring_state s = { .index = q, .num = busy_us };

		assert(!ioctl(d->fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &s));
		s.num = 0;
		assert(!ioctl(d->fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &s));
		check(s.num == busy_us, "busy-loop timeout reads back");
	}
	for (int q = 0; q < 2 && backend_fd >= 0; q++) {
		vf.index = q;
		vf.fd = backend_fd;
		check(!ioctl(d->fd, VHOST_NET_SET_BACKEND, &vf), q ? "TX backend accepted" : "RX backend accepted");
	}
}

static void teardown(struct dev *d)
{
	close(d->fd);
	for (int q = 0; q < 2; q++) {
		close(d->kick[q]);
		close(d->call[q]);
	}
}

static int kick(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, 8) == 8;
}

/* The RX used entry holding frame @f (@len bytes) behind the header, or -1;
 * other traffic on the link may hold other entries. Waits up to 3 s. */
static int rx_find(const uint8_t *f, size_t len)
{
	for (int t = 0; t < 300; t++) {
		/* The entries written since the ring started at @base. */
		uint16_t n = __atomic_load_n(&g->vr[RX].used.idx, __ATOMIC_ACQUIRE) - base;

		for (uint16_t j = 0; j < n && j < QSZ; j++) {
			uint16_t i = (uint16_t)(base + j) % QSZ;
			struct vring_used_elem e = g->vr[RX].used.ring[i];

			if (e.id >= QSZ || e.len != HDR + len)
				continue;
			if (!memcmp(g->rxbuf[e.id] + HDR, f, len))
				return i;
		}
		usleep(10000);
	}
	return -1;
}

/* The used index of ring @q reaches @want within 1 s (published a moment
 * after the frame left). */
static int used_becomes(int q, uint16_t want)
{
	for (int t = 0; t < 100; t++) {
		if (__atomic_load_n(&g->vr[q].used.idx, __ATOMIC_ACQUIRE) == want)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Receives on raw socket @s a frame equal to @f, within 3 s. */
static int peer_got(int s, const uint8_t *f, size_t len)
{
	uint8_t buf[BUF];

	for (int t = 0; t < 30; t++) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 100) != 1)
			continue;
		r = recv(s, buf, sizeof(buf), 0);
		if (r == (ssize_t)len && !memcmp(buf, f, len))
			return 1;
	}
	return 0;
}

static void run(const char *kind, int backend_fd, int hdr_in_vhost, const char *peer,
		const uint8_t mac[6])
{
	static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	static const size_t sizes[] = { 60, 1000, 1514 };
	struct sockaddr_ll sll;
	struct dev d;
	uint8_t f[BUF], what[160];
	int ps = raw_socket(peer, &sll);

	memset(g, 0, sizeof(*g));
	setup(&d, backend_fd, hdr_in_vhost);
	/* RX is driven by the socket; the kick says buffers are there. */
	check(kick(d.kick[RX]), "RX kick");
	for (int i = 0; i < 3; i++) {
		frame(f, sizes[i], mac, peer_mac, i);
		check(sendto(ps, f, sizes[i], 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)sizes[i],
		      "peer sends a frame");
		int at = rx_find(f, sizes[i]);

		snprintf((char *)what, sizeof(what), "%s RX: %zu-byte frame in a guest buffer behind a %d-byte header", kind, sizes[i], HDR);
		check(at >= 0, (char *)what);
		if (at >= 0) {
			static const uint8_t zero[HDR];
			uint8_t *h = g->rxbuf[g->vr[RX].used.ring[at].id];

			/* flags, gso_type: nothing offloaded on this path. */
			check(!memcmp(h, zero, 2), "RX header: no flags, no GSO");
		}
	}
	check(signalled(d.call[RX], 3000), "RX call eventfd signalled");

	/* A frame no posted buffer can hold (without mergeable buffers a packet
	 * gets one chain): dropped, and the ring goes on. The buffers still
	 * posted shrink to 100 bytes; a 1000-byte frame is dropped, a 60-byte
	 * one after it lands. (Dropping with a zero-length read once left the
	 * packet queued and the worker spinning on it.) */
	{
		long long dropped = reference ? 0 : zc_counter("rx_dropped");

		for (int i = 0; i < QSZ; i++)
			__atomic_store_n(&g->vr[RX].desc[i].len, 100, __ATOMIC_RELEASE);
		frame(f, 1000, mac, peer_mac, 40);
		check(sendto(ps, f, 1000, 0, (struct sockaddr *)&sll, sizeof(sll)) == 1000,
		      "peer sends a frame too big for the guest's buffers");
		frame(f, 60, mac, peer_mac, 41);
		check(sendto(ps, f, 60, 0, (struct sockaddr *)&sll, sizeof(sll)) == 60,
		      "peer sends a 60-byte frame after it");
		snprintf((char *)what, sizeof(what), "%s RX: the frame after an oversized one lands", kind);
		check(rx_find(f, 60) >= 0, (char *)what);
		if (!reference)
			check(zc_counter("rx_dropped") > dropped, "vhost_zc rx_dropped counts the oversized frame");
	}

	/* TX three frames, one at a time (with --base they cross the wrap). */
	for (int k = 0; k < 3; k++) {
		uint16_t at = base + k;

		frame(f, 1514, peer_mac, mac, 7 + k);
		memset(g->txbuf, 0, HDR);
		memcpy(g->txbuf + HDR, f, 1514);
		g->vr[TX].desc[0] = (struct vring_desc){ gpa(g->txbuf), HDR + 1514, 0, 0 };
		g->vr[TX].avail.ring[at % QSZ] = 0;
		__atomic_store_n(&g->vr[TX].avail.idx, (uint16_t)(at + 1), __ATOMIC_RELEASE);
		check(kick(d.kick[TX]), "TX kick");
		snprintf((char *)what, sizeof(what), "%s TX: the guest's 1514-byte frame (avail index %u) on the peer, byte for byte",
			 kind, at);
		check(peer_got(ps, f, 1514), (char *)what);
		check(signalled(d.call[TX], 3000), "TX call eventfd signalled");
		check(used_becomes(TX, (uint16_t)(at + 1)) && g->vr[TX].used.ring[at % QSZ].id == 0,
		      "TX buffer completed in the used ring");
	}
	if (!reference) {
		/* A fresh device: its counters start at 0. */
		check(zc_counter("rx_packets") >= 3, "vhost_zc rx_packets counts the RX frames");
		check(zc_counter("tx_packets") == 3, "vhost_zc tx_packets counts the TX frames");
		if (busy_us) {
			long long p = zc_counter("rx_busy_polls") + zc_counter("tx_busy_polls");
			long long h = zc_counter("rx_busy_poll_hits") + zc_counter("tx_busy_poll_hits");

			printf("# busy polls %lld, found work %lld\n", p, h);
			check(p > 0, "vhost_zc busy-polled after runs");
		}
	}
	teardown(&d);
	close(ps);
}

/* Sockets no backend may be: ENOTSOCK, as upstream get_socket(). */
static void bad_backends(void)
{
	struct dev d;
	struct { int fd; const char *what; } bad[] = {
		{ socket(AF_INET, SOCK_DGRAM, 0), "a UDP socket is ENOTSOCK" },
		{ socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)), "an AF_PACKET datagram socket is ENOTSOCK" },
		{ socket(AF_UNIX, SOCK_STREAM, 0), "a unix socket is ENOTSOCK" },
		{ open("/proc/self/stat", O_RDONLY), "a regular file is ENOTSOCK" },
		{ 1000, "a closed fd is ENOTSOCK" },
	};

	memset(g, 0, sizeof(*g));
	setup(&d, -1, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vhost_vring_file vf = { .index = TX, .fd = bad[i].fd };
		int r = ioctl(d.fd, VHOST_NET_SET_BACKEND, &vf);

		check(r == -1 && errno == ENOTSOCK, bad[i].what);
		if (bad[i].fd != 1000)
			close(bad[i].fd);
	}
	teardown(&d);
}

int main(int argc, char **argv)
{
	const char *macvtap = NULL, *packet = NULL, *peer = NULL;
	uint8_t mac[6];
	int have_mac = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reference"))
			reference = 1;
		else if (!strcmp(argv[i], "--macvtap") && i + 1 < argc)
			macvtap = argv[++i];
		else if (!strcmp(argv[i], "--packet") && i + 1 < argc)
			packet = argv[++i];
		else if (!strcmp(argv[i], "--peer") && i + 1 < argc)
			peer = argv[++i];
		else if (!strcmp(argv[i], "--busy-poll") && i + 1 < argc)
			busy_us = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--base") && i + 1 < argc)
			base = (uint16_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--mac") && i + 1 < argc)
			have_mac = parse_mac(argv[++i], mac);
		else {
			fprintf(stderr, "usage: %s [--reference] [--busy-poll US] --peer IFACE --mac MAC (--macvtap DEV | --packet IFACE)\n", argv[0]);
			return 2;
		}
	}
	if (!peer || !have_mac || !!macvtap == !!packet) {
		fprintf(stderr, "need --peer, --mac and one of --macvtap/--packet\n");
		return 2;
	}
	g = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert(g != MAP_FAILED && sizeof(*g) <= GUEST_SIZE);

	if (macvtap) {
		int fd = open(macvtap, O_RDWR);
		int sz = HDR;

		check(fd >= 0, "macvtap device opens");
		if (fd < 0)
			return 1;
		check(!ioctl(fd, TUNSETVNETHDRSZ, &sz), "macvtap vnet header size 12");
		run("macvtap", fd, 0, peer, mac);
		close(fd);
	} else {
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
		int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

		sll.sll_ifindex = if_nametoindex(packet);
		check(s >= 0 && sll.sll_ifindex && !bind(s, (struct sockaddr *)&sll, sizeof(sll)),
		      "AF_PACKET raw socket bound");
		run("packet", s, 1, peer, mac);
		close(s);
	}
	bad_backends();
	return checks_failed();
}
