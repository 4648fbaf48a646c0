/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * C shim of the generic netlink family vhost_zc: the family struct, the
 * netns hook, and the message helpers that exist only as static inlines or
 * macros (genlmsg_*, nla_put_*, NL_SET_ERR_MSG*). The handlers are Rust
 * (rust/glue/genl.rs); the policy and ops tables are generated from the
 * YNL spec (vhost_zc_nl.{c,h}). Declared again in rust/glue/ffi.rs.
 */
#ifndef VZC_GENL_H
#define VZC_GENL_H

#include <linux/types.h>

struct sk_buff;
struct genl_info;
struct netlink_callback;
struct nlattr;
struct net;

/*
 * Register the family and a pernet hook whose exit calls @net_exit with the
 * dying namespace's cookie (its ports go). 0 or -errno.
 */
int vzc_genl_register(void (*net_exit)(u64 net_cookie));
/* Unregister both; waits for running handlers. */
void vzc_genl_unregister(void);

/* Request attribute @type of @info, or NULL. */
const struct nlattr *vzc_genl_attr(const struct genl_info *info, int type);
/* Payload and payload length of @a. */
const void *vzc_nla_payload(const struct nlattr *a, int *len);
/* Whether attribute @type is there; if not, the extack names it as missing. */
bool vzc_genl_has_attr(const struct genl_info *info, int type);
/* Set the extack message (static @msg) and, for @type > 0, the offending attribute. */
void vzc_genl_set_err(const struct genl_info *info, int type, const char *msg);
/* Cookie of the requester's network namespace. */
u64 vzc_genl_net_cookie(const struct genl_info *info);
/* The requester's network namespace (valid for the handler's duration). */
struct net *vzc_genl_net(const struct genl_info *info);
/* The genl_info of a dump. */
const struct genl_info *vzc_genl_dump_info(struct netlink_callback *cb);
/* The dump's cursor (cb->args[0]). */
unsigned long *vzc_genl_dump_cursor(struct netlink_callback *cb);

/* A reply to @info: a new message with its genetlink header; NULL on ENOMEM. */
struct sk_buff *vzc_genl_reply_new(const struct genl_info *info, void **hdr);
/* Finish and send a reply (consumes @skb). 0 or -errno. */
int vzc_genl_reply_send(struct sk_buff *skb, void *hdr, struct genl_info *info);
void vzc_genl_msg_free(struct sk_buff *skb);
/* One dump entry's header in @skb (NLM_F_MULTI); NULL when @skb is full. */
void *vzc_genl_dump_entry(struct sk_buff *skb, struct netlink_callback *cb);
void vzc_genl_entry_end(struct sk_buff *skb, void *hdr);
void vzc_genl_entry_cancel(struct sk_buff *skb, void *hdr);
/* Bytes in @skb (a dumpit returns it). */
int vzc_skb_len(const struct sk_buff *skb);

/* nla_put(), nla_put_u32(), nla_put_uint() and nests: 0 or -EMSGSIZE. */
int vzc_nla_put(struct sk_buff *skb, int type, int len, const void *data);
int vzc_nla_put_u32(struct sk_buff *skb, int type, u32 value);
int vzc_nla_put_uint(struct sk_buff *skb, int type, u64 value);
struct nlattr *vzc_nla_nest_start(struct sk_buff *skb, int type);
void vzc_nla_nest_end(struct sk_buff *skb, struct nlattr *nest);
void vzc_nla_nest_cancel(struct sk_buff *skb, struct nlattr *nest);

/*
 * The tap @name (NUL-terminated) in @net: its ifindex (> 0); -ENODEV if
 * there is no interface of that name, -EMEDIUMTYPE if it is not a tun
 * device in TAP mode (an Ethernet tun, what QEMU's -netdev tap opens).
 */
int vzc_tap_ifindex(struct net *net, const char *name);
/* Current ifindex of interface @name in @net, 0 if there is none. */
int vzc_ifindex_by_name(struct net *net, const char *name);
/* Whether a PCI function exists at @domain:@bus:@devfn. */
bool vzc_pci_exists(u32 domain, u8 bus, u8 devfn);
struct pci_dev;
/* The address of @pdev (pci_domain_nr() is an inline). */
void vzc_pci_addr(const struct pci_dev *pdev, u32 *domain, u8 *bus, u8 *devfn);

#endif /* VZC_GENL_H */
