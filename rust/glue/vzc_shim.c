// SPDX-License-Identifier: GPL-2.0-only
/*
 * C shim of vhost_zc. Only glue for APIs Rust cannot reach (macros, static
 * inlines); no logic lives here. See rust/glue/ffi.rs for the Rust side.
 */
#include <linux/err.h>
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

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
	struct kobj_attribute attrs[VZC_ATTR_DIR_MAX];
	struct attribute *ptrs[VZC_ATTR_DIR_MAX + 1];
	struct attribute_group group;
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
	kfree(to_vzc_dir(kobj));
}

static const struct kobj_type vzc_dir_ktype = {
	.release = vzc_dir_release,
	.sysfs_ops = &kobj_sysfs_ops,
};

struct kobject *vzc_attr_dir_create(struct device *parent, const char *name,
				    const char *const *names,
				    const unsigned short *modes, unsigned int n,
				    const void *priv, vzc_show_fn show,
				    vzc_store_fn store)
{
	struct vzc_attr_dir *d;
	unsigned int i;
	int err;

	if (n > VZC_ATTR_DIR_MAX)
		return ERR_PTR(-E2BIG);
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	d->priv = priv;
	d->show = show;
	d->store = store;
	for (i = 0; i < n; i++) {
		sysfs_attr_init(&d->attrs[i].attr);
		d->attrs[i].attr.name = names[i];
		d->attrs[i].attr.mode = modes[i];
		if (modes[i] & 0444)
			d->attrs[i].show = vzc_dir_show;
		if (modes[i] & 0222)
			d->attrs[i].store = vzc_dir_store;
		d->ptrs[i] = &d->attrs[i].attr;
	}
	d->group.attrs = d->ptrs;
	err = kobject_init_and_add(&d->kobj, &vzc_dir_ktype, &parent->kobj,
				   "%s", name);
	if (err)
		goto put;
	err = sysfs_create_group(&d->kobj, &d->group);
	if (err)
		goto put;
	return &d->kobj;
put:
	kobject_put(&d->kobj);
	return ERR_PTR(err);
}

void vzc_attr_dir_destroy(struct kobject *kobj)
{
	sysfs_remove_group(kobj, &to_vzc_dir(kobj)->group);
	/* Waits for running show/store calls: afterwards priv is unused. */
	kobject_del(kobj);
	kobject_put(kobj);
}
