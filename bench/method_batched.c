// SPDX-License-Identifier: GPL-2.0
/* batched:B: one pass over the range with preads of B entries (the last one shorter). */
#include "method.h"

const struct pms_method pms_method_batched = {
	.probe = pms_probe_pread,
	.pass = pms_pass_batched,
};
