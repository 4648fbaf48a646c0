// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_race: the guest moves its ring indices while the device reads them,
 * and reads the used index while the device writes it. Each index must be
 * read and written with one 16-bit access: a byte-wise copy can combine the
 * old low byte with the new high one (0x01ff -> 0x0200 read as 0x02ff). On
 * the avail side that is an index 255 ahead of the truth: heads the guest
 * never published, or (as here, where the ring is smaller) an "avail index
 * jump" that breaks the ring. On the used side the guest sees entries that
 * were never written.
 *
 * This process is the guest: a TX ring of QSZ 60-byte frames into a tap that
 * is up, busy polling on (the device reads the avail index in a loop). Each
 * buffer is posted again as soon as it is used, one avail index store per
 * buffer, for --seconds S. Checks: the error eventfd never fires, the used
 * index never moves by more than QSZ, every used id is a buffer in flight,
 * and enough buffers went round for the index to carry into its high byte
 * many times. --reference: against stock vhost_net (which uses
 * __get_user/__put_user); otherwise vhost_zc's tx_packets and tx_errors must
 * agree. TAP-style output; exit status 0 if all checks passed.
 */
#define _GNU_SOURCE
#include <time.h>

#include "vhost_test.h"

/* Smaller than 255: any torn avail read is a jump the device must report. */
#define QSZ 64
#define FRAME 60

struct guest {
	VRING_PAGES(QSZ);
	uint8_t pad2[4096 - 4 - 8 * QSZ - 2];
	uint8_t buf[QSZ][HDR + FRAME];
};

static struct guest *g;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* A tap named vrace0, up (frames from the guest reach the stack and are
 * dropped there: they are addressed to nobody). */
static int tap_up(void)
{
	char name[IFNAMSIZ] = "vrace0";
	int hdr = HDR, t = tap_open(name);

	assert(t >= 0);
	assert(!ioctl(t, TUNSETVNETHDRSZ, &hdr));
	assert(!if_up(name));
	return t;
}

int main(int argc, char **argv)
{
	uint64_t f = F_VERSION_1, one = 1;
	double seconds = 15, end;
	unsigned int busy_us = 50;
	int fd, tap, kick, errfd, broke = 0, jumped = 0, stray = 0;
	uint16_t avail = 0, last_used = 0, bad_idx = 0, seen = 0;
	uint8_t inflight[QSZ];
	long long done = 0, kicks = 0, tx0 = 0, err0 = 0;
	char what[200];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reference"))
			reference = 1;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--busy-poll") && i + 1 < argc)
			busy_us = atoi(argv[++i]);
		else
			return fprintf(stderr, "usage: %s [--reference] [--seconds S] [--busy-poll US]\n", argv[0]), 2;
	}
	g = aligned_alloc(4096, (sizeof(*g) + 4095) & ~4095UL);
	assert(g);
	memset(g, 0, sizeof(*g));
	for (int i = 0; i < QSZ; i++) {
		uint8_t *fr = g->buf[i] + HDR;

		/* Unicast to an address nobody has, from a local one. */
		memcpy(fr, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x88\xb5", 14);
		g->desc[i] = (struct vring_desc){ GPA + (uint64_t)(g->buf[i] - (uint8_t *)g), HDR + FRAME, 0, 0 };
	}

	tap = tap_up();
	fd = open("/dev/vhost-net", O_RDWR);
	assert(fd >= 0);
	assert(!ioctl(fd, VHOST_SET_OWNER, NULL));
	assert(!ioctl(fd, VHOST_SET_FEATURES, &f));
	assert(!set_mem1(fd, GPA, sizeof(*g), g));
	{
		struct vhost_vring_state s = { .index = TX, .num = QSZ };
		struct vhost_vring_addr a = {
			.index = TX, .desc_user_addr = (uintptr_t)g->desc,
			.avail_user_addr = (uintptr_t)&g->avail, .used_user_addr = (uintptr_t)&g->used,
		};
		struct vhost_vring_file vf = { .index = TX };

		assert(!ioctl(fd, VHOST_SET_VRING_NUM, &s));
		s.num = 0;
		assert(!ioctl(fd, VHOST_SET_VRING_BASE, &s));
		assert(!ioctl(fd, VHOST_SET_VRING_ADDR, &a));
		kick = eventfd(0, EFD_NONBLOCK);
		errfd = eventfd(0, EFD_NONBLOCK);
		vf.fd = kick;
		assert(!ioctl(fd, VHOST_SET_VRING_KICK, &vf));
		vf.fd = errfd;
		assert(!ioctl(fd, VHOST_SET_VRING_ERR, &vf));
		s.num = busy_us;
		assert(!ioctl(fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &s));
		vf.fd = tap;
		assert(!ioctl(fd, VHOST_NET_SET_BACKEND, &vf));
	}
	if (!reference) {
		tx0 = zc_counter("tx_packets");
		err0 = zc_counter("tx_errors");
	}

	/* Post every buffer, one index store each, then go round. */
	for (int i = 0; i < QSZ; i++) {
		g->avail.ring[i] = i;
		inflight[i] = 1;
		__atomic_store_n(&g->avail.idx, ++avail, __ATOMIC_RELEASE);
	}
	assert(write(kick, &one, 8) == 8);
	end = now() + seconds;
	for (unsigned int idle = 0;;) {
		uint16_t u = __atomic_load_n(&g->used.idx, __ATOMIC_ACQUIRE);
		uint16_t d = u - last_used;

		if (d > QSZ) {
			jumped = 1;
			bad_idx = u;
			break;
		}
		for (; d; d--) {
			struct vring_used_elem e = g->used.ring[last_used % QSZ];

			last_used++;
			if (e.id >= QSZ || !inflight[e.id]) {
				stray = 1;
				bad_idx = (uint16_t)e.id;
				break;
			}
			done++;
			g->avail.ring[avail % QSZ] = e.id;
			__atomic_store_n(&g->avail.idx, ++avail, __ATOMIC_RELEASE);
		}
		if (stray)
			break;
		/* No event index, and the device may sleep once its busy-poll
		 * window ends: kick after 1024 turns without progress (kicking
		 * more often only makes both sides slower). */
		if (u != seen) {
			seen = u;
			idle = 0;
		}
		if (++idle >= 1024) {
			idle = 0;
			uint64_t v;

			if (read(errfd, &v, 8) == 8) {
				broke = 1;
				break;
			}
			if (now() > end)
				break;
			kicks += write(kick, &one, 8) == 8;
		}
	}

	snprintf(what, sizeof(what), "error eventfd silent (%lld buffers round, %lld index carries, %lld kicks)",
		 done, done / 256, kicks);
	check(!broke, what);
	if (jumped)
		snprintf(what, sizeof(what), "used index never moved by more than %d (it went from %u to %u)",
			 QSZ, last_used, bad_idx);
	else
		snprintf(what, sizeof(what), "used index never moved by more than %d", QSZ);
	check(!jumped, what);
	if (stray)
		snprintf(what, sizeof(what), "every used id was in flight (not id %u)", bad_idx);
	else
		snprintf(what, sizeof(what), "every used id was in flight");
	check(!stray, what);
	/* Carries of the 16-bit index: each is a chance to tear (the
	 * byte-wise copy tore within 172 of them under TCG). */
	snprintf(what, sizeof(what), "at least 20 index carries (%lld buffers round)", done);
	check(done >= 20 * 256, what);
	if (!reference) {
		snprintf(what, sizeof(what), "tx_packets counted them (+%lld, >= %lld)",
			 zc_counter("tx_packets") - tx0, done);
		check(zc_counter("tx_packets") - tx0 >= done, what);
		snprintf(what, sizeof(what), "no tx_errors (+%lld)", zc_counter("tx_errors") - err0);
		check(zc_counter("tx_errors") == err0, what);
	}
	close(fd);
	close(tap);
	return passed_failed();
}
