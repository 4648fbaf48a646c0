/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost_zc's per-device counters for the C selftests: the sum of one
 * counter over /sys/kernel/vhost_zc/devices/<every device>/, or -1 if no
 * device has it (vhost_zc not loaded, or no /dev/vhost-net open).
 */
#ifndef VZC_COUNTERS_H
#define VZC_COUNTERS_H

#include <glob.h>
#include <stdio.h>

static inline long long zc_counter(const char *name)
{
	char pat[128];
	glob_t g;
	long long sum = 0, v;

	snprintf(pat, sizeof(pat), "/sys/kernel/vhost_zc/devices/*/%s", name);
	if (glob(pat, 0, NULL, &g))
		return -1;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (f && fscanf(f, "%lld", &v) == 1)
			sum += v;
		if (f)
			fclose(f);
	}
	globfree(&g);
	return sum;
}

#endif
