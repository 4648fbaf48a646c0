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

/* Most attributes one vzc_attr_dir holds. */
#define VZC_ATTR_DIR_MAX 32

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

#endif /* VZC_SHIM_H */
