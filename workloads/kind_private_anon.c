// SPDX-License-Identifier: GPL-2.0
/* private-anon: MAP_PRIVATE|MAP_ANONYMOUS, the control (swap PTEs). */
#include "kind.h"

#include <sys/mman.h>

static int private_anon_create(struct pmw_region *r)
{
	r->fd = -1;
	return pmw_region_map(r, MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

const struct pmw_kind pmw_kind_private_anon = {
	.probe = NULL,
	.create = private_anon_create,
	.destroy = pmw_region_unmap,
};
