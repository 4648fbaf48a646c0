// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic netlink family vhost_zc: see vzc_genl.h. The family struct is
 * written here because ynl_gen_c.py generates it only for protocol
 * "genetlink", whose names may not contain '_' (the family is vhost_zc).
 */
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>

#include "vhost_zc_nl.h"
#include "vzc_genl.h"

static struct genl_family vzc_genl_family __ro_after_init = {
	.name		= VHOST_ZC_FAMILY_NAME,
	.version	= VHOST_ZC_FAMILY_VERSION,
	/* Ports are per namespace; the handlers use the requester's. */
	.netnsok	= true,
	/*
	 * The handlers serialise on their own mutex (CONTROL), and port-bind
	 * may sleep while a running device pins: not under genl_mutex, which
	 * every family without parallel_ops shares.
	 */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= vhost_zc_nl_ops,
	.n_split_ops	= ARRAY_SIZE(vhost_zc_nl_ops),
	.resv_start_op	= VHOST_ZC_CMD_PORT_GET + 1,
};

static void (*vzc_net_exit_cb)(u64 net_cookie);

static void __net_exit vzc_net_exit(struct net *net)
{
	vzc_net_exit_cb(net->net_cookie);
}

static struct pernet_operations vzc_net_ops = {
	.exit = vzc_net_exit,
};

int vzc_genl_register(void (*net_exit)(u64 net_cookie))
{
	int err;

	vzc_net_exit_cb = net_exit;
	err = register_pernet_subsys(&vzc_net_ops);
	if (err)
		return err;
	err = genl_register_family(&vzc_genl_family);
	if (err)
		unregister_pernet_subsys(&vzc_net_ops);
	return err;
}

void vzc_genl_unregister(void)
{
	genl_unregister_family(&vzc_genl_family);
	unregister_pernet_subsys(&vzc_net_ops);
}

/*
 * info->attrs has room for the running op's policy only (maxattr + 1):
 * bound every index by it, so asking for an attribute the op does not
 * take is NULL, not a read past the array.
 */
static const struct nlattr *vzc_attr_of(const struct genl_info *info, int type)
{
	u8 cmd = info->genlhdr->cmd;
	int i;

	if (type <= 0 || !info->attrs)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(vhost_zc_nl_ops); i++) {
		const struct genl_split_ops *op = &vhost_zc_nl_ops[i];

		if (op->cmd == cmd && op->doit)
			return type <= op->maxattr ? info->attrs[type] : NULL;
	}
	return NULL;
}

const struct nlattr *vzc_genl_attr(const struct genl_info *info, int type)
{
	return vzc_attr_of(info, type);
}

const void *vzc_nla_payload(const struct nlattr *a, int *len)
{
	*len = nla_len(a);
	return nla_data(a);
}

bool vzc_genl_has_attr(const struct genl_info *info, int type)
{
	if (vzc_attr_of(info, type))
		return true;
	NL_SET_ERR_ATTR_MISS(info->extack, NULL, type);
	return false;
}

void vzc_genl_set_err(const struct genl_info *info, int type, const char *msg)
{
	const struct nlattr *a = vzc_attr_of(info, type);

	/*
	 * NL_SET_ERR_MSG() wants a string literal; the messages are static
	 * strings of the Rust side, so set what it sets.
	 */
	if (!info->extack)
		return;
	info->extack->_msg = msg;
	if (a)
		NL_SET_BAD_ATTR(info->extack, a);
}

u64 vzc_genl_net_cookie(const struct genl_info *info)
{
	return genl_info_net(info)->net_cookie;
}

struct net *vzc_genl_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

const struct genl_info *vzc_genl_dump_info(struct netlink_callback *cb)
{
	return genl_info_dump(cb);
}

unsigned long *vzc_genl_dump_cursor(struct netlink_callback *cb)
{
	return &cb->args[0];
}

struct sk_buff *vzc_genl_reply_new(const struct genl_info *info, void **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_iput(skb, info);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

int vzc_genl_reply_send(struct sk_buff *skb, void *hdr, struct genl_info *info)
{
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

void vzc_genl_msg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

void *vzc_genl_dump_entry(struct sk_buff *skb, struct netlink_callback *cb)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &vzc_genl_family, NLM_F_MULTI, VHOST_ZC_CMD_PORT_GET);
}

void vzc_genl_entry_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void vzc_genl_entry_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int vzc_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

int vzc_nla_put(struct sk_buff *skb, int type, int len, const void *data)
{
	return nla_put(skb, type, len, data);
}

int vzc_nla_put_u32(struct sk_buff *skb, int type, u32 value)
{
	return nla_put_u32(skb, type, value);
}

int vzc_nla_put_uint(struct sk_buff *skb, int type, u64 value)
{
	return nla_put_uint(skb, type, value);
}

struct nlattr *vzc_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start(skb, type);
}

void vzc_nla_nest_end(struct sk_buff *skb, struct nlattr *nest)
{
	nla_nest_end(skb, nest);
}

void vzc_nla_nest_cancel(struct sk_buff *skb, struct nlattr *nest)
{
	nla_nest_cancel(skb, nest);
}

int vzc_tap_ifindex(struct net *net, const char *name)
{
	struct net_device *dev;
	int ret;

	rcu_read_lock();
	dev = dev_get_by_name_rcu(net, name);
	if (!dev)
		ret = -ENODEV;
	/* tun sets rtnl_link_ops to its "tun" ops; TAP mode is ARPHRD_ETHER. */
	else if (!dev->rtnl_link_ops || strcmp(dev->rtnl_link_ops->kind, "tun") ||
		 dev->type != ARPHRD_ETHER)
		ret = -EMEDIUMTYPE;
	else
		ret = dev->ifindex;
	rcu_read_unlock();
	return ret;
}

int vzc_ifindex_by_name(struct net *net, const char *name)
{
	struct net_device *dev;
	int ret = 0;

	rcu_read_lock();
	dev = dev_get_by_name_rcu(net, name);
	if (dev)
		ret = dev->ifindex;
	rcu_read_unlock();
	return ret;
}

bool vzc_pci_exists(u32 domain, u8 bus, u8 devfn)
{
	struct pci_dev *pdev = pci_get_domain_bus_and_slot(domain, bus, devfn);

	pci_dev_put(pdev);
	return pdev;
}

void vzc_pci_addr(const struct pci_dev *pdev, u32 *domain, u8 *bus, u8 *devfn)
{
	*domain = pci_domain_nr(pdev->bus);
	*bus = pdev->bus->number;
	*devfn = pdev->devfn;
}
