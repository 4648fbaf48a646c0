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
#include "vhost_test.h"

#define QSZ 4
#define GUEST_SIZE (64 * 1024)

struct ring {
	struct vring_desc desc[QSZ];
	struct vring_desc ind[4];
	uint8_t pad[4096 - QSZ * 16 - 64];
	VRING_AVAIL(QSZ) avail;
	uint8_t pad2[4096 - 2 * (QSZ + 3)];
	VRING_USED(QSZ) used;
};

static uint8_t *guest; /* guest memory: GPA 0x100000 = guest[0] */

/* One device with a TX ring at @r on a fresh tap; returns the vhost fd. */
static int setup(struct ring *r, int *errfd, int *kick, int *tap)
{
	uint64_t f = F_VERSION_1;
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
	assert(!set_mem1(fd, GPA, GUEST_SIZE, guest));
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
	*tap = tap_open(NULL);
	assert(*tap >= 0);
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

	return passed_failed();
}
