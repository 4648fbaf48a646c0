// SPDX-License-Identifier: GPL-2.0-only
/*
 * zc_attach: a bound port follows the vhost-net devices that use its tap,
 * and a device holds its guest memory pinned while its port wants it.
 * This process is the VMM: it opens /dev/vhost-net, sets up both rings
 * and names a tap as their backend, then asks zcctl what the port says
 * (`zcctl show -j TAP`: rings, mode, copy_reason, pinned_pages,
 * memlock_bytes) and reads its own VmPin and VmLck after each step:
 * SET_BACKEND on RX and TX, SET_BACKEND(-1), features renegotiated to a
 * 10-byte header and back, the VF unbound and rebound, a second device's
 * tap bound and unbound on the fly, RLIMIT_MEMLOCK too small without
 * CAP_IPC_LOCK, the device closed. With every precondition met the reason
 * is `unsupported` (the zero-copy data path is not merged yet;
 * Documentation/zero-copy.rst).
 *
 *   zc_attach TAP0 TAP1 VF0 VF1   TAP0: bound to VF0; TAP1: unbound; VF1: free
 *
 * The taps exist (ip tuntap); the program attaches to them by name.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "vhost_test.h"

#define QSZ 16
#define GUEST_SIZE (1 << 20)
#define GUEST_PAGES "256"	/* GUEST_SIZE in 4 KiB pages */
#define DRV "/sys/bus/pci/drivers/vhost_zc_vf/"

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

/* `zcctl show -j TAP` into @out; whether it contains every key of @ap. */
static int port_has(const char *tap, char *out, size_t size, va_list ap)
{
	char cmd[64];
	const char *want;
	size_t got;
	FILE *p;
	int ok = 1;

	snprintf(cmd, sizeof(cmd), "zcctl show -j %s", tap);
	p = popen(cmd, "r");
	assert(p);
	got = fread(out, 1, size - 1, p);
	out[got] = 0;
	if (pclose(p))
		ok = 0;
	while ((want = va_arg(ap, const char *)))
		if (!strstr(out, want))
			ok = 0;
	return ok;
}

/*
 * The port of @tap says every one of the NULL-terminated keys, within @ms
 * (0: at once; the worker applies control-plane changes asynchronously).
 */
static void port_says_within(int ms, const char *what, const char *tap, ...)
{
	char out[2048];
	va_list ap;
	int ok;

	for (;;) {
		va_start(ap, tap);
		ok = port_has(tap, out, sizeof(out), ap);
		va_end(ap);
		if (ok || ms <= 0)
			break;
		usleep(50 * 1000);
		ms -= 50;
	}
	if (!ok)
		printf("# zcctl show -j %s: %s", tap, out);
	check(ok, what);
}

#define port_says(...) port_says_within(0, __VA_ARGS__)

/* This process's VmPin or VmLck (kB) from /proc/self/status. */
static long status_kb(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key) + 1);
	fclose(f);
	return v;
}

static void pinned_kb(long want, const char *what)
{
	long pin = status_kb("VmPin"), lck = status_kb("VmLck");

	if (pin != want || lck != want)
		printf("# VmPin %ld kB, VmLck %ld kB, want %ld\n", pin, lck, want);
	check(pin == want && lck == want, what);
}

static int sysfs_write(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(v, f) >= 0;

	return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

/* Without CAP_IPC_LOCK, RLIMIT_MEMLOCK applies to us. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &h, d);
}

int main(int argc, char **argv)
{
	const uint64_t v1 = F_VERSION_1;
	const uint64_t legacy = 0;	/* 10-byte header: no zero-copy layout */
	char cmd[128];
	struct dev a, b;

	(void)reference;	/* vhost_zc only: stock vhost_net has no ports */
	const long kb = GUEST_SIZE / 1024;
	const char *pinned = "\"pinned_pages\":" GUEST_PAGES, *none = "\"pinned_pages\":0";
	struct rlimit small = { 512 << 10, 4 << 20 }, enough = { 4 << 20, 4 << 20 };

	if (argc != 5) {
		fprintf(stderr, "usage: zc_attach TAP0 TAP1 VF0 VF1\n");
		return 2;
	}
	/*
	 * A VMM without CAP_IPC_LOCK, as libvirt runs QEMU: RLIMIT_MEMLOCK
	 * applies. Before any device: capabilities are per thread, and each
	 * device's worker thread (which pins for control-plane changes) gets
	 * the credentials of the thread that calls SET_OWNER.
	 */
	check(!drop_ipc_lock(), "CAP_IPC_LOCK dropped");
	check(!setrlimit(RLIMIT_MEMLOCK, &enough), "RLIMIT_MEMLOCK 4 MiB");
	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert(mem != MAP_FAILED);

	dev_open(&a, 0, argv[1], v1);
	port_says("set up, no backend yet: detached", argv[1], "\"rings\":0",
		  "\"copy_reason\":\"detached\"", none, NULL);
	pinned_kb(0, "nothing pinned before SET_BACKEND");
	check(!set_backend(&a, RX, a.tap), "SET_BACKEND RX");
	port_says("RX ring attached: memory pinned", argv[1], "\"rings\":1",
		  "\"copy_reason\":\"unsupported\"", pinned, "\"memlock_bytes\":1048576", NULL);
	pinned_kb(kb, "VmPin and VmLck: the guest memory");
	check(!set_backend(&a, TX, a.tap), "SET_BACKEND TX");
	port_says("both rings attached", argv[1], "\"rings\":2", "\"mode\":\"copy\"",
		  "\"copy_reason\":\"unsupported\"", NULL);
	/* The same backend again replaces it: still two rings, not three. */
	check(!set_backend(&a, TX, a.tap), "SET_BACKEND TX again");
	port_says("a backend set twice counts once", argv[1], "\"rings\":2", NULL);

	check(!ioctl(a.fd, VHOST_SET_FEATURES, &legacy), "SET_FEATURES without VERSION_1");
	port_says("10-byte header: features, unpinned", argv[1], "\"rings\":2",
		  "\"copy_reason\":\"features\"", none, "\"memlock_bytes\":0", NULL);
	pinned_kb(0, "features: nothing pinned");
	check(!ioctl(a.fd, VHOST_SET_FEATURES, &v1), "SET_FEATURES VERSION_1");
	port_says("12-byte header again: pinned again", argv[1], "\"copy_reason\":\"unsupported\"",
		  pinned, NULL);
	pinned_kb(kb, "pinned again");

	check(!set_backend(&a, TX, -1), "SET_BACKEND TX -1");
	port_says("TX detached: RX keeps the pins", argv[1], "\"rings\":1", pinned, NULL);
	check(!set_mem1(a.fd, GPA, GUEST_SIZE, mem), "SET_MEM_TABLE again");
	port_says("new memory table: re-pinned", argv[1], pinned, NULL);
	pinned_kb(kb, "re-pinned once, not twice");

	/* The VF goes: the worker unpins; it comes back: pinned again. */
	snprintf(cmd, sizeof(cmd), "%s", argv[3]);
	check(!sysfs_write(DRV "unbind", cmd), "VF0 unbound from vhost_zc_vf");
	port_says_within(3000, "VF gone: vf-down, unpinned", argv[1],
			 "\"copy_reason\":\"vf-down\"", none, NULL);
	pinned_kb(0, "VF gone: nothing pinned");
	check(!sysfs_write(DRV "bind", cmd), "VF0 bound again");
	port_says_within(3000, "VF back: pinned again", argv[1], "\"copy_reason\":\"unsupported\"",
			 pinned, NULL);
	pinned_kb(kb, "VF back: pinned");

	/* A running device's tap bound on the fly. */
	dev_open(&b, 1, argv[2], v1);
	check(!set_backend(&b, RX, b.tap) && !set_backend(&b, TX, b.tap), "second device attached");
	snprintf(cmd, sizeof(cmd), "zcctl bind %s %s", argv[2], argv[4]);
	check(!system(cmd), cmd);
	port_says("bound while running: attached at once", argv[2], "\"rings\":2",
		  "\"copy_reason\":\"unsupported\"", NULL);
	/* The bind returned after the device's worker pinned. */
	port_says("bound while running: pinned when bind returns", argv[2], pinned, NULL);
	pinned_kb(2 * kb, "two devices, two pins");
	snprintf(cmd, sizeof(cmd), "zcctl unbind %s", argv[2]);
	check(!system(cmd), cmd);
	/* Unbound: no port to show; the pins go (VmPin back to one device's). */
	for (int i = 0; i < 60 && status_kb("VmPin") != kb; i++)
		usleep(50 * 1000);
	pinned_kb(kb, "unbound while running: its worker unpins");
	snprintf(cmd, sizeof(cmd), "zcctl bind %s %s", argv[2], argv[4]);
	check(!system(cmd), cmd);
	port_says("bound again: pinned", argv[2], pinned, NULL);
	close(b.fd);
	port_says("second device closed", argv[2], "\"rings\":0", "\"copy_reason\":\"detached\"",
		  NULL);
	snprintf(cmd, sizeof(cmd), "zcctl unbind %s", argv[2]);
	check(!system(cmd), cmd);

	pinned_kb(kb, "second device closed: its pins went");

	/* RLIMIT_MEMLOCK too small, then enough. */
	check(!setrlimit(RLIMIT_MEMLOCK, &small), "RLIMIT_MEMLOCK 512 KiB");
	check(!set_mem1(a.fd, GPA, GUEST_SIZE, mem), "SET_MEM_TABLE over the limit succeeds");
	port_says("over RLIMIT_MEMLOCK: memlock, nothing pinned", argv[1],
		  "\"copy_reason\":\"memlock\"", none, "\"memlock_bytes\":0", NULL);
	pinned_kb(0, "over the limit: nothing pinned or charged");
	/* Binding a running device that cannot pin fails, and binds nothing. */
	snprintf(cmd, sizeof(cmd), "zcctl unbind %s", argv[1]);
	check(!system(cmd), cmd);
	snprintf(cmd, sizeof(cmd), "zcctl bind %s %s 2>&1", argv[1], argv[3]);
	{
		char out[512] = "";
		FILE *p = popen(cmd, "r");
		size_t got = fread(out, 1, sizeof(out) - 1, p);
		int rc = pclose(p);

		out[got] = 0;
		printf("# %s: %s", cmd, out);
		check(WEXITSTATUS(rc) == 1 &&
		      strstr(out, "Cannot allocate memory (pinning the guest memory would exceed "
				  "the VMM's RLIMIT_MEMLOCK"),
		      "bind over RLIMIT_MEMLOCK: ENOMEM and the extack text");
	}
	snprintf(cmd, sizeof(cmd), "zcctl show %s 2>/dev/null", argv[1]);
	check(system(cmd) != 0, "the refused bind left no port");
	pinned_kb(0, "refused bind: nothing pinned or charged");
	check(!setrlimit(RLIMIT_MEMLOCK, &enough), "RLIMIT_MEMLOCK 4 MiB");
	snprintf(cmd, sizeof(cmd), "zcctl bind %s %s", argv[1], argv[3]);
	check(!system(cmd), "bind within RLIMIT_MEMLOCK");
	port_says("within RLIMIT_MEMLOCK: pinned when bind returns", argv[1],
		  "\"copy_reason\":\"unsupported\"", pinned, NULL);
	pinned_kb(kb, "within the limit: pinned");

	/* The tap fd outlives the device: only the device's rings count. */
	close(a.fd);
	port_says("device closed", argv[1], "\"rings\":0", "\"copy_reason\":\"detached\"", none,
		  NULL);
	pinned_kb(0, "device closed: nothing pinned or charged");
	close(a.tap);
	close(b.tap);
	return passed_failed();
}
