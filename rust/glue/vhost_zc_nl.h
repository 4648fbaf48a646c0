/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vhost_zc.yaml */
/* YNL-GEN kernel header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _LINUX_VHOST_ZC_GEN_H
#define _LINUX_VHOST_ZC_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/vhost_zc.h>

/* Ops table for vhost_zc */
extern const struct genl_split_ops vhost_zc_nl_ops[4];

int vhost_zc_nl_port_bind_doit(struct sk_buff *skb, struct genl_info *info);
int vhost_zc_nl_port_unbind_doit(struct sk_buff *skb, struct genl_info *info);
int vhost_zc_nl_port_get_doit(struct sk_buff *skb, struct genl_info *info);
int vhost_zc_nl_port_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);

#endif /* _LINUX_VHOST_ZC_GEN_H */
