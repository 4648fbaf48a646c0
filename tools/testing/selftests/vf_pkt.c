// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_pkt: the PF side of the VF driver's traffic selftest (vf_traffic.sh).
 * Sends and captures vhost-zc self-test frames on a netdev with AF_PACKET.
 *
 * The frame format, payload and hash are those of rust/vzc_core/src/vf/frame.rs
 * (the driver's side); change both together. `vf_pkt hash 3 60` prints the
 * fixed vector that vf/frame.rs's test `fixed_vector` asserts
 * (0xd806920e9454fa7b), and vf_traffic.sh checks this tool prints it.
 *
 *   0  dst MAC | 6 src MAC | 12 EtherType 0x88b5 | 14 magic 0x565a4354 |
 *  18 seq (be32) | 22 frame length (be16) | 24 payload byte i = payload_byte(seq, i)
 * Hash: 64-bit FNV-1a over the payload bytes (24..len) of the good frames in
 * arrival order.
 *
 * Usage:
 *   vf_pkt hash COUNT SIZE [FIRST]
 *       print the hash of frames FIRST..FIRST+COUNT-1 of SIZE bytes
 *   vf_pkt send IFACE DST_MAC COUNT SIZE [FIRST]
 *       send them from IFACE's address to DST_MAC; print the hash expected
 *   vf_pkt recv IFACE SRC_MAC COUNT SIZE TIMEOUT_S [PROGRESS_FILE [FIRST]]
 *       capture self-test frames from SRC_MAC until COUNT came or TIMEOUT_S
 *       passed; validate each; print count/good/bad/hash; exit 0 only if
 *       COUNT good frames of SIZE bytes came and the hash is the expected
 *       one. PROGRESS_FILE (if given) holds the number of frames seen so
 *       far; it is created once the socket is bound.
 * Exit: 0 ok, 1 mismatch/timeout, 2 usage or system error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_VZC 0x88b5
#define MAGIC 0x565a4354u
#define HDR_LEN 24
#define MIN_LEN 60
#define MAX_LEN 9000

static uint8_t payload_byte(uint32_t seq, uint32_t off)
{
	uint32_t v = seq * 0x9e3779b1u + off * 0x85ebca6bu;

	return (uint8_t)((v >> 24) ^ (v >> 8));
}

static uint64_t fnv_byte(uint64_t h, uint8_t b)
{
	return (h ^ b) * 0x100000001b3ull;
}

#define FNV_BASIS 0xcbf29ce484222325ull

static void build(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t seq, uint32_t len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE_VZC >> 8;
	f[13] = ETHERTYPE_VZC & 0xff;
	f[14] = MAGIC >> 24;
	f[15] = (MAGIC >> 16) & 0xff;
	f[16] = (MAGIC >> 8) & 0xff;
	f[17] = MAGIC & 0xff;
	f[18] = seq >> 24;
	f[19] = (seq >> 16) & 0xff;
	f[20] = (seq >> 8) & 0xff;
	f[21] = seq & 0xff;
	f[22] = len >> 8;
	f[23] = len & 0xff;
	for (uint32_t i = HDR_LEN; i < len; i++)
		f[i] = payload_byte(seq, i);
}

static uint64_t expected_hash(uint32_t first, uint32_t count, uint32_t len)
{
	uint64_t h = FNV_BASIS;

	for (uint32_t k = 0; k < count; k++)
		for (uint32_t i = HDR_LEN; i < len; i++)
			h = fnv_byte(h, payload_byte(first + k, i));
	return h;
}

/* A good frame: header, length field == bytes received, payload. */
static int frame_ok(const uint8_t *f, size_t n)
{
	uint32_t seq, magic;

	if (n < MIN_LEN || n > MAX_LEN)
		return 0;
	magic = (uint32_t)f[14] << 24 | (uint32_t)f[15] << 16 | (uint32_t)f[16] << 8 | f[17];
	if (f[12] != (ETHERTYPE_VZC >> 8) || f[13] != (ETHERTYPE_VZC & 0xff) || magic != MAGIC)
		return 0;
	if (((size_t)f[22] << 8 | f[23]) != n)
		return 0;
	seq = (uint32_t)f[18] << 24 | (uint32_t)f[19] << 16 | (uint32_t)f[20] << 8 | f[21];
	for (size_t i = HDR_LEN; i < n; i++)
		if (f[i] != payload_byte(seq, (uint32_t)i))
			return 0;
	return 1;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: vf_pkt hash COUNT SIZE [FIRST]\n"
			"       vf_pkt send IFACE DST_MAC COUNT SIZE [FIRST]\n"
			"       vf_pkt recv IFACE SRC_MAC COUNT SIZE TIMEOUT_S [PROGRESS_FILE [FIRST]]\n"
			"COUNT 1..100000, SIZE %d..%d\n",
		MIN_LEN, MAX_LEN);
	return 2;
}

/* A raw socket for EtherType 0x88b5 bound to IFACE; its index and address. */
static int open_iface(const char *iface, int *ifindex, uint8_t *mac)
{
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	int fd;

	if (strlen(iface) >= IFNAMSIZ) {
		fprintf(stderr, "interface name too long: %s\n", iface);
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE_VZC));
	if (fd < 0) {
		perror("socket(AF_PACKET)");
		return -1;
	}
	strcpy(ifr.ifr_name, iface);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		perror("SIOCGIFINDEX");
		goto err;
	}
	*ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("SIOCGIFHWADDR");
		goto err;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETHERTYPE_VZC);
	sll.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("bind");
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

static int cmd_send(int argc, char **argv)
{
	uint8_t dst[6], src[6], frame[MAX_LEN];
	uint32_t count, size, first = 0;
	struct sockaddr_ll to = { 0 };
	int fd, ifindex;

	if (argc < 6 || argc > 7 || parse_mac(argv[3], dst) ||
	    parse_u32(argv[4], 1, 100000, &count) || parse_u32(argv[5], MIN_LEN, MAX_LEN, &size) ||
	    (argc == 7 && parse_u32(argv[6], 0, UINT32_MAX, &first)))
		return usage();
	fd = open_iface(argv[2], &ifindex, src);
	if (fd < 0)
		return 2;
	to.sll_family = AF_PACKET;
	to.sll_ifindex = ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, dst, 6);
	for (uint32_t k = 0; k < count; k++) {
		int tries = 0;

		build(frame, dst, src, first + k, size);
		/* A full qdisc (ENOBUFS) is back-pressure, not an error: retry for up to 5 s. */
		while (sendto(fd, frame, size, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)size) {
			if ((errno != ENOBUFS && errno != EAGAIN) || ++tries > 5000) {
				fprintf(stderr, "sendto frame %u: %s\n", k, strerror(errno));
				return 2;
			}
			usleep(1000);
		}
	}
	printf("sent %u size %u hash 0x%016llx\n", count, size,
	       (unsigned long long)expected_hash(first, count, size));
	close(fd);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(int pfd, uint32_t n)
{
	char buf[16];
	int len;

	if (pfd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%10u\n", n);
	if (pwrite(pfd, buf, (size_t)len, 0) != len)
		perror("progress file");
}

static int cmd_recv(int argc, char **argv)
{
	uint8_t src[6], own[6];
	static uint8_t frame[16384];
	uint32_t count, size, timeout, first = 0, seen = 0, good = 0, bad = 0, wrong_len = 0;
	uint64_t hash = FNV_BASIS, want, bytes = 0;
	int fd, ifindex, pfd = -1, rcvbuf = 16 << 20;
	double deadline;

	if (argc < 7 || argc > 9 || parse_mac(argv[3], src) ||
	    parse_u32(argv[4], 1, 100000, &count) || parse_u32(argv[5], MIN_LEN, MAX_LEN, &size) ||
	    parse_u32(argv[6], 1, 3600, &timeout) ||
	    (argc == 9 && parse_u32(argv[8], 0, UINT32_MAX, &first)))
		return usage();
	fd = open_iface(argv[2], &ifindex, own);
	if (fd < 0)
		return 2;
	/* Room for a burst while this process is not scheduled (TCG). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		perror("SO_RCVBUFFORCE (continuing)");
	if (argc >= 8) {
		pfd = open(argv[7], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (pfd < 0) {
			perror(argv[7]);
			return 2;
		}
		progress(pfd, 0);
	}
	want = expected_hash(first, count, size);
	deadline = now_s() + timeout;
	while (seen < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		double left = deadline - now_s();
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0) {
			perror("poll");
			return 2;
		}
		if (!(p.revents & POLLIN))
			continue;
		n = recvfrom(fd, frame, sizeof(frame), MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			perror("recvfrom");
			return 2;
		}
		/* Our own transmissions come back to a packet socket too. */
		if (from.sll_pkttype == PACKET_OUTGOING || n < 14 || memcmp(frame + 6, src, 6))
			continue;
		seen++;
		if ((size_t)n <= sizeof(frame) && frame_ok(frame, (size_t)n) && n == (ssize_t)size) {
			good++;
			bytes += (uint64_t)n;
			for (ssize_t i = HDR_LEN; i < n; i++)
				hash = fnv_byte(hash, frame[i]);
		} else {
			bad++;
			if (n != (ssize_t)size)
				wrong_len++;
		}
		progress(pfd, seen);
	}
	printf("count %u good %u bad %u (wrong length %u) bytes %llu hash 0x%016llx expected 0x%016llx\n",
	       seen, good, bad, wrong_len, (unsigned long long)bytes, (unsigned long long)hash,
	       (unsigned long long)want);
	if (seen < count)
		fprintf(stderr, "timeout: %u of %u frames in %u s\n", seen, count, timeout);
	close(fd);
	return seen == count && good == count && hash == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint32_t count, size, first = 0;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "hash")) {
		if (argc < 4 || argc > 5 || parse_u32(argv[2], 0, 100000, &count) ||
		    parse_u32(argv[3], MIN_LEN, MAX_LEN, &size) ||
		    (argc == 5 && parse_u32(argv[4], 0, UINT32_MAX, &first)))
			return usage();
		printf("0x%016llx\n", (unsigned long long)expected_hash(first, count, size));
		return 0;
	}
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc, argv);
	if (!strcmp(argv[1], "recv"))
		return cmd_recv(argc, argv);
	return usage();
}
