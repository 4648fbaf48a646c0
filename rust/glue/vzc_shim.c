// SPDX-License-Identifier: GPL-2.0-only
/*
 * C shim of vhost_zc. Only glue for APIs Rust cannot reach (macros, static
 * inlines); no logic lives here. See rust/glue/ffi.rs for the Rust side.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <net/sock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

#include "vzc_shim.h"

static const char *vzc_version;
/* /sys/kernel/vhost_zc/devices: one directory per open /dev/vhost-net. */
static struct kobject *vzc_devices;

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", vzc_version);
}

static struct kobj_attribute version_attr = __ATTR_RO(version);

static struct attribute *vzc_attrs[] = {
	&version_attr.attr,
	NULL,
};

static const struct attribute_group vzc_group = {
	.attrs = vzc_attrs,
};

struct kobject *vzc_sysfs_create(const char *version)
{
	struct kobject *kobj;
	int err;

	vzc_version = version;
	kobj = kobject_create_and_add("vhost_zc", kernel_kobj);
	if (!kobj)
		return ERR_PTR(-ENOMEM);
	err = sysfs_create_group(kobj, &vzc_group);
	if (err) {
		kobject_put(kobj);
		return ERR_PTR(err);
	}
	vzc_devices = kobject_create_and_add("devices", kobj);
	if (!vzc_devices) {
		sysfs_remove_group(kobj, &vzc_group);
		kobject_put(kobj);
		return ERR_PTR(-ENOMEM);
	}
	return kobj;
}

void vzc_sysfs_destroy(struct kobject *kobj)
{
	kobject_put(vzc_devices);
	vzc_devices = NULL;
	sysfs_remove_group(kobj, &vzc_group);
	kobject_put(kobj);
}

unsigned long vzc_clear_user(void __user *to, unsigned long n)
{
	return clear_user(to, n);
}

/*
 * Not copy_{from,to}_user(): below 8 bytes x86 copies byte by byte
 * (rep_movs_alternative; rep movsb is no better under emulation), so a
 * guest moving an index from 0x01ff to 0x0200 could be read as 0x02ff,
 * and a used index we write could be seen half updated.
 */
int vzc_get_user_u16(const void __user *p, u16 *v)
{
	return get_user(*v, (const u16 __user *)p);
}

int vzc_put_user_u16(void __user *p, u16 v)
{
	return put_user(v, (u16 __user *)p);
}

bool vzc_access_ok(unsigned long addr, unsigned long size)
{
	return access_ok((void __user *)addr, size);
}

void vzc_set_running(void)
{
	__set_current_state(TASK_RUNNING);
}

struct vzc_poll {
	poll_table table;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	__poll_t mask;
	void (*wake)(void *data, unsigned long token);
	void *data;
	unsigned long token;
};

static void vzc_poll_func(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct vzc_poll *p = container_of(pt, struct vzc_poll, table);

	p->wqh = wqh;
	add_wait_queue(wqh, &p->wait);
}

static int vzc_poll_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct vzc_poll *p = container_of(wait, struct vzc_poll, wait);

	if (key_to_poll(key) & p->mask)
		p->wake(p->data, p->token);
	return 0;
}

struct vzc_poll *vzc_poll_alloc(__poll_t mask, void (*wake)(void *data, unsigned long token),
				void *data, unsigned long token)
{
	struct vzc_poll *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	init_poll_funcptr(&p->table, vzc_poll_func);
	init_waitqueue_func_entry(&p->wait, vzc_poll_wakeup);
	p->mask = mask;
	p->wake = wake;
	p->data = data;
	p->token = token;
	return p;
}

void vzc_poll_stop(struct vzc_poll *p)
{
	if (p->wqh) {
		remove_wait_queue(p->wqh, &p->wait);
		p->wqh = NULL;
	}
}

int vzc_poll_start(struct vzc_poll *p, struct file *file)
{
	__poll_t mask;

	if (p->wqh)
		return 0;
	mask = vfs_poll(file, &p->table);
	if (mask)
		vzc_poll_wakeup(&p->wait, 0, 0, poll_to_key(mask));
	if (mask & EPOLLERR) {
		vzc_poll_stop(p);
		return -EINVAL;
	}
	return 0;
}

void vzc_poll_free(struct vzc_poll *p)
{
	vzc_poll_stop(p);
	kfree(p);
}

/*
 * The backend socket of @fd, as upstream get_socket(): a bound AF_PACKET
 * raw socket, a tun/tap or a macvtap/ipvtap file; anything else is ENOTSOCK.
 * On success *filep holds a reference to the socket's file.
 */
struct socket *vzc_backend_socket_get(int fd, struct file **filep)
{
	struct socket *sock;
	struct file *file;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (sock) {
		if (sock->sk->sk_type == SOCK_RAW && sock->sk->sk_family == AF_PACKET) {
			*filep = sock->file;
			return sock;
		}
		sockfd_put(sock);
	}
	file = fget(fd);
	if (!file)
		return ERR_PTR(-ENOTSOCK);
	sock = tun_get_socket(file);
	if (IS_ERR(sock))
		sock = tap_get_socket(file);
	if (IS_ERR(sock)) {
		fput(file);
		return ERR_PTR(-ENOTSOCK);
	}
	*filep = file;
	return sock;
}

/*
 * The interface of a tun file and the namespace of its socket (where the
 * tun device was created: tun_set_iff looks the name up in sock_net).
 * tun keeps its tun_struct private; the name is what it prints in fdinfo
 * (tun_chr_show_fdinfo, "iff:\t<name>\n", the same line userspace reads in
 * /proc/<pid>/fdinfo), formatted into a seq_file over a stack buffer.
 * @name: IFNAMSIZ bytes. Takes rtnl. 0, or -ENOTTY (not a tun file: macvtap, AF_PACKET),
 * -ENODEV (not attached to a device), -EOVERFLOW.
 */
int vzc_tun_identity(struct file *file, char *name, u64 *net_cookie)
{
	struct socket *sock = tun_get_socket(file);
	char buf[64];
	struct seq_file m = { .buf = buf, .size = sizeof(buf) };
	const char *p, *nl;

	if (IS_ERR(sock) || !file->f_op->show_fdinfo)
		return -ENOTTY;
	file->f_op->show_fdinfo(&m, file);
	if (m.count >= m.size)
		return -EOVERFLOW;
	buf[m.count] = 0;
	if (strncmp(buf, "iff:\t", 5))
		return -EOVERFLOW;
	p = buf + 5;
	nl = strchr(p, '\n');
	if (!nl || nl == p)
		return -ENODEV;
	if (nl - p >= IFNAMSIZ)
		return -EOVERFLOW;
	memcpy(name, p, nl - p);
	name[nl - p] = 0;
	*net_cookie = sock_net(sock->sk)->net_cookie;
	return 0;
}

/* mm->pinned_vm (VmPin) by @delta pages: what the pins hold now. */
void vzc_mm_pinned_vm_add(struct mm_struct *mm, long delta)
{
	atomic64_add(delta, &mm->pinned_vm);
}

int vzc_sock_sendmsg(struct socket *sock, const struct iovec *iov, unsigned long nr, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

	iov_iter_init(&msg.msg_iter, ITER_SOURCE, iov, nr, len);
	return sock->ops->sendmsg(sock, &msg, len);
}

int vzc_sock_recvmsg(struct socket *sock, const struct iovec *iov, unsigned long nr, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

	iov_iter_init(&msg.msg_iter, ITER_DEST, iov, nr, len);
	return sock->ops->recvmsg(sock, &msg, len, MSG_DONTWAIT | MSG_TRUNC);
}

/*
 * Drops the next queued packet (upstream: a 1-byte truncating read on
 * overrun). A zero-length read would not do: tun and tap return 0 for it
 * without dequeuing, and the packet would be seen again forever.
 */
int vzc_sock_discard(struct socket *sock)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	char byte;
	struct kvec kv = { .iov_base = &byte, .iov_len = 1 };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, 1);
	return sock->ops->recvmsg(sock, &msg, 1, MSG_DONTWAIT | MSG_TRUNC);
}

/*
 * Length of the next queued packet: tun and tap say it themselves; for a
 * packet socket it is the head of the receive queue, with the VLAN tag that
 * recvmsg puts back in (upstream peek_head_len()).
 */
int vzc_sock_peek_len(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct sk_buff *head;
	unsigned long flags;
	int len = 0;

	if (sock->ops->peek_len)
		return sock->ops->peek_len(sock);
	spin_lock_irqsave(&sk->sk_receive_queue.lock, flags);
	head = skb_peek(&sk->sk_receive_queue);
	if (head) {
		len = head->len;
		if (skb_vlan_tag_present(head))
			len += VLAN_HLEN;
	}
	spin_unlock_irqrestore(&sk->sk_receive_queue.lock, flags);
	return len;
}

/*
 * Whether a send may succeed now (upstream re-polls the socket after a
 * retryable send error: vhost_net_enable_vq()). A NULL poll table registers
 * nothing; a socket that is not writable arms its write-space wake-up.
 */
bool vzc_file_writable(struct file *file)
{
	return vfs_poll(file, NULL) & EPOLLOUT;
}

int vzc_log_set_bit(unsigned long uaddr, unsigned int bit)
{
	struct page *page;
	void *base;
	int r;

	r = pin_user_pages_fast(uaddr & PAGE_MASK, 1, FOLL_WRITE, &page);
	if (r < 0)
		return r;
	if (r != 1)
		return -EFAULT;
	base = kmap_local_page(page);
	set_bit(bit + (uaddr & ~PAGE_MASK) * 8, base);
	kunmap_local(base);
	unpin_user_pages_dirty_lock(&page, 1, true);
	return 0;
}

/*
 * A directory of attributes whose names, modes and callbacks come from Rust
 * (rust/glue/sysfs.rs, AttrDir). The attribute structures are built at run
 * time because their number and names are the Rust caller's; the C side only
 * routes show/store to the caller's functions with the attribute's index.
 */
struct vzc_attr_dir {
	struct kobject kobj;
	const void *priv;
	vzc_show_fn show;
	vzc_store_fn store;
	/* One group per subdirectory (name NULL: the directory itself). */
	struct attribute_group group[VZC_ATTR_GROUPS_MAX];
	const struct attribute_group *groups[VZC_ATTR_GROUPS_MAX + 1];
	/* Each group's NULL-terminated run of pointers into attrs. */
	struct attribute **ptrs;
	struct kobj_attribute attrs[];
};

static struct vzc_attr_dir *to_vzc_dir(struct kobject *kobj)
{
	return container_of(kobj, struct vzc_attr_dir, kobj);
}

static ssize_t vzc_dir_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct vzc_attr_dir *d = to_vzc_dir(kobj);

	return d->show(d->priv, attr - d->attrs, buf);
}

static ssize_t vzc_dir_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	struct vzc_attr_dir *d = to_vzc_dir(kobj);

	return d->store(d->priv, attr - d->attrs, buf, count);
}

static void vzc_dir_release(struct kobject *kobj)
{
	struct vzc_attr_dir *d = to_vzc_dir(kobj);

	kfree(d->ptrs);
	kfree(d);
}

static const struct kobj_type vzc_dir_ktype = {
	.release = vzc_dir_release,
	.sysfs_ops = &kobj_sysfs_ops,
};

static bool vzc_same_dir(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

struct kobject *vzc_attr_dir_create(struct device *parent, const char *name,
				    const struct vzc_attr_desc *descs,
				    unsigned int n, const void *priv,
				    vzc_show_fn show, vzc_store_fn store)
{
	struct kobject *parent_kobj = parent ? &parent->kobj : vzc_devices;
	struct vzc_attr_dir *d;
	unsigned int i, p = 0, ng = 0;
	int err;

	if (!parent_kobj)
		return ERR_PTR(-ENODEV);
	if (n > VZC_ATTR_DIR_MAX)
		return ERR_PTR(-E2BIG);
	d = kzalloc(struct_size(d, attrs, n), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	d->ptrs = kcalloc(n + VZC_ATTR_GROUPS_MAX, sizeof(*d->ptrs), GFP_KERNEL);
	if (!d->ptrs) {
		kfree(d);
		return ERR_PTR(-ENOMEM);
	}
	d->priv = priv;
	d->show = show;
	d->store = store;
	for (i = 0; i < n; i++) {
		if (i == 0 || !vzc_same_dir(descs[i].dir, descs[i - 1].dir)) {
			if (ng == VZC_ATTR_GROUPS_MAX) {
				kfree(d->ptrs);
				kfree(d);
				return ERR_PTR(-E2BIG);
			}
			if (ng)
				d->ptrs[p++] = NULL;
			d->group[ng].name = descs[i].dir;
			d->group[ng].attrs = &d->ptrs[p];
			d->groups[ng] = &d->group[ng];
			ng++;
		}
		sysfs_attr_init(&d->attrs[i].attr);
		d->attrs[i].attr.name = descs[i].name;
		d->attrs[i].attr.mode = descs[i].mode;
		if (descs[i].mode & 0444)
			d->attrs[i].show = vzc_dir_show;
		if (descs[i].mode & 0222)
			d->attrs[i].store = vzc_dir_store;
		d->ptrs[p++] = &d->attrs[i].attr;
	}
	err = kobject_init_and_add(&d->kobj, &vzc_dir_ktype, parent_kobj, "%s", name);
	if (err)
		goto put;
	err = sysfs_create_groups(&d->kobj, d->groups);
	if (err)
		goto put;
	return &d->kobj;
put:
	kobject_put(&d->kobj);
	return ERR_PTR(err);
}

void vzc_attr_dir_destroy(struct kobject *kobj)
{
	/*
	 * Removes the subdirectories and waits for running show/store calls:
	 * afterwards priv is unused.
	 */
	sysfs_remove_groups(kobj, to_vzc_dir(kobj)->groups);
	kobject_del(kobj);
	kobject_put(kobj);
}

/* Busy polling, as upstream vhost_net (busy_clock(), vhost_can_busy_poll()). */
u64 vzc_busy_clock(void)
{
	return local_clock() >> 10;
}

bool vzc_busy_poll_ok(u64 endtime)
{
	return !need_resched() && !time_after64(vzc_busy_clock(), endtime) &&
	       !signal_pending(current);
}

void vzc_cpu_relax(void)
{
	cpu_relax();
}

void vzc_cond_resched(void)
{
	cond_resched();
}

struct vzc_dwork {
	struct delayed_work dw;
	long (*fn)(const void *data, unsigned long token);
	const void *data;
	unsigned long token;
};

static void vzc_dwork_fn(struct work_struct *work)
{
	struct vzc_dwork *w = container_of(to_delayed_work(work), struct vzc_dwork, dw);
	long ms = w->fn(w->data, w->token);

	/* Refused once the work is disabled: teardown wins over re-arming. */
	if (ms >= 0)
		queue_delayed_work(system_percpu_wq, &w->dw, msecs_to_jiffies(ms));
}

struct vzc_dwork *vzc_dwork_alloc(long (*fn)(const void *data, unsigned long token),
				  const void *data, unsigned long token)
{
	struct vzc_dwork *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return NULL;
	INIT_DELAYED_WORK(&w->dw, vzc_dwork_fn);
	w->fn = fn;
	w->data = data;
	w->token = token;
	return w;
}

void vzc_dwork_queue(struct vzc_dwork *w, unsigned int ms)
{
	mod_delayed_work(system_percpu_wq, &w->dw, msecs_to_jiffies(ms));
}

void vzc_dwork_disable(struct vzc_dwork *w)
{
	disable_delayed_work_sync(&w->dw);
}

void vzc_dwork_free(struct vzc_dwork *w)
{
	kfree(w);
}
