/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * C shim of vhost_zc: the few kernel APIs that exist only as macros or
 * static inlines, behind plain functions Rust can call. Declared again on the
 * Rust side in rust/glue/ffi.rs; keep the two in step.
 */
#ifndef VZC_SHIM_H
#define VZC_SHIM_H

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

#endif /* VZC_SHIM_H */
