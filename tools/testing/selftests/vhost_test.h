/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the vhost C selftests share (vhost_abi, vhost_backends, vhost_hostile,
 * vhost_iotlb, vhost_race): the headers, the ring and device constants, the
 * TAP-style check counters, a tap, one-region memory tables, split-ring
 * layouts and vhost_zc's counters (vzc_counters.h). A test is one program
 * run twice: with --reference against stock vhost_net (proving the
 * expectations), then against vhost_zc; `reference` says which.
 *
 * Output: "ok N - what" / "not ok N - what"; a test ends with a summary line
 * and exits 1 if any check failed. run.sh compiles each C file of
 * tools/testing/selftests on its own (statically, in the build root); this
 * header is found beside it.
 */
#ifndef VHOST_TEST_H
#define VHOST_TEST_H

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_ring.h>
#include <net/if.h>

#include "vzc_counters.h"

/* Ring indices of a vhost-net device. */
#define RX 0
#define TX 1
/* The vnet header: virtio_net_hdr_mrg_rxbuf, as with VERSION_1. */
#define HDR 12
/* Where guest memory starts in guest-physical space. */
#define GPA 0x100000ULL
/* VIRTIO_F_VERSION_1, the feature every test sets. */
#define F_VERSION_1 (1ULL << 32)
/* The EtherType of the tests' own frames (IEEE local experimental). */
#define ETH_P_TEST 0x88b5

/* --reference: against stock vhost_net. Checks run, checks failed. */
static int reference, failed, n;

/* One TAP-style check: "ok N - what" or "not ok N - what". */
static inline void check(int ok, const char *what)
{
	n++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n, what);
	failed += !ok;
}

/*
 * An errno check: @got and @want are 0 or an errno; a mismatch names both
 * ("not ok N - what: got X (text), want Y (text)").
 */
static inline void check_errno(int got, int want, const char *what)
{
	n++;
	if (got == want) {
		printf("ok %d - %s\n", n, what);
	} else {
		printf("not ok %d - %s: got %d (%s), want %d (%s)\n", n, what, got,
		       got > 0 ? strerror(got) : "", want, want > 0 ? strerror(want) : "");
		failed++;
	}
}

/* The test's verdict: "<checks> passed, <failed> failed"; exit status 1 if any failed. */
static inline int passed_failed(void)
{
	printf("%d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}

/* The same as "<checks> checks, <failed> failed". */
static inline int checks_failed(void)
{
	printf("%d checks, %d failed\n", n, failed);
	return failed ? 1 : 0;
}

/*
 * A tap (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) on /dev/net/tun, or -1. @name:
 * NULL or "" lets the kernel name it; otherwise (at least IFNAMSIZ bytes)
 * the name asked for on the way in and the name given on the way out.
 */
static inline int tap_open(char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int t = open("/dev/net/tun", O_RDWR);

	if (name)
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (t < 0 || ioctl(t, TUNSETIFF, &ifr))
		return -1;
	if (name)
		memcpy(name, ifr.ifr_name, IFNAMSIZ);
	return t;
}

/* Interface @name up (so frames sent into it reach the stack); 0 or -1. */
static inline int if_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0), r;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	r = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	r = r ? r : ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return r ? -1 : 0;
}

/* VHOST_SET_MEM_TABLE with one region: @size bytes at @uaddr seen at guest
 * address @gpa. ioctl()'s result. */
static inline int set_mem1(int fd, uint64_t gpa, uint64_t size, void *uaddr)
{
	struct { struct vhost_memory m; struct vhost_memory_region reg; } mem = { 0 };

	mem.m.nregions = 1;
	mem.reg.guest_phys_addr = gpa;
	mem.reg.memory_size = size;
	mem.reg.userspace_addr = (uintptr_t)uaddr;
	return ioctl(fd, VHOST_SET_MEM_TABLE, &mem);
}

/* Waits up to @ms for eventfd @fd to fire and consumes it. */
static inline int signalled(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v;

	return poll(&p, 1, ms) == 1 && read(fd, &v, 8) == 8;
}

/* The avail and used rings of a split virtqueue of @q entries, as a guest lays them out. */
#define VRING_AVAIL(q) struct { uint16_t flags, idx, ring[q], used_event; }
#define VRING_USED(q) \
	struct { uint16_t flags, idx; struct vring_used_elem ring[q]; uint16_t avail_event; }

/*
 * The members of a split virtqueue of @q entries in two 4 KiB pages: the
 * descriptor table and the avail ring in the first, the used ring at the
 * start of the second (q <= 168).
 */
#define VRING_PAGES(q) \
	struct vring_desc desc[q]; \
	VRING_AVAIL(q) avail; \
	uint8_t pad[4096 - (q) * 16 - 2 * ((q) + 3)]; \
	VRING_USED(q) used

#endif
