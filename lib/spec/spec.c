// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The specializer's entry (lib/xfsm_spec.h).  Placeholder until the
 * generator lands: every application stays generic. */
#include <errno.h>

#include "xfsm_spec.h"

int xfsm_spec_generate(struct xfsm_instance *inst, const struct xfsm_spec_input *in,
		       struct xfsm_emit *e)
{
	(void)inst;
	(void)in;
	xfsm_emit_fail(e, -EOPNOTSUPP, "the specializer is not built yet");
	return e->err;
}
