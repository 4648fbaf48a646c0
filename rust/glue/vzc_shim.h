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

/*
 * Per-device counters in /sys/kernel/vhost_zc/devices/<name>/: VZC_NSTATS
 * u64s, laid out as in rust/glue/stats.rs, updated atomically by Rust and
 * read by the show() callbacks. The memory lives with the kobject, so a
 * reader racing with the device's release is safe.
 */
#define VZC_NSTATS 26
struct vzc_stats;
struct vzc_stats *vzc_stats_create(const char *name);
u64 *vzc_stats_counters(struct vzc_stats *s);
void vzc_stats_destroy(struct vzc_stats *s);

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
/* Most attributes one vzc_attr_dir holds. */
#define VZC_ATTR_DIR_MAX 64

typedef ssize_t (*vzc_show_fn)(const void *priv, unsigned int idx, char *buf);
typedef ssize_t (*vzc_store_fn)(const void *priv, unsigned int idx,
				const char *buf, size_t count);

/*
 * Create directory @name below @parent's sysfs directory with @n attributes
 * (names[i] with mode modes[i]; the name strings must outlive the directory)
 * whose show/store call @show/@store with @priv and the attribute's index.
 * @priv must stay valid until vzc_attr_dir_destroy() returns, which removes
 * the directory and waits for running callbacks. Returns the kobject or an
 * ERR_PTR.
 */
struct kobject *vzc_attr_dir_create(struct device *parent, const char *name,
				    const char *const *names,
				    const unsigned short *modes, unsigned int n,
				    const void *priv, vzc_show_fn show,
				    vzc_store_fn store);
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
