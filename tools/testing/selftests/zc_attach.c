// SPDX-License-Identifier: GPL-2.0-only
/*
 * zc_attach: a bound port follows the vhost-net devices that use its tap.
 * This process is the VMM: it opens /dev/vhost-net, sets up both rings
 * and names a tap as their backend, then asks zcctl what the port says
 * (`zcctl show -j TAP`: rings, mode, copy_reason) after each step:
 * SET_BACKEND on RX and TX, SET_BACKEND(-1), features renegotiated to a
 * 10-byte header and back, a second device's tap bound on the fly, the
 * device closed. With every precondition met the reason is `unsupported`
 * (the zero-copy data path is not merged yet; Documentation/zero-copy.rst).
 *
 *   zc_attach TAP0 TAP1 VF1   TAP0: bound to a VF; TAP1: unbound; VF1: free
 *
 * The taps exist (ip tuntap); the program attaches to them by name.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/mman.h>

#include "vhost_test.h"

#define QSZ 16
#define GUEST_SIZE (1 << 20)

struct vring_mem {
	VRING_PAGES(QSZ);
};

static uint8_t *mem;

struct dev {
	int fd, tap;
};

/* A device with both rings set up in its own part of guest memory. */
static void dev_open(struct dev *d, int part, const char *tap, uint64_t features)
{
	struct vring_mem *vr = (struct vring_mem *)(mem + part * 2 * sizeof(struct vring_mem));
	char name[IFNAMSIZ];

	d->fd = open("/dev/vhost-net", O_RDWR);
	assert(d->fd >= 0);
	assert(!ioctl(d->fd, VHOST_SET_OWNER, NULL));
	assert(!ioctl(d->fd, VHOST_SET_FEATURES, &features));
	assert(!set_mem1(d->fd, GPA, GUEST_SIZE, mem));
	for (int q = 0; q < 2; q++) {
		struct vhost_vring_state s = { .index = q, .num = QSZ };
		struct vhost_vring_addr a = {
			.index = q, .desc_user_addr = (uintptr_t)vr[q].desc,
			.avail_user_addr = (uintptr_t)&vr[q].avail,
			.used_user_addr = (uintptr_t)&vr[q].used,
		};
		assert(!ioctl(d->fd, VHOST_SET_VRING_NUM, &s));
		s.num = 0;
		assert(!ioctl(d->fd, VHOST_SET_VRING_BASE, &s));
		assert(!ioctl(d->fd, VHOST_SET_VRING_ADDR, &a));
	}
	snprintf(name, sizeof(name), "%s", tap);
	d->tap = tap_open(name);
	assert(d->tap >= 0);
	assert(!strcmp(name, tap));
}

static int set_backend(struct dev *d, int q, int fd)
{
	struct vhost_vring_file f = { .index = q, .fd = fd };

	return ioctl(d->fd, VHOST_NET_SET_BACKEND, &f);
}

/* `zcctl show -j TAP` contains every one of the NULL-terminated KEYS. */
static void port_says(const char *what, const char *tap, ...)
{
	char cmd[64], out[2048] = "";
	const char *want;
	size_t got = 0;
	va_list ap;
	FILE *p;
	int ok = 1;

	snprintf(cmd, sizeof(cmd), "zcctl show -j %s", tap);
	p = popen(cmd, "r");
	assert(p);
	got = fread(out, 1, sizeof(out) - 1, p);
	out[got] = 0;
	if (pclose(p))
		ok = 0;
	va_start(ap, tap);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(out, want)) {
			printf("# %s: no %s\n", what, want);
			ok = 0;
		}
	va_end(ap);
	if (!ok)
		printf("# zcctl show -j %s: %s", tap, out);
	check(ok, what);
}

int main(int argc, char **argv)
{
	const uint64_t v1 = F_VERSION_1;
	const uint64_t legacy = 0;	/* 10-byte header: no zero-copy layout */
	char cmd[128];
	struct dev a, b;

	(void)reference;	/* vhost_zc only: stock vhost_net has no ports */
	if (argc != 4) {
		fprintf(stderr, "usage: zc_attach TAP0 TAP1 VF1\n");
		return 2;
	}
	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert(mem != MAP_FAILED);

	dev_open(&a, 0, argv[1], v1);
	port_says("set up, no backend yet: detached", argv[1], "\"rings\":0",
		  "\"copy_reason\":\"detached\"", NULL);
	check(!set_backend(&a, RX, a.tap), "SET_BACKEND RX");
	port_says("RX ring attached", argv[1], "\"rings\":1", "\"copy_reason\":\"unsupported\"", NULL);
	check(!set_backend(&a, TX, a.tap), "SET_BACKEND TX");
	port_says("both rings attached", argv[1], "\"rings\":2", "\"mode\":\"copy\"",
		  "\"copy_reason\":\"unsupported\"", NULL);
	/* The same backend again replaces it: still two rings, not three. */
	check(!set_backend(&a, TX, a.tap), "SET_BACKEND TX again");
	port_says("a backend set twice counts once", argv[1], "\"rings\":2", NULL);

	check(!ioctl(a.fd, VHOST_SET_FEATURES, &legacy), "SET_FEATURES without VERSION_1");
	port_says("10-byte header: features", argv[1], "\"rings\":2", "\"copy_reason\":\"features\"",
		  NULL);
	check(!ioctl(a.fd, VHOST_SET_FEATURES, &v1), "SET_FEATURES VERSION_1");
	port_says("12-byte header again", argv[1], "\"copy_reason\":\"unsupported\"", NULL);

	check(!set_backend(&a, TX, -1), "SET_BACKEND TX -1");
	port_says("TX detached", argv[1], "\"rings\":1", NULL);

	/* A running device's tap bound on the fly. */
	dev_open(&b, 1, argv[2], v1);
	check(!set_backend(&b, RX, b.tap) && !set_backend(&b, TX, b.tap), "second device attached");
	snprintf(cmd, sizeof(cmd), "zcctl bind %s %s", argv[2], argv[3]);
	check(!system(cmd), cmd);
	port_says("bound while running: attached at once", argv[2], "\"rings\":2",
		  "\"copy_reason\":\"unsupported\"", NULL);
	close(b.fd);
	port_says("second device closed", argv[2], "\"rings\":0", "\"copy_reason\":\"detached\"",
		  NULL);
	snprintf(cmd, sizeof(cmd), "zcctl unbind %s", argv[2]);
	check(!system(cmd), cmd);

	/* The tap fd outlives the device: only the device's rings count. */
	close(a.fd);
	port_says("device closed", argv[1], "\"rings\":0", "\"copy_reason\":\"detached\"", NULL);
	close(a.tap);
	close(b.tap);
	return passed_failed();
}
