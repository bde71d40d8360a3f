// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * VLAN tags (rw_vlan() in bpf/actions.h).  The fast path holds untagged
 * frames only (lib/spec/parse.c hands a tagged one to the generic
 * program), so a pop there has no tag to remove: rw_vlan() fails and the
 * frame stays as it is.  That holds while no action of the program can
 * tag a frame first: 'vlan push' is not generated, an application that
 * uses it stays generic as a whole (act_supported()).
 */
#include <stddef.h>

#include "spec/internal.h"

void spec_vlan_pop(struct spec *sp)
{
	spec_cnt_add(sp, SR_STATS, (int)offsetof(struct xfsm_stats, exc_rewrite_failed), 1);
}
