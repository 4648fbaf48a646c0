#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The kernel's vhost_net_test against vhost_zc (vhost_net_test.sh runs it
# against stock vhost_net, the reference, with the same variants and checks).
exec sh /selftests/vhost_net_test.sh vhost_zc
