/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * C shim of vhost_zc: the few kernel APIs that exist only as macros or
 * static inlines, behind plain functions Rust can call. Declared again on the
 * Rust side in rust/glue/ffi.rs; keep the two in step.
 */
#ifndef VZC_SHIM_H
#define VZC_SHIM_H

#include <linux/device.h>
#include <linux/kobject.h>

/*
 * Create /sys/kernel/vhost_zc with its read-only attributes (built from the
 * __ATTR_RO()/attribute_group macros). @version must outlive the kobject.
 * Returns the kobject or an ERR_PTR.
 */
struct kobject *vzc_sysfs_create(const char *version);
void vzc_sysfs_destroy(struct kobject *kobj);

/* clear_user(): zero @n bytes at user address @to; returns bytes not cleared. */
unsigned long vzc_clear_user(void __user *to, unsigned long n);
/*
 * get_user()/put_user() of one u16: a ring index read or written with a
 * single access. The guest updates them concurrently, and copy_*_user()
 * may move the two bytes separately. 0 or -EFAULT.
 */
int vzc_get_user_u16(const void __user *p, u16 *v);
int vzc_put_user_u16(void __user *p, u16 v);
/* access_ok(): the range lies in user space (no fault check). */
bool vzc_access_ok(unsigned long addr, unsigned long size);

/* __set_current_state(TASK_RUNNING), for a vhost_task fn about to do work. */
void vzc_set_running(void);

/*
 * Polling a file from the worker, as upstream vhost_poll: a wait entry on the
 * file's wait queue whose callback (atomic context) calls @wake(@data, @token) when
 * an event in @mask arrives. vfs_poll(), init_poll_funcptr() and
 * init_waitqueue_func_entry() are static inlines.
 */
struct vzc_poll;
struct vzc_poll *vzc_poll_alloc(__poll_t mask, void (*wake)(void *data, unsigned long token),
				void *data, unsigned long token);
/* 0, or -EINVAL if the file reports EPOLLERR. @file must outlive the poll. */
int vzc_poll_start(struct vzc_poll *p, struct file *file);
void vzc_poll_stop(struct vzc_poll *p);
void vzc_poll_free(struct vzc_poll *p);

/*
 * The socket of a backend fd (bound AF_PACKET raw socket, tun/tap, macvtap),
 * holding a reference on its file in *@filep
 * (upstream get_socket(): any failure is -ENOTSOCK).
 */
struct socket *vzc_backend_socket_get(int fd, struct file **filep);
struct mm_struct;
void vzc_mm_pinned_vm_add(struct mm_struct *mm, long delta);
int vzc_tun_identity(struct file *file, char *name, u64 *net_cookie);
/* sendmsg / recvmsg (MSG_DONTWAIT, +MSG_TRUNC on receive) over user iovecs. */
int vzc_sock_sendmsg(struct socket *sock, const struct iovec *iov, unsigned long nr, size_t len);
int vzc_sock_recvmsg(struct socket *sock, const struct iovec *iov, unsigned long nr, size_t len);
/* Length of the next packet queued on the socket, 0 if none. */
int vzc_sock_peek_len(struct socket *sock);
/* Drop the next queued packet (a 1-byte truncating read). */
int vzc_sock_discard(struct socket *sock);
/* vfs_poll() says EPOLLOUT; if not, the write-space wake-up is armed. */
bool vzc_file_writable(struct file *file);

/* Atomically set bit @bit of the user byte at @uaddr (upstream set_bit_to_user). */
int vzc_log_set_bit(unsigned long uaddr, unsigned int bit);
/* Most attributes one vzc_attr_dir holds, and most subdirectories. */
#define VZC_ATTR_DIR_MAX 256
#define VZC_ATTR_GROUPS_MAX 16

typedef ssize_t (*vzc_show_fn)(const void *priv, unsigned int idx, char *buf);
typedef ssize_t (*vzc_store_fn)(const void *priv, unsigned int idx,
				const char *buf, size_t count);

/* One attribute: file @name in subdirectory @dir (NULL: the directory itself). */
struct vzc_attr_desc {
	const char *name;
	const char *dir;
	unsigned short mode;
};

/*
 * Create directory @name below @parent's sysfs directory (@parent NULL:
 * below /sys/kernel/vhost_zc/devices) with the @n attributes of @descs
 * (attributes of one subdirectory are consecutive; the strings must outlive
 * the directory, @descs need not) whose show/store call @show/@store with
 * @priv and the attribute's index in @descs. @priv must stay valid until
 * vzc_attr_dir_destroy() returns, which removes the directory with its
 * subdirectories and waits for running callbacks. The attributes are
 * declared in Rust (rust/glue/sysfs.rs). Returns the kobject or an ERR_PTR.
 */
struct kobject *vzc_attr_dir_create(struct device *parent, const char *name,
				    const struct vzc_attr_desc *descs,
				    unsigned int n, const void *priv,
				    vzc_show_fn show, vzc_store_fn store);
void vzc_attr_dir_destroy(struct kobject *kobj);

/*
 * Busy polling (upstream vhost_net_busy_poll()): a clock in ~us, whether to
 * go on polling until @endtime (no reschedule or signal pending), and
 * cpu_relax().
 */
u64 vzc_busy_clock(void);
bool vzc_busy_poll_ok(u64 endtime);
void vzc_cpu_relax(void);
/* cond_resched(), a macro: the worker yields between rounds of work. */
void vzc_cond_resched(void);

/*
 * A self-rearming delayed work on system_percpu_wq: runs @fn(@data, @token);
 * a return value >= 0 queues it again after that many ms, < 0 lets it rest.
 * INIT_DELAYED_WORK and queue_delayed_work are macros/static inlines.
 * vzc_dwork_disable() waits for a running callback and keeps the work from
 * being queued again (disable_delayed_work_sync); only then may @data go.
 */
struct vzc_dwork;
struct vzc_dwork *vzc_dwork_alloc(long (*fn)(const void *data, unsigned long token),
				  const void *data, unsigned long token);
void vzc_dwork_queue(struct vzc_dwork *w, unsigned int ms);
void vzc_dwork_disable(struct vzc_dwork *w);
void vzc_dwork_free(struct vzc_dwork *w);

#endif /* VZC_SHIM_H */
