// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost_abi: the vhost-net ioctl/read/write ABI, call by call, with the errno
 * upstream drivers/vhost (7.3) returns. Run against stock vhost_net with
 * --reference to prove the expectations, and against vhost_zc to prove it
 * behaves the same. Values that differ by design (the offered feature bits)
 * are printed, and checked only against vhost_zc.
 *
 * Output: "ok N - what" / "not ok N - what: got X, want Y"; exit 1 on failure.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "vhost_test.h"

/* 0 on success, else errno. */
static int io(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static int vstate(int fd, unsigned long cmd, unsigned int index, unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return io(fd, cmd, &s);
}

static int vfile(int fd, unsigned long cmd, unsigned int index, int f)
{
	struct vhost_vring_file v = { .index = index, .fd = f };

	return io(fd, cmd, &v);
}

static int vaddr(int fd, unsigned int flags, uint64_t desc, uint64_t used, uint64_t avail, uint64_t log)
{
	struct vhost_vring_addr a = {
		.index = 0, .flags = flags, .desc_user_addr = desc,
		.used_user_addr = used, .avail_user_addr = avail, .log_guest_addr = log,
	};

	return io(fd, VHOST_SET_VRING_ADDR, &a);
}

static int memtable_at(int fd, uint32_t nregions, uint32_t padding, uint64_t gpa0, uint64_t size,
		       void *uaddr)
{
	struct vhost_memory *m = calloc(1, sizeof(*m) + 65 * sizeof(m->regions[0]));
	int r;

	m->nregions = nregions;
	m->padding = padding;
	for (uint32_t i = 0; i < nregions && i < 65; i++) {
		m->regions[i].guest_phys_addr = gpa0 + ((uint64_t)i << 32);
		m->regions[i].memory_size = size;
		m->regions[i].userspace_addr = (uintptr_t)uaddr;
	}
	r = io(fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	return r;
}

static int memtable(int fd, uint32_t nregions, uint32_t padding, uint64_t size, void *uaddr)
{
	return memtable_at(fd, nregions, padding, 1ULL << 32, size, uaddr);
}

static int rw(ssize_t r)
{
	return r < 0 ? errno : (int)r;
}

int main(int argc, char **argv)
{
	const uint64_t must = 1ULL << 33 | 1ULL << 32 | 1ULL << 29 | 1ULL << 28 | 1ULL << 27 | 1ULL << 26 |
			      1ULL << 15;
	int fd, fd2, efd, nullfd, st;
	uint64_t f, bf;
	struct stat sb;
	char *ring = aligned_alloc(4096, 3 * 4096);
	uint64_t arr[6];
	unsigned char msg[72], u8;
	struct vhost_vring_state s;

	reference = argc > 1 && !strcmp(argv[1], "--reference");
	fd = open("/dev/vhost-net", O_RDWR);
	if (fd < 0) {
		perror("open /dev/vhost-net");
		return 1;
	}
	efd = eventfd(0, 0);
	nullfd = open("/dev/null", O_RDWR);

	check_errno(stat("/dev/vhost-net", &sb) || major(sb.st_rdev) != 10 ? -1 : (int)minor(sb.st_rdev),
	      238, "/dev/vhost-net is char 10:238");

	/* Before SET_OWNER. */
	check_errno(memtable(fd, 0, 0, 0, NULL), EPERM, "SET_MEM_TABLE without owner is EPERM");
	check_errno(vstate(fd, VHOST_SET_VRING_NUM, 0, 256), EPERM, "SET_VRING_NUM without owner is EPERM");
	check_errno(io(fd, VHOST_RESET_OWNER, NULL), EPERM, "RESET_OWNER without owner is EPERM");
	check_errno(io(fd, VHOST_GET_FEATURES, &f), 0, "GET_FEATURES");
	printf("# features 0x%llx\n", (unsigned long long)f);
	check_errno((f & must) == must, 1,
	      "ACCESS_PLATFORM VERSION_1 MRG_RXBUF INDIRECT EVENT_IDX ANY_LAYOUT LOG_ALL offered");
	if (!reference)
		check_errno(f == must, 1, "vhost_zc offers exactly its documented features");
	bf = 1ULL << 63;
	check_errno(io(fd, VHOST_SET_FEATURES, &bf), EOPNOTSUPP, "SET_FEATURES with an unknown bit is EOPNOTSUPP");
	bf = 1ULL << 32 | 1ULL << 15;
	check_errno(io(fd, VHOST_SET_FEATURES, &bf), 0, "SET_FEATURES needs no owner");
	check_errno(io(fd, VHOST_GET_FEATURES, (void *)8), EFAULT, "GET_FEATURES to a bad pointer is EFAULT");
	check_errno(io(fd, VHOST_GET_BACKEND_FEATURES, &bf), 0, "GET_BACKEND_FEATURES");
	printf("# backend features 0x%llx\n", (unsigned long long)bf);
	check_errno(bf == 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2, 1, "backend features: IOTLB_MSG_V2, as vhost_net");
	bf = 1ULL << 5;
	check_errno(io(fd, VHOST_SET_BACKEND_FEATURES, &bf), EOPNOTSUPP, "SET_BACKEND_FEATURES unknown bit is EOPNOTSUPP");

	/* Feature arrays: words past the known two are zeroed / must be zero. */
	memset(arr, 0xff, sizeof(arr));
	arr[0] = 4;
	check_errno(io(fd, VHOST_GET_FEATURES_ARRAY, arr), 0, "GET_FEATURES_ARRAY count 4");
	check_errno(arr[1] == f && arr[3] == 0 && arr[4] == 0 && arr[5] == ~0ULL, 1,
	      "GET_FEATURES_ARRAY: word 0 = features, extra words zeroed, nothing past count");
	arr[0] = 3; arr[1] = 1ULL << 32; arr[2] = 0; arr[3] = 1;
	check_errno(io(fd, VHOST_SET_FEATURES_ARRAY, arr), EOPNOTSUPP, "SET_FEATURES_ARRAY nonzero extra word");
	arr[3] = 0;
	check_errno(io(fd, VHOST_SET_FEATURES_ARRAY, arr), 0, "SET_FEATURES_ARRAY with zero extra word");

	/* Fork mode: only before an owner exists. */
	u8 = 2;
	check_errno(io(fd, VHOST_SET_FORK_FROM_OWNER, &u8), EINVAL, "SET_FORK_FROM_OWNER 2 is EINVAL");
	check_errno(io(fd, VHOST_GET_FORK_FROM_OWNER, &u8) || u8 != 1, 0, "GET_FORK_FROM_OWNER defaults to 1");

	check_errno(io(fd, VHOST_SET_OWNER, NULL), 0, "SET_OWNER");
	check_errno(io(fd, VHOST_SET_OWNER, NULL), EBUSY, "second SET_OWNER is EBUSY");
	u8 = 1;
	check_errno(io(fd, VHOST_SET_FORK_FROM_OWNER, &u8), EBUSY, "SET_FORK_FROM_OWNER after SET_OWNER is EBUSY");

	/* Another process (another mm) is not the owner, even with the same fd. */
	if (fork() == 0)
		_exit(vstate(fd, VHOST_SET_VRING_NUM, 0, 256));
	wait(&st);
	check_errno(WEXITSTATUS(st), EPERM, "a child process is not the owner (EPERM)");

	/* Rings. */
	check_errno(vstate(fd, VHOST_SET_VRING_NUM, 2, 256), ENOBUFS, "SET_VRING_NUM ring 2 is ENOBUFS");
	check_errno(vstate(fd, VHOST_SET_VRING_NUM, 0, 0), EINVAL, "SET_VRING_NUM 0 is EINVAL");
	check_errno(vstate(fd, VHOST_SET_VRING_NUM, 0, 3), EINVAL, "SET_VRING_NUM 3 is EINVAL");
	check_errno(vstate(fd, VHOST_SET_VRING_NUM, 0, 65536), EINVAL, "SET_VRING_NUM 65536 is EINVAL");
	check_errno(vstate(fd, VHOST_SET_VRING_NUM, 1, 32768), 0, "SET_VRING_NUM 32768");
	check_errno(vstate(fd, VHOST_SET_VRING_NUM, 0, 256), 0, "SET_VRING_NUM 256");
	check_errno(vstate(fd, VHOST_SET_VRING_BASE, 0, 0x10000), EINVAL, "SET_VRING_BASE 0x10000 is EINVAL");
	check_errno(vstate(fd, VHOST_SET_VRING_BASE, 0, 0xfffe), 0, "SET_VRING_BASE 0xfffe");
	s.index = 0; s.num = 0;
	check_errno(io(fd, VHOST_GET_VRING_BASE, &s) || s.num != 0xfffe, 0, "GET_VRING_BASE returns 0xfffe");
	check_errno(vaddr(fd, 2, (uintptr_t)ring, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 0), EOPNOTSUPP,
	      "SET_VRING_ADDR unknown flag is EOPNOTSUPP");
	check_errno(vaddr(fd, 0, (uintptr_t)ring, (uintptr_t)ring + 8192, (uintptr_t)ring + 4097, 0), EINVAL,
	      "SET_VRING_ADDR odd avail is EINVAL");
	check_errno(vaddr(fd, 0, (uintptr_t)ring, (uintptr_t)ring + 8194, (uintptr_t)ring + 4096, 0), EINVAL,
	      "SET_VRING_ADDR misaligned used is EINVAL");
	check_errno(vaddr(fd, 1, (uintptr_t)ring, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 2), EINVAL,
	      "SET_VRING_ADDR misaligned log is EINVAL");
	check_errno(vaddr(fd, 1, (uintptr_t)ring, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 0x1000), 0,
	      "SET_VRING_ADDR");
	check_errno(vfile(fd, VHOST_SET_VRING_KICK, 0, 9999), EBADF, "SET_VRING_KICK closed fd is EBADF");
	check_errno(vfile(fd, VHOST_SET_VRING_KICK, 0, nullfd), EINVAL, "SET_VRING_KICK non-eventfd is EINVAL");
	check_errno(vfile(fd, VHOST_SET_VRING_KICK, 0, efd), 0, "SET_VRING_KICK eventfd");
	if (!reference) {
		long long k0 = zc_counter("rx_kicks");
		uint64_t one = 1;

		check_errno(write(efd, &one, sizeof(one)) == sizeof(one), 1, "kick the RX ring");
		usleep(100000);
		check_errno(k0 >= 0 && zc_counter("rx_kicks") == k0 + 1, 1,
		      "the kick is counted in /sys/kernel/vhost_zc/devices/*/rx_kicks");
		eventfd_read(efd, &one);
	}
	check_errno(vfile(fd, VHOST_SET_VRING_KICK, 0, -1), 0, "SET_VRING_KICK -1 unbinds");
	check_errno(vfile(fd, VHOST_SET_VRING_CALL, 1, nullfd), EINVAL, "SET_VRING_CALL non-eventfd is EINVAL");
	check_errno(vfile(fd, VHOST_SET_VRING_CALL, 1, efd), 0, "SET_VRING_CALL eventfd");
	check_errno(vfile(fd, VHOST_SET_VRING_ERR, 1, efd), 0, "SET_VRING_ERR eventfd");
	check_errno(vfile(fd, VHOST_SET_VRING_ERR, 2, efd), ENOBUFS, "SET_VRING_ERR ring 2 is ENOBUFS");
	check_errno(vstate(fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, 0, 50), 0, "SET_VRING_BUSYLOOP_TIMEOUT");
	s.index = 0; s.num = 0;
	check_errno(io(fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &s) || s.num != 50, 0, "GET_VRING_BUSYLOOP_TIMEOUT returns 50");
	check_errno(vstate(fd, VHOST_SET_VRING_ENDIAN, 0, 0), ENOTTY, "SET_VRING_ENDIAN is ENOTTY (no cross-endian)");
	check_errno(vstate(fd, VHOST_SET_VRING_ENDIAN, 3, 0), ENOBUFS, "unknown vring ioctl checks the index first");
	check_errno(io(fd, _IO(VHOST_VIRTIO, 0x7f), (void *)8), EFAULT, "unknown ioctl reads the index first (EFAULT)");

	/* Memory table. */
	check_errno(memtable(fd, 1, 1, 4096, ring), EOPNOTSUPP, "SET_MEM_TABLE nonzero padding is EOPNOTSUPP");
	check_errno(memtable(fd, 65, 0, 4096, ring), E2BIG, "SET_MEM_TABLE 65 regions is E2BIG");
	check_errno(memtable(fd, 1, 0, 0, ring), EFAULT, "SET_MEM_TABLE zero-size region is EFAULT");
	/*
	 * Upstream quirk: a zero-size region at GPA 0 ends at 2^64 - 1, which
	 * its IOTLB takes as "map everything". vhost_zc rejects it.
	 */
	check_errno(memtable_at(fd, 1, 0, 0, 0, ring), reference ? 0 : EFAULT,
	      reference ? "SET_MEM_TABLE zero-size region at GPA 0 maps everything (upstream quirk)"
			: "SET_MEM_TABLE zero-size region at GPA 0 is EFAULT (vhost_zc)");
	check_errno(io(fd, VHOST_SET_MEM_TABLE, (void *)8), EFAULT, "SET_MEM_TABLE bad pointer is EFAULT");
	check_errno(memtable(fd, 2, 0, 3 * 4096, ring), 0, "SET_MEM_TABLE 2 regions");
	check_errno(memtable(fd, 0, 0, 0, NULL), 0, "SET_MEM_TABLE empty");

	/* Dirty log. */
	bf = (uintptr_t)ring;
	check_errno(io(fd, VHOST_SET_LOG_BASE, &bf), 0, "SET_LOG_BASE");
	st = nullfd;
	check_errno(io(fd, VHOST_SET_LOG_FD, &st), EINVAL, "SET_LOG_FD non-eventfd is EINVAL");
	st = efd;
	check_errno(io(fd, VHOST_SET_LOG_FD, &st), 0, "SET_LOG_FD eventfd");
	st = -1;
	check_errno(io(fd, VHOST_SET_LOG_FD, &st), 0, "SET_LOG_FD -1 unbinds");

	/* Backend: the index and the detach path. */
	check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 2, -1), ENOBUFS, "NET_SET_BACKEND ring 2 is ENOBUFS");
	check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, -1), 0, "NET_SET_BACKEND -1 detaches");
	check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, nullfd), ENOTSOCK, "NET_SET_BACKEND non-socket is ENOTSOCK");
	check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, 9999), ENOTSOCK, "NET_SET_BACKEND closed fd is ENOTSOCK");
	{
		int tap = tap_open(NULL);

		check_errno(tap >= 0, 1, "tap device created");
		check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, tap), 0, "NET_SET_BACKEND tap on RX");
		struct vhost_vring_addr a1 = {
			.index = 1, .desc_user_addr = (uintptr_t)ring,
			.avail_user_addr = (uintptr_t)ring + 4096, .used_user_addr = (uintptr_t)ring + 8192,
		};

		check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 1, tap), EFAULT,
		      "NET_SET_BACKEND on a ring without addresses is EFAULT (used ring unreadable)");
		check_errno(io(fd, VHOST_SET_VRING_ADDR, &a1), 0, "SET_VRING_ADDR ring 1");
		check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 1, tap), 0, "NET_SET_BACKEND tap on TX");
		check_errno(vstate(fd, VHOST_SET_VRING_NUM, 0, 256), EBUSY, "SET_VRING_NUM while attached is EBUSY");
		check_errno(vstate(fd, VHOST_SET_VRING_BASE, 1, 0), EBUSY, "SET_VRING_BASE while attached is EBUSY");

		/*
		 * Addresses of running rings are checked (access_ok) when they
		 * are set; those of a stopped ring when it starts. A rejected
		 * value leaves the accepted one in place.
		 */
		const uint64_t kaddr = 0xffff800000000000ULL;
		uint64_t ub = (uintptr_t)ring, f = 1ULL << VHOST_F_LOG_ALL;

		check_errno(vaddr(fd, 0, kaddr, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 0), EINVAL,
		      "SET_VRING_ADDR of a running ring outside user space is EINVAL");
		check_errno(vaddr(fd, 1, (uintptr_t)ring, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 0x1000), 0,
		      "SET_VRING_ADDR of a running ring, used ring logged");
		bf = kaddr;
		check_errno(io(fd, VHOST_SET_LOG_BASE, &bf), EFAULT,
		      "SET_LOG_BASE outside user space while a ring logs is EFAULT");
		check_errno(vaddr(fd, 0, (uintptr_t)ring, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 0), 0,
		      "SET_VRING_ADDR of a running ring, not logged");
		check_errno(io(fd, VHOST_SET_LOG_BASE, &bf), 0, "SET_LOG_BASE anywhere while nothing logs");
		check_errno(memtable(fd, 1, 0, 4096, (void *)kaddr), EFAULT,
		      "SET_MEM_TABLE region outside user space while rings run is EFAULT");
		check_errno(memtable(fd, 1, 0, 3 * 4096, ring), 0, "SET_MEM_TABLE while rings run");
		check_errno(io(fd, VHOST_SET_FEATURES, &f), EFAULT,
		      "SET_FEATURES LOG_ALL with the log outside user space is EFAULT");
		check_errno(io(fd, VHOST_SET_LOG_BASE, &ub), 0, "SET_LOG_BASE back in user space");
		check_errno(memtable(fd, 0, 0, 0, NULL), 0, "SET_MEM_TABLE empty while rings run");
		check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, -1), 0, "NET_SET_BACKEND -1 detaches RX");
		check_errno(vaddr(fd, 0, kaddr, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 0), 0,
		      "SET_VRING_ADDR of a stopped ring is not checked yet");
		check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, tap), EFAULT,
		      "NET_SET_BACKEND on a ring outside user space is EFAULT");
		check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, -1), EFAULT,
		      "NET_SET_BACKEND -1 checks the ring first too (EFAULT)");
		check_errno(vaddr(fd, 0, (uintptr_t)ring, (uintptr_t)ring + 8192, (uintptr_t)ring + 4096, 0), 0,
		      "SET_VRING_ADDR of the stopped ring back in user space");
		check_errno(vfile(fd, VHOST_NET_SET_BACKEND, 0, -1), 0, "NET_SET_BACKEND -1 on a valid ring");
		close(tap); /* TX keeps its own reference on the tap */
	}

	/* The IOTLB message channel, with no IOTLB. */
	check_errno(rw(read(fd, msg, 16)), 0, "read of less than a message returns 0");
	check_errno(rw(read(fd, msg, sizeof(msg))), EBADFD, "blocking read without IOTLB is EBADFD");
	fd2 = open("/dev/vhost-net", O_RDWR | O_NONBLOCK);
	check_errno(rw(read(fd2, msg, sizeof(msg))), EAGAIN, "non-blocking read is EAGAIN");
	close(fd2);
	memset(msg, 0, sizeof(msg));
	check_errno(rw(write(fd, msg, 3)), EINVAL, "3-byte write is EINVAL");
	msg[0] = 3;
	check_errno(rw(write(fd, msg, sizeof(msg))), EINVAL, "unknown message format is EINVAL");
	msg[0] = 2; /* V2 */
	msg[33] = 2; /* UPDATE, size 0 */
	check_errno(rw(write(fd, msg, sizeof(msg))), EINVAL, "UPDATE of size 0 is EINVAL");
	msg[16] = 1;
	check_errno(rw(write(fd, msg, sizeof(msg))), EFAULT, "UPDATE without IOTLB is EFAULT");
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		check_errno(poll(&p, 1, 0), 0, "poll: no IOTLB message pending");
	}

	/* Reset: the owner goes, a new one may come. */
	check_errno(io(fd, VHOST_RESET_OWNER, NULL), 0, "RESET_OWNER");
	check_errno(memtable(fd, 0, 0, 0, NULL), EPERM, "after RESET_OWNER there is no owner (EPERM)");
	check_errno(io(fd, VHOST_SET_OWNER, NULL), 0, "SET_OWNER after RESET_OWNER");
	close(fd);

	return passed_failed();
}
