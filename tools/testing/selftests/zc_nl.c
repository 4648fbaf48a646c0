// SPDX-License-Identifier: GPL-2.0-only
/*
 * zc_nl: the generic netlink family vhost_zc at the message level, where
 * zcctl cannot go: malformed attributes, missing ones, unknown commands, and
 * callers without CAP_NET_ADMIN. Each request must fail with the errno
 * given and an extack message containing the text given, and change
 * nothing (the dump is compared before and after).
 *
 *   zc_nl malformed TAP VF     TAP: an existing tap, VF: a VF of vhost_zc_vf
 *   zc_nl perms TAP VF         unprivileged user, user namespace (+netns)
 *
 * Output: "ok N - what" / "not ok N - what: ..."; exit 1 on any failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vhost_zc.h>

static int failures, n;

/* A child that cannot run its case on this kernel. */
#define SKIP 4

struct reply {
	int err;		/* positive errno, 0 for an ack or data */
	char msg[256];		/* extack message */
	int bad_attr_off;	/* NLMSGERR_ATTR_OFFS, -1 if none */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, 0 if none */
	int entries;		/* data messages (replies, dump entries) */
};

struct msg {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char buf[1024];
};

static void put(struct msg *m, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void puts0(struct msg *m, uint16_t type, const char *s)
{
	put(m, type, s, strlen(s) + 1);
}

static int sock_open(void)
{
	int one = 1, fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);

	if (fd < 0) {
		perror("socket(NETLINK_GENERIC)");
		exit(2);
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	return fd;
}

static void start(struct msg *m, uint16_t family, uint8_t cmd, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nh.nlmsg_type = family;
	m->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	m->nh.nlmsg_seq = ++n;
	m->gh.cmd = cmd;
	m->gh.version = VHOST_ZC_FAMILY_VERSION;
}

static void parse_err(struct nlmsghdr *h, struct reply *r)
{
	struct nlmsgerr *e = NLMSG_DATA(h);
	struct nlattr *a;
	int off, len;

	r->err = -e->error;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	for (; off + NLA_HDRLEN <= (int)h->nlmsg_len; off += NLA_ALIGN(a->nla_len)) {
		a = (struct nlattr *)((char *)h + off);
		len = a->nla_len - NLA_HDRLEN;
		if (a->nla_len < NLA_HDRLEN)
			break;
		if (a->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(r->msg, sizeof(r->msg), "%.*s", len, (char *)a + NLA_HDRLEN);
		else if (a->nla_type == NLMSGERR_ATTR_OFFS)
			r->bad_attr_off = *(uint32_t *)((char *)a + NLA_HDRLEN);
		else if (a->nla_type == NLMSGERR_ATTR_MISS_TYPE)
			r->miss_type = *(uint32_t *)((char *)a + NLA_HDRLEN);
	}
}

/* Send @m and read until its ack/error or the end of a dump. */
static struct reply talk(int fd, struct msg *m)
{
	struct reply r = { .bad_attr_off = -1 };
	static char buf[65536];
	int done = 0;

	if (send(fd, m, m->nh.nlmsg_len, 0) < 0) {
		perror("send");
		exit(2);
	}
	while (!done) {
		int len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			perror("recv");
			exit(2);
		}
		for (h = (void *)buf; NLMSG_OK(h, (unsigned int)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				parse_err(h, &r);
				done = 1;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
			} else {
				r.entries++;
			}
		}
	}
	return r;
}

static uint16_t family_id(int fd)
{
	static char buf[8192];
	struct msg m;
	struct nlmsghdr *h;
	struct nlattr *a;
	int len, off;

	start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	m.nh.nlmsg_flags = NLM_F_REQUEST;
	m.gh.version = 2;
	puts0(&m, CTRL_ATTR_FAMILY_NAME, VHOST_ZC_FAMILY_NAME);
	send(fd, &m, m.nh.nlmsg_len, 0);
	len = recv(fd, buf, sizeof(buf), 0);
	h = (void *)buf;
	if (len < 0 || !NLMSG_OK(h, (unsigned int)len) || h->nlmsg_type == NLMSG_ERROR) {
		fprintf(stderr, "family %s not found\n", VHOST_ZC_FAMILY_NAME);
		exit(2);
	}
	for (off = NLMSG_HDRLEN + GENL_HDRLEN; off + NLA_HDRLEN <= (int)h->nlmsg_len;
	     off += NLA_ALIGN(a->nla_len)) {
		a = (struct nlattr *)((char *)h + off);
		if (a->nla_len < NLA_HDRLEN)
			break;
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			return *(uint16_t *)((char *)a + NLA_HDRLEN);
	}
	exit(2);
}

static int dump_count(int fd, uint16_t fam)
{
	struct msg m;
	struct reply r;

	start(&m, fam, VHOST_ZC_CMD_PORT_GET, NLM_F_DUMP);
	r = talk(fd, &m);
	return r.err ? -r.err : r.entries;
}

static void check(const char *what, struct reply r, int err, const char *text)
{
	int ok = r.err == err && (!text || strstr(r.msg, text));

	n++;
	if (ok) {
		printf("ok - %s: errno %d, \"%s\"\n", what, r.err, r.msg);
	} else {
		printf("not ok - %s: errno %d \"%s\", want errno %d \"%s\"\n", what, r.err, r.msg,
		       err, text ? text : "");
		failures++;
	}
}

static void malformed(const char *tap, const char *vf)
{
	int fd = sock_open();
	uint16_t fam = family_id(fd);
	int before = dump_count(fd, fam);
	struct msg m;
	struct reply r;
	char long_name[20], mac5[5] = { 0x52, 0x54, 0, 0, 1 };
	char mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	uint32_t u = 1;

	/* The policy's refusals (generated tables): type and length. */
	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	put(&m, VHOST_ZC_A_PORT_IFNAME, tap, strlen(tap));	/* no NUL */
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	r = talk(fd, &m);
	check("ifname without its NUL", r, EINVAL, "failed policy validation");
	if (r.bad_attr_off < 0)
		check("... points at the attribute", r, -1, NULL);

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, long_name);
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	check("ifname of 19 bytes", talk(fd, &m), EINVAL, "");

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	put(&m, VHOST_ZC_A_PORT_MAC, mac5, sizeof(mac5));
	/* NLA_POLICY_EXACT_LEN: the range check answers ERANGE. */
	check("mac of 5 bytes", talk(fd, &m), ERANGE, "size out of range");

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	put(&m, VHOST_ZC_A_PORT_MODE, &u, sizeof(u));	/* a reply-only attribute */
	check("attribute the command does not take", talk(fd, &m), EINVAL, "");

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	put(&m, 77, &u, sizeof(u));
	check("unknown attribute type", talk(fd, &m), EINVAL, "");

	/* The handler's refusals (vzc_core::control). */
	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	r = talk(fd, &m);
	check("bind without ifname", r, EINVAL, "ifname (the tap) is required");
	if (r.miss_type != VHOST_ZC_A_PORT_IFNAME)
		check("... names the missing attribute", r, -1, NULL);

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	r = talk(fd, &m);
	check("bind without vf", r, EINVAL, "vf (the VF's PCI address) is required");

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	puts0(&m, VHOST_ZC_A_PORT_VF, "00:02.0");
	check("vf without its domain", talk(fd, &m), EINVAL, "dddd:bb:dd.f");

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, "a/b");
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	check("ifname with a slash", talk(fd, &m), EINVAL, "not a valid interface name");

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	put(&m, VHOST_ZC_A_PORT_MAC, mcast, sizeof(mcast));
	check("multicast mac", talk(fd, &m), EINVAL, "unicast");

	start(&m, fam, VHOST_ZC_CMD_PORT_UNBIND, 0);
	check("unbind without ifname", talk(fd, &m), EINVAL, "required");

	start(&m, fam, VHOST_ZC_CMD_PORT_GET, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, "nosuchtap");
	check("get of a port that is not bound", talk(fd, &m), ENOENT, "tap is not bound");

	start(&m, fam, VHOST_ZC_CMD_MAX + 1, 0);
	check("unknown command", talk(fd, &m), EOPNOTSUPP, NULL);

	n++;
	if (dump_count(fd, fam) == before) {
		printf("ok - nothing changed: %d ports before and after\n", before);
	} else {
		printf("not ok - ports before %d, after %d\n", before, dump_count(fd, fam));
		failures++;
	}
	close(fd);
}

/* Every command from this process must be refused with EPERM. */
static int refused_all(const char *who, const char *tap, const char *vf)
{
	int fd = sock_open();
	uint16_t fam = family_id(fd);
	struct msg m;

	start(&m, fam, VHOST_ZC_CMD_PORT_BIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	puts0(&m, VHOST_ZC_A_PORT_VF, vf);
	check(who, talk(fd, &m), EPERM, NULL);
	start(&m, fam, VHOST_ZC_CMD_PORT_UNBIND, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	check(who, talk(fd, &m), EPERM, NULL);
	start(&m, fam, VHOST_ZC_CMD_PORT_GET, 0);
	puts0(&m, VHOST_ZC_A_PORT_IFNAME, tap);
	check(who, talk(fd, &m), EPERM, NULL);
	start(&m, fam, VHOST_ZC_CMD_PORT_GET, NLM_F_DUMP);
	check(who, talk(fd, &m), EPERM, NULL);
	return failures ? 1 : 0;
}

static int in_child(const char *who, int how, const char *tap, const char *vf)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (how == 0 && (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
				 setresuid(65534, 65534, 65534))) {
			perror("drop to nobody");
			_exit(2);
		}
		/* A kernel without CONFIG_USER_NS (the debug kernel) has no
		 * /proc/self/ns/user and refuses CLONE_NEWUSER with EINVAL. */
		if (how && access("/proc/self/ns/user", F_OK))
			_exit(SKIP);
		if (how == 1 && unshare(CLONE_NEWUSER)) {
			perror("unshare(CLONE_NEWUSER)");
			_exit(2);
		}
		if (how == 2 && unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
			perror("unshare(CLONE_NEWUSER|CLONE_NEWNET)");
			_exit(2);
		}
		_exit(refused_all(who, tap, vf));
	}
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP) {
		printf("ok - %s # SKIP no user namespaces in this kernel\n", who);
		return 0;
	}
	n += 4;		/* the child's checks (refused_all) */
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("not ok - %s (exit %d)\n", who, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: zc_nl malformed|perms TAP VF\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "malformed")) {
		malformed(argv[2], argv[3]);
	} else if (!strcmp(argv[1], "perms")) {
		failures += in_child("uid 65534, no capabilities", 0, argv[2], argv[3]);
		failures += in_child("user namespace (CAP_NET_ADMIN there only)", 1, argv[2], argv[3]);
		failures += in_child("user + network namespace", 2, argv[2], argv[3]);
	} else {
		return 2;
	}
	printf("%s: %d checks, %d failed\n", argv[1], n, failures);
	return failures ? 1 : 0;
}
