// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_hostile: a guest that breaks its TX ring on purpose, one way per
 * case. The device must report each on the ring's error eventfd and must not
 * complete the bad buffer; the host must stay healthy (the VM harness fails
 * the run on any kernel splat). Run against stock vhost_net (--reference)
 * first to prove the expectations, then against vhost_zc, which must also
 * count the error in /sys/kernel/vhost_zc/devices/<dev>/tx_errors.
 */
#define _GNU_SOURCE
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
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_ring.h>
#include <net/if.h>

#include "vzc_counters.h"

#define QSZ 4
#define TX 1

struct ring {
	struct vring_desc desc[QSZ];
	struct vring_desc ind[4];
	uint8_t pad[4096 - QSZ * 16 - 64];
	struct { uint16_t flags, idx, ring[QSZ], used_event; } avail;
	uint8_t pad2[4096 - 2 * (QSZ + 3)];
	struct { uint16_t flags, idx; struct vring_used_elem ring[QSZ]; uint16_t avail_event; } used;
};

static int reference, failed, n;
static uint8_t *guest; /* guest memory: GPA 0x100000 = guest[0] */
#define GPA 0x100000ULL
#define GUEST_SIZE (64 * 1024)

static void check(int ok, const char *what)
{
	n++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n, what);
	failed += !ok;
}

/* One device with a TX ring at @r on a fresh tap; returns the vhost fd. */
static int setup(struct ring *r, int *errfd, int *kick, int *tap)
{
	struct { struct vhost_memory m; struct vhost_memory_region reg; } mem = { 0 };
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	uint64_t f = 1ULL << 32; /* VERSION_1 */
	int fd = open("/dev/vhost-net", O_RDWR);
	struct vhost_vring_state s = { .index = TX, .num = QSZ };
	struct vhost_vring_addr a = {
		.index = TX, .desc_user_addr = (uintptr_t)r->desc,
		.avail_user_addr = (uintptr_t)&r->avail, .used_user_addr = (uintptr_t)&r->used,
	};
	struct vhost_vring_file vf = { .index = TX };

	assert(fd >= 0);
	assert(!ioctl(fd, VHOST_SET_OWNER, NULL));
	assert(!ioctl(fd, VHOST_SET_FEATURES, &f));
	mem.m.nregions = 1;
	mem.reg.guest_phys_addr = GPA;
	mem.reg.memory_size = GUEST_SIZE;
	mem.reg.userspace_addr = (uintptr_t)guest;
	assert(!ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	assert(!ioctl(fd, VHOST_SET_VRING_NUM, &s));
	s.num = 0;
	assert(!ioctl(fd, VHOST_SET_VRING_BASE, &s));
	assert(!ioctl(fd, VHOST_SET_VRING_ADDR, &a));
	*kick = eventfd(0, EFD_NONBLOCK);
	*errfd = eventfd(0, EFD_NONBLOCK);
	vf.fd = *kick;
	assert(!ioctl(fd, VHOST_SET_VRING_KICK, &vf));
	vf.fd = *errfd;
	assert(!ioctl(fd, VHOST_SET_VRING_ERR, &vf));
	*tap = open("/dev/net/tun", O_RDWR);
	assert(*tap >= 0 && !ioctl(*tap, TUNSETIFF, &ifr));
	vf.fd = *tap;
	assert(!ioctl(fd, VHOST_NET_SET_BACKEND, &vf));
	return fd;
}

static void desc(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/*
 * Runs one case: @fill lays out the hostile ring, then the guest kicks. The
 * error eventfd must fire within 3 s and no used entry may appear.
 */
static void run(const char *name, void (*fill)(struct ring *r))
{
	struct ring *r = aligned_alloc(4096, sizeof(*r));
	int errfd, kick, tap, fd;
	uint64_t one = 1;
	struct pollfd p;
	char what[160];
	long long e0;

	memset(r, 0, sizeof(*r));
	fd = setup(r, &errfd, &kick, &tap);
	e0 = reference ? 0 : zc_counter("tx_errors");
	fill(r);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	assert(write(kick, &one, sizeof(one)) == sizeof(one));
	p = (struct pollfd){ .fd = errfd, .events = POLLIN };
	snprintf(what, sizeof(what), "%s: error eventfd signalled", name);
	check(poll(&p, 1, 3000) == 1, what);
	snprintf(what, sizeof(what), "%s: nothing completed (used idx %u)", name, r->used.idx);
	check(r->used.idx == 0, what);
	if (!reference) {
		snprintf(what, sizeof(what), "%s: counted in tx_errors", name);
		check(zc_counter("tx_errors") == e0 + 1, what);
	}
	close(fd);
	close(tap);
	close(kick);
	close(errfd);
	free(r);
}

static void publish(struct ring *r, uint16_t head, uint16_t idx)
{
	r->avail.ring[0] = head;
	r->avail.idx = idx;
}

static void loop(struct ring *r)
{
	desc(&r->desc[0], GPA, 64, VRING_DESC_F_NEXT, 1);
	desc(&r->desc[1], GPA + 64, 64, VRING_DESC_F_NEXT, 0);
	publish(r, 0, 1);
}

static void unmapped(struct ring *r)
{
	desc(&r->desc[0], 0x40000000, 64, 0, 0);
	publish(r, 0, 1);
}

static void overflow(struct ring *r)
{
	desc(&r->desc[0], GPA + GUEST_SIZE - 8, 0xffffffff, 0, 0);
	publish(r, 0, 1);
}

static void nested_indirect(struct ring *r)
{
	/* The indirect table lives in guest memory at GPA + 4096. */
	struct vring_desc *t = (struct vring_desc *)(guest + 4096);

	desc(&t[0], GPA + 8192, 4096, VRING_DESC_F_INDIRECT, 0);
	desc(&r->desc[0], GPA + 4096, 16, VRING_DESC_F_INDIRECT, 0);
	publish(r, 0, 1);
}

static void head_out_of_range(struct ring *r)
{
	publish(r, QSZ + 3, 1);
}

static void avail_jump(struct ring *r)
{
	desc(&r->desc[0], GPA, 64, 0, 0);
	publish(r, 0, QSZ + 1);
}

static void writable_tx(struct ring *r)
{
	desc(&r->desc[0], GPA, 64, VRING_DESC_F_WRITE, 0);
	publish(r, 0, 1);
}

static void next_out_of_range(struct ring *r)
{
	desc(&r->desc[0], GPA, 64, VRING_DESC_F_NEXT, 200);
	publish(r, 0, 1);
}

int main(int argc, char **argv)
{
	reference = argc > 1 && !strcmp(argv[1], "--reference");
	guest = aligned_alloc(4096, GUEST_SIZE);
	memset(guest, 0, GUEST_SIZE);

	run("descriptor loop", loop);
	run("buffer outside guest memory", unmapped);
	run("buffer length runs past guest memory", overflow);
	run("nested indirect table", nested_indirect);
	run("head index beyond the ring", head_out_of_range);
	run("next index beyond the ring", next_out_of_range);
	run("avail index moved by more than the ring size", avail_jump);
	run("device-writable buffer on TX", writable_tx);

	printf("%d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
