// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Installs the "empty application" of `make bench` scenario 2 into a
 * pinned xfsm instance: no stages, default verdict drop, so every packet is
 * parsed and then dropped.  The language needs at least one stage, hence
 * this image built by hand through libxfsm.
 *
 * Usage: apply_empty PIN_DIR
 */
#include <stdio.h>
#include <string.h>

#include "libxfsm.h"

int main(int argc, char **argv)
{
	struct xfsm_instance *inst = NULL;
	struct xfsm_image img;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PIN_DIR\n", argv[0]);
		return 2;
	}
	err = xfsm_instance_open_pin_dir(argv[1], &inst);
	if (!err)
		err = xfsm_instance_check_abi(inst);
	if (err) {
		fprintf(stderr, "apply_empty: cannot open the instance in %s: %s\n", argv[1],
			strerror(-err));
		goto out;
	}
	xfsm_image_init(&img);
	img.app.n_stages = 0;
	img.app.default_verdict = XFSM_VERDICT_DROP;
	err = xfsm_apply(inst, &img, NULL);
	xfsm_image_free(&img);
	if (err)
		fprintf(stderr, "apply_empty: apply: %s\n", strerror(-err));
out:
	if (inst)
		xfsm_instance_close(inst);
	return err ? 1 : 0;
}
