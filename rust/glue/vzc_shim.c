// SPDX-License-Identifier: GPL-2.0-only
/*
 * C shim of vhost_zc. Only glue for APIs Rust cannot reach (macros, static
 * inlines); no logic lives here. See rust/glue/ffi.rs for the Rust side.
 */
#include <linux/err.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "vzc_shim.h"

static const char *vzc_version;

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
	return kobj;
}

void vzc_sysfs_destroy(struct kobject *kobj)
{
	sysfs_remove_group(kobj, &vzc_group);
	kobject_put(kobj);
}

unsigned long vzc_clear_user(void __user *to, unsigned long n)
{
	return clear_user(to, n);
}
