// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: the language compiler (lib/lang_*.c) on arbitrary text.
 *
 * Whatever the input, the compiler either
 *   - refuses it with one line "fuzz.xfsm:LINE:COL: error: MESSAGE" whose
 *     LINE and COL lie inside the text (or "fuzz.xfsm: error: out of
 *     memory"), leaving the image empty; or
 *   - produces an image that xfsm_image_validate() accepts for the
 *     datapath's limits, whose source, kept the way xfsm_apply() keeps it
 *     (lib/appsrc.c) and read back, recompiles to the identical image and
 *     the identical ACL tables (what `rule add` relies on).
 * Any other outcome aborts, and so does anything ASan or UBSan sees.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libxfsm.h"
#include "xfsm_appsrc.h"
#include "xfsm_lang.h"

#define FNAME "fuzz.xfsm"

#define die(...) fuzz_die("fuzz_lang", __VA_ARGS__)

/* Digits at *p as a number (at most 9 of them), advancing *p. */
static long take_num(const char **p)
{
	long v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9' && n < 9) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n ? v : -1;
}

static void check_error(const char *err, int ret, const uint8_t *data, size_t size)
{
	const char *p = err;
	long line, col, lines = 1, len = 0, cur = 0;

	if (ret == -ENOMEM && !strcmp(err, FNAME ": error: out of memory"))
		return;
	if (ret != -EINVAL)
		die("unexpected return %d (%s)", ret, err);
	if (strncmp(p, FNAME ":", strlen(FNAME ":")))
		die("error without the file name: %s", err);
	p += strlen(FNAME ":");
	line = take_num(&p);
	if (line < 1 || *p++ != ':')
		die("error without a line: %s", err);
	col = take_num(&p);
	if (col < 1 || strncmp(p, ": error: ", 9) || !p[9])
		die("error without a column or message: %s", err);
	/* the location lies in the text: line <= lines, col <= that line's
	 * length + 1 (one past its end, where "end of line" is found) */
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n') {
			if (lines == line)
				len = cur;
			lines++;
			cur = 0;
		} else {
			cur++;
		}
	}
	if (lines == line)
		len = cur;
	if (line > lines)
		die("line %ld beyond the text's %ld lines: %s", line, lines, err);
	if (col > len + 1)
		die("column %ld beyond line %ld's %ld bytes: %s", col, line, len, err);
}

static void same_acls(const struct xfsm_app_names *a, const struct xfsm_app_names *b)
{
	if (a->acl_tables != b->acl_tables)
		die("recompiled source has other ACL tables");
	for (unsigned int t = 0; t < XFSM_ACL_TABLES; t++) {
		if (a->acl[t].n != b->acl[t].n ||
		    (a->acl[t].n && memcmp(a->acl[t].r, b->acl[t].r, a->acl[t].n * sizeof(a->acl[t].r[0]))))
			die("recompiled source has other rules in ACL table %u", t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xfsm_app_names *nm = calloc(1, sizeof(*nm)), *nm2 = calloc(1, sizeof(*nm2));
	struct xfsm_image img, img2;
	size_t vs = sizeof(struct xfsm_appsrc), len;
	char err[600], *val = malloc(vs), *kept;
	int ret;

	if (!nm || !nm2 || !val)
		die("out of memory");
	ret = xfsm_compile_string(FNAME, (const char *)data, size, &img, nm, err, sizeof(err));
	if (ret) {
		check_error(err, ret, data, size);
		if (img.n_rules || img.app.n_stages || img.source)
			die("a refused text left an image behind");
		goto out;
	}
	if (xfsm_image_validate(&img, XFSM_MAX_STAGES, XFSM_MAX_TUPLES, 0))
		die("compiled image does not validate");
	if (img.source_len != size || (size && memcmp(img.source, data, size)))
		die("the image's source is not the text compiled");

	/* the source as the datapath keeps it: whole, or marked as not kept */
	ret = xfsm_appsrc_encode(img.source, img.source_len, val, vs);
	if (ret < 0)
		die("cannot keep the source: %d", ret);
	ret = xfsm_appsrc_decode(val, vs, &kept, &len);
	if (ret == -EFBIG) {
		if (len != size)
			die("a source not kept reports %zu bytes, not %zu", len, size);
		goto done;
	}
	if (ret || len != size || (size && memcmp(kept, data, size)))
		die("the kept source is not the source (%d, %zu bytes)", ret, len);
	ret = xfsm_compile_string(FNAME, kept, len, &img2, nm2, err, sizeof(err));
	free(kept);
	if (ret)
		die("the kept source does not recompile: %s", err);
	if (memcmp(&img.app, &img2.app, sizeof(img.app)) || img.n_rules != img2.n_rules ||
	    (img.n_rules && memcmp(img.rules, img2.rules, img.n_rules * sizeof(img.rules[0]))) ||
	    memcmp(img.globals, img2.globals, sizeof(img.globals)) ||
	    img.globals_set != img2.globals_set)
		die("the kept source recompiles to another image");
	same_acls(nm, nm2);
	xfsm_image_free(&img2);
	xfsm_app_names_free(nm2);
done:
	xfsm_app_names_free(nm);
out:
	xfsm_image_free(&img);
	free(nm);
	free(nm2);
	free(val);
	return 0;
}
