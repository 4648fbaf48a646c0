// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vhost_zc.yaml */
/* YNL-GEN kernel source */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "vhost_zc_nl.h"

#include <uapi/linux/vhost_zc.h>

/* VHOST_ZC_CMD_PORT_BIND - do */
static const struct nla_policy vhost_zc_port_bind_nl_policy[VHOST_ZC_A_PORT_MAC + 1] = {
	[VHOST_ZC_A_PORT_IFNAME] = { .type = NLA_NUL_STRING, .len = 15, },
	[VHOST_ZC_A_PORT_VF] = { .type = NLA_NUL_STRING, .len = 31, },
	[VHOST_ZC_A_PORT_MAC] = NLA_POLICY_EXACT_LEN(6),
};

/* VHOST_ZC_CMD_PORT_UNBIND - do */
static const struct nla_policy vhost_zc_port_unbind_nl_policy[VHOST_ZC_A_PORT_IFNAME + 1] = {
	[VHOST_ZC_A_PORT_IFNAME] = { .type = NLA_NUL_STRING, .len = 15, },
};

/* VHOST_ZC_CMD_PORT_GET - do */
static const struct nla_policy vhost_zc_port_get_nl_policy[VHOST_ZC_A_PORT_IFNAME + 1] = {
	[VHOST_ZC_A_PORT_IFNAME] = { .type = NLA_NUL_STRING, .len = 15, },
};

/* Ops table for vhost_zc */
const struct genl_split_ops vhost_zc_nl_ops[4] = {
	{
		.cmd		= VHOST_ZC_CMD_PORT_BIND,
		.doit		= vhost_zc_nl_port_bind_doit,
		.policy		= vhost_zc_port_bind_nl_policy,
		.maxattr	= VHOST_ZC_A_PORT_MAC,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VHOST_ZC_CMD_PORT_UNBIND,
		.doit		= vhost_zc_nl_port_unbind_doit,
		.policy		= vhost_zc_port_unbind_nl_policy,
		.maxattr	= VHOST_ZC_A_PORT_IFNAME,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VHOST_ZC_CMD_PORT_GET,
		.doit		= vhost_zc_nl_port_get_doit,
		.policy		= vhost_zc_port_get_nl_policy,
		.maxattr	= VHOST_ZC_A_PORT_IFNAME,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VHOST_ZC_CMD_PORT_GET,
		.dumpit	= vhost_zc_nl_port_get_dumpit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
};
