// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_iotlb: VIRTIO_F_ACCESS_PLATFORM, the device IOTLB. This process is
 * both the guest and the VMM: ring and buffer addresses are IOVAs
 * (IOVA_BASE + offset into its "guest" memory), and it answers the device's
 * VHOST_IOTLB_MISS messages (read from the vhost fd, announced by poll) with
 * VHOST_IOTLB_UPDATEs, one 4 KiB page each, as QEMU's vIOMMU does. The
 * backend is a tap whose interface is up; an AF_PACKET socket on it is the
 * wire. Checks:
 *   - NET_SET_BACKEND before the used ring is mapped: EFAULT, and a miss
 *     for the used ring (device write) is queued;
 *   - TX: a frame goes out byte for byte once the misses (rings, buffer)
 *     are answered; RX likewise into the guest's buffer;
 *   - INVALIDATE of a buffer page: the next TX from it misses exactly that
 *     page, and goes out once it is mapped again;
 *   - a buffer mapped write-only cannot be sent (device read refused): the
 *     ring's error eventfd fires, nothing goes out;
 *   - dirty logging (LOG_ALL, the used ring logged): the pages RX wrote,
 *     the guest buffer and the used ring, are marked at their guest
 *     physical addresses (the device knows IOVAs and host addresses);
 *   - message errors: UPDATE of size 0 is EINVAL, of a kernel address
 *     EFAULT, INVALIDATE of size 0 EFAULT, a MISS from userspace EFAULT,
 *     an unknown format EINVAL; a good message writes 72 bytes.
 * --reference runs against stock vhost_net (same expectations).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sys/mman.h>
#include <linux/if_packet.h>

#include "vhost_test.h"

#define QSZ 16
#define PAGE 4096
#define IOVA_BASE 0x40000000ULL
#define GUEST_SIZE (64 * PAGE)

#ifndef VHOST_BACKEND_F_IOTLB_MSG_V2
#define VHOST_BACKEND_F_IOTLB_MSG_V2 0x1
#endif
#ifndef VIRTIO_F_ACCESS_PLATFORM
#define VIRTIO_F_ACCESS_PLATFORM 33
#endif

/* Page layout of guest memory. */
enum { P_DESC, P_AVAIL = P_DESC + 2, P_USED = P_AVAIL + 2, P_TXBUF = P_USED + 2,
       P_TXBUF2 = P_TXBUF + 1, P_RXBUF = P_TXBUF2 + 1, P_END = P_RXBUF + QSZ };

static uint8_t *g;
static uint8_t logbuf[(GUEST_SIZE / PAGE + 64) / 8 + 4096];
static int vfd, tapfd, ps, errfd[2], kickfd[2], callfd[2];
static struct sockaddr_ll sll;
static int misses;

static uint64_t iova(int page, unsigned int off) { return IOVA_BASE + (uint64_t)page * PAGE + off; }
static void *at(int page, unsigned int off) { return g + (size_t)page * PAGE + off; }
static struct vring_desc *desc(int q) { return at(P_DESC + q, 0); }
static struct vring_avail *avail(int q) { return at(P_AVAIL + q, 0); }
static struct vring_used *used(int q) { return at(P_USED + q, 0); }

/* Writes one IOTLB message (V2); returns write()'s result or -errno. */
static long msg(uint32_t format, uint8_t type, uint64_t iova_, uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m = { .type = format };
	long r;

	m.iotlb.iova = iova_;
	m.iotlb.size = size;
	m.iotlb.uaddr = uaddr;
	m.iotlb.perm = perm;
	m.iotlb.type = type;
	r = write(vfd, &m, sizeof(m));
	return r < 0 ? -errno : r;
}

/* Maps the guest page holding @iova_ with @perm. */
static int map_page(uint64_t iova_, uint8_t perm)
{
	uint64_t p = (iova_ - IOVA_BASE) / PAGE;

	if (iova_ < IOVA_BASE || p >= P_END)
		return -1;
	return msg(VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE, IOVA_BASE + p * PAGE, PAGE,
		   (uintptr_t)g + p * PAGE, perm) == sizeof(struct vhost_msg_v2) ? 0 : -1;
}

/* Answers the misses pending within @ms (each with a page mapping, RW);
 * returns how many, or -1 on a malformed miss. */
static int serve(int ms)
{
	int served = 0;

	for (;;) {
		struct pollfd p = { .fd = vfd, .events = POLLIN };
		struct vhost_msg_v2 m;

		if (poll(&p, 1, ms) != 1)
			return served;
		if (read(vfd, &m, sizeof(m)) != sizeof(m) || m.type != VHOST_IOTLB_MSG_V2 ||
		    m.iotlb.type != VHOST_IOTLB_MISS || map_page(m.iotlb.iova, VHOST_ACCESS_RW)) {
			printf("# bad miss: type %u iotlb.type %u iova 0x%llx\n", m.type, m.iotlb.type,
			       (unsigned long long)m.iotlb.iova);
			return -1;
		}
		served++;
		misses++;
	}
}

static void frame(uint8_t *f, size_t len, int id)
{
	memset(f, 0xff, 6); /* broadcast: the tap takes it either way */
	memcpy(f + 6, "\x02\0\0\0\0\x42", 6);
	f[12] = ETH_P_TEST >> 8;
	f[13] = ETH_P_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(id * 13 + i);
}

/* The wire saw frame @f within 3 s, answering misses meanwhile. */
static int wire_got(const uint8_t *f, size_t len)
{
	uint8_t buf[2048];

	for (int t = 0; t < 30; t++) {
		struct pollfd p = { .fd = ps, .events = POLLIN };

		if (serve(0) < 0)
			return 0;
		if (poll(&p, 1, 100) != 1)
			continue;
		ssize_t r = recv(ps, buf, sizeof(buf), 0);

		if (r == (ssize_t)len && !memcmp(buf, f, len))
			return 1;
	}
	return 0;
}

static void tx(int page, const uint8_t *f, size_t len, uint16_t idx)
{
	memset(at(page, 0), 0, HDR);
	memcpy(at(page, HDR), f, len);
	desc(TX)[idx % QSZ] = (struct vring_desc){ iova(page, 0), HDR + len, 0, 0 };
	avail(TX)->ring[idx % QSZ] = idx % QSZ;
	__atomic_store_n(&avail(TX)->idx, idx + 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	assert(write(kickfd[TX], &one, 8) == 8);
}

/* The used index of ring @q reaches @want within 1 s (the device may
 * publish a moment after the frame left). */
static int used_idx_becomes(int q, uint16_t want)
{
	for (int t = 0; t < 100; t++) {
		if (__atomic_load_n(&used(q)->idx, __ATOMIC_ACQUIRE) == want)
			return 1;
		usleep(10000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char tap[IFNAMSIZ] = "";
	uint64_t f = F_VERSION_1 | (1ULL << VIRTIO_F_ACCESS_PLATFORM) | (1ULL << VHOST_F_LOG_ALL);
	uint64_t bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	uint8_t fr[1514];
	int sz = HDR;

	setvbuf(stdout, NULL, _IOLBF, 0);
	reference = argc > 1 && !strcmp(argv[1], "--reference");
	g = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert(g != MAP_FAILED && P_END <= GUEST_SIZE / PAGE);

	/* The tap, up, and the wire: a packet socket on its interface. */
	tapfd = tap_open(tap);
	assert(tapfd >= 0 && !ioctl(tapfd, TUNSETVNETHDRSZ, &sz));
	assert(!if_up(tap));
	ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_TEST));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_TEST);
	sll.sll_ifindex = if_nametoindex(tap);
	assert(ps >= 0 && sll.sll_ifindex && !bind(ps, (struct sockaddr *)&sll, sizeof(sll)));

	vfd = open("/dev/vhost-net", O_RDWR);
	assert(vfd >= 0);
	assert(!ioctl(vfd, VHOST_SET_OWNER, NULL));
	check(!ioctl(vfd, VHOST_SET_BACKEND_FEATURES, &bf), "SET_BACKEND_FEATURES IOTLB_MSG_V2");
	{
		/* The log covers GPA 0 .. GPA + GUEST_SIZE: bit = gpa / 4096. */
		uint64_t lb = (uintptr_t)logbuf;

		check(!ioctl(vfd, VHOST_SET_LOG_BASE, &lb), "SET_LOG_BASE");
	}
	check(!ioctl(vfd, VHOST_SET_FEATURES, &f), "SET_FEATURES VERSION_1 | ACCESS_PLATFORM | LOG_ALL");
	assert(!set_mem1(vfd, GPA, GUEST_SIZE, g));
	for (int q = 0; q < 2; q++) {
		struct vhost_vring_state st = { .index = q, .num = QSZ };
		/* With ACCESS_PLATFORM ring addresses are IOVAs too. */
		struct vhost_vring_addr a = { .index = q, .desc_user_addr = iova(P_DESC + q, 0),
			.avail_user_addr = iova(P_AVAIL + q, 0), .used_user_addr = iova(P_USED + q, 0),
			.flags = 1 << VHOST_VRING_F_LOG, .log_guest_addr = GPA + (P_USED + q) * PAGE };
		struct vhost_vring_file vf = { .index = q };

		assert(!ioctl(vfd, VHOST_SET_VRING_NUM, &st));
		st.num = 0;
		assert(!ioctl(vfd, VHOST_SET_VRING_BASE, &st));
		assert(!ioctl(vfd, VHOST_SET_VRING_ADDR, &a));
		kickfd[q] = eventfd(0, EFD_NONBLOCK);
		callfd[q] = eventfd(0, EFD_NONBLOCK);
		errfd[q] = eventfd(0, EFD_NONBLOCK);
		vf.fd = kickfd[q];
		assert(!ioctl(vfd, VHOST_SET_VRING_KICK, &vf));
		vf.fd = callfd[q];
		assert(!ioctl(vfd, VHOST_SET_VRING_CALL, &vf));
		vf.fd = errfd[q];
		assert(!ioctl(vfd, VHOST_SET_VRING_ERR, &vf));
	}

	/* Message channel errors (nothing mapped by them). */
	check(msg(VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE, iova(0, 0), 0, (uintptr_t)g, VHOST_ACCESS_RW) == -EINVAL,
	      "UPDATE of size 0 is EINVAL");
	check(msg(VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE, iova(0, 0), PAGE, 0xffff800000000000ULL, VHOST_ACCESS_RW) == -EFAULT,
	      "UPDATE of a kernel address is EFAULT");
	check(msg(VHOST_IOTLB_MSG_V2, VHOST_IOTLB_INVALIDATE, iova(0, 0), 0, 0, 0) == -EFAULT,
	      "INVALIDATE of size 0 is EFAULT");
	check(msg(VHOST_IOTLB_MSG_V2, VHOST_IOTLB_MISS, iova(0, 0), PAGE, (uintptr_t)g, VHOST_ACCESS_RW) == -EFAULT,
	      "a MISS written by userspace is EFAULT");
	check(msg(3, VHOST_IOTLB_UPDATE, iova(0, 0), PAGE, (uintptr_t)g, VHOST_ACCESS_RW) == -EINVAL,
	      "an unknown message format is EINVAL");
	{
		uint8_t small[16];

		check(read(vfd, small, sizeof(small)) == 0, "a read shorter than a message returns 0");
	}
	{
		struct pollfd p = { .fd = vfd, .events = POLLIN };

		check(poll(&p, 1, 0) == 0, "poll: no miss pending yet");
	}

	/* NET_SET_BACKEND needs the used ring mapped: EFAULT plus a miss. */
	{
		struct vhost_vring_file vf = { .index = TX, .fd = tapfd };
		struct pollfd p = { .fd = vfd, .events = POLLIN };
		struct vhost_msg_v2 m;
		int r = ioctl(vfd, VHOST_NET_SET_BACKEND, &vf);

		check(r == -1 && errno == EFAULT, "NET_SET_BACKEND with the used ring unmapped is EFAULT");
		check(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "poll: the miss is announced (POLLIN)");
		check(read(vfd, &m, sizeof(m)) == sizeof(m), "the miss reads as one 72-byte message");
		check(m.type == VHOST_IOTLB_MSG_V2 && m.iotlb.type == VHOST_IOTLB_MISS, "it is a V2 VHOST_IOTLB_MISS");
		/* Upstream translates the flags write with read access
		 * (__vhost_get_user_slow), so the miss says RO. */
		check(m.iotlb.iova == iova(P_USED + TX, 0) && m.iotlb.perm == VHOST_ACCESS_RO,
		      "for the used ring's first byte (perm RO, as upstream)");
		check(map_page(m.iotlb.iova, VHOST_ACCESS_RW) == 0, "UPDATE answers it (72 bytes written)");
		check(!ioctl(vfd, VHOST_NET_SET_BACKEND, &vf), "NET_SET_BACKEND TX once mapped");
		check(map_page(iova(P_USED + RX, 0), VHOST_ACCESS_RW) == 0, "UPDATE the RX used ring");
		vf.index = RX;
		check(!ioctl(vfd, VHOST_NET_SET_BACKEND, &vf), "NET_SET_BACKEND RX");
	}

	/* TX through misses. */
	frame(fr, 1514, 1);
	tx(P_TXBUF, fr, 1514, 0);
	check(wire_got(fr, 1514), "TX: the frame leaves byte for byte once the misses are answered");
	printf("# misses answered so far: %d\n", misses);
	check(misses >= 3, "TX missed on the rings and the buffer (>= 3 misses)");
	check(used_idx_becomes(TX, 1), "TX used index 1");

	/* RX through misses. */
	for (int i = 0; i < QSZ; i++) {
		desc(RX)[i] = (struct vring_desc){ iova(P_RXBUF + i, 0), 2048, VRING_DESC_F_WRITE, 0 };
		avail(RX)->ring[i] = i;
	}
	__atomic_store_n(&avail(RX)->idx, QSZ, __ATOMIC_RELEASE);
	{
		uint64_t one = 1;
		int got = 0;

		assert(write(kickfd[RX], &one, 8) == 8);
		frame(fr, 1000, 2);
		check(sendto(ps, fr, 1000, 0, (struct sockaddr *)&sll, sizeof(sll)) == 1000, "the wire sends a frame");
		for (int t = 0; t < 30 && !got; t++) {
			serve(100);
			uint16_t u = __atomic_load_n(&used(RX)->idx, __ATOMIC_ACQUIRE);

			for (uint16_t i = 0; i < u && i < QSZ; i++) {
				struct vring_used_elem e = used(RX)->ring[i];

				if (e.id < QSZ && e.len == HDR + 1000 && !memcmp(at(P_RXBUF + e.id, HDR), fr, 1000))
					got = 1;
			}
		}
		check(got, "RX: the frame lands in the guest buffer behind the header");
		/* Which buffer it took: the first used entry with our frame. */
		int logged = 0, buf = -1;

		for (uint16_t i = 0; i < QSZ; i++) {
			struct vring_used_elem e = used(RX)->ring[i];

			if (e.id < QSZ && e.len == HDR + 1000 && !memcmp(at(P_RXBUF + e.id, HDR), fr, 1000)) {
				buf = e.id;
				break;
			}
		}
		if (buf >= 0) {
			uint64_t pfn = (GPA + (uint64_t)(P_RXBUF + buf) * PAGE) / PAGE;
			uint64_t upfn = (GPA + (uint64_t)(P_USED + RX) * PAGE) / PAGE;

			logged = (logbuf[pfn / 8] >> (pfn % 8)) & 1;
			check(logged, "RX buffer's guest page is marked in the dirty log");
			check((logbuf[upfn / 8] >> (upfn % 8)) & 1, "RX used ring's guest page is marked too");
		} else {
			check(0, "RX buffer found for the dirty-log check");
		}
	}

	/* INVALIDATE: the next use of the page misses exactly it. */
	check(msg(VHOST_IOTLB_MSG_V2, VHOST_IOTLB_INVALIDATE, iova(P_TXBUF, 0), PAGE, 0, 0) == sizeof(struct vhost_msg_v2),
	      "INVALIDATE the TX buffer page");
	{
		struct pollfd p = { .fd = vfd, .events = POLLIN };
		struct vhost_msg_v2 m;

		frame(fr, 1514, 3);
		tx(P_TXBUF, fr, 1514, 1);
		check(poll(&p, 1, 3000) == 1 && read(vfd, &m, sizeof(m)) == sizeof(m) &&
		      m.iotlb.type == VHOST_IOTLB_MISS && m.iotlb.iova == iova(P_TXBUF, 0) &&
		      m.iotlb.perm == VHOST_ACCESS_RO, "the next TX misses the invalidated page (device read)");
		check(map_page(m.iotlb.iova, VHOST_ACCESS_RW) == 0, "mapped again");
		check(wire_got(fr, 1514), "and the frame leaves");
	}

	/* A write-only mapping cannot be read by the device. */
	check(msg(VHOST_IOTLB_MSG_V2, VHOST_IOTLB_UPDATE, iova(P_TXBUF2, 0), PAGE, (uintptr_t)at(P_TXBUF2, 0),
		  VHOST_ACCESS_WO) == sizeof(struct vhost_msg_v2), "UPDATE a page write-only");
	frame(fr, 1514, 4);
	tx(P_TXBUF2, fr, 1514, 2);
	check(signalled(errfd[TX], 3000), "TX from it: the ring's error eventfd fires");
	check(!wire_got(fr, 1514), "and nothing goes out");
	check(__atomic_load_n(&used(TX)->idx, __ATOMIC_ACQUIRE) == 2, "the buffer is not completed");

	if (!reference) {
		/* One counted miss per message read (the TX ring's include the
		 * used ring's at NET_SET_BACKEND and the invalidated page). */
		long long rxm = zc_counter("rx_iotlb_misses"), txm = zc_counter("tx_iotlb_misses");

		printf("# iotlb misses counted: rx %lld tx %lld, answered %d (+2 outside serve())\n", rxm, txm, misses);
		check(rxm >= 0 && txm >= 0 && rxm + txm == misses + 2, "vhost_zc counts every miss it queued");
	}
	close(vfd);
	return checks_failed();
}
