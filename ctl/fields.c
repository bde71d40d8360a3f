/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * fields [NAME...]: the header fields and metadata operands of the language
 * (docs/language.md, "Header fields"), from libxfsm's own table: name,
 * width, the packets that have it, how values are written and what it is.
 * Needs no datapath.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xfsmctl.h"

static void print_field(int id)
{
	const struct xfsm_lang_field *f = &xfsm_lang_fields(NULL)[id];
	const struct xfsm_lang_field_doc *d = xfsm_lang_field_doc(id);

	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "%-12s", f->name);
	print_uint(PRINT_ANY, "bits", " %4u", f->bits);
	print_uint(PRINT_JSON, "word", NULL, f->word);
	print_uint(PRINT_JSON, "words", NULL, f->nwords);
	print_string(PRINT_ANY, "packets", "  %-31s", d ? d->packets : "");
	print_string(PRINT_ANY, "format", " %s", d ? d->format : "");
	print_bool(PRINT_JSON, "match", NULL, true);
	print_nl();
	print_string(PRINT_JSON, "description", NULL, d ? d->desc : "");
	print_text("%14s%s\n", "", d ? d->desc : "");
	close_json_object();
}

static void print_meta(const struct xfsm_lang_meta *m)
{
	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "%-12s", m->name);
	print_uint(PRINT_ANY, "bits", " %4u", m->bits);
	print_string(PRINT_ANY, "description", "  %s", m->desc);
	print_bool(PRINT_JSON, "match", NULL, false);
	print_string(PRINT_JSON, "instead", NULL, m->why_not_matched);
	print_nl();
	close_json_object();
}

const char fields_notes[] =
	"The header fields of the language and its metadata operands (needs no datapath).\n"
	"With names, only those; an unknown name is a usage error.\n";

int do_fields(struct args *a)
{
	unsigned int nf, nm;
	const struct xfsm_lang_field *f = xfsm_lang_fields(&nf);
	const struct xfsm_lang_meta *m = xfsm_lang_metas(&nm);
	char **names;
	int n;

	names = arg_rest(a, &n);
	/* every name must be known before anything is printed */
	for (int i = 0; i < n; i++) {
		bool known = xfsm_lang_field_find(names[i], strlen(names[i])) >= 0;

		for (unsigned int k = 0; k < nm && !known; k++)
			known = !strcmp(m[k].name, names[i]);
		if (!known)
			return usage_err(a, "unknown field '%s' (xfsmctl fields lists them all)",
					 names[i]);
	}
	open_json_object(NULL);
	open_json_array("fields");
	print_text("%-12s %4s  %-31s %s\n", "FIELD", "BITS", "PACKETS", "VALUES");
	for (unsigned int i = 0; i < nf; i++) {
		bool want = !n;

		for (int k = 0; k < n && !want; k++)
			want = !strcmp(names[k], f[i].name);
		if (want)
			print_field((int)i);
	}
	close_json_array();
	open_json_array("metadata");
	if (!n)
		print_text("\nmetadata (conditions and register updates only, no rule matches):\n");
	for (unsigned int i = 0; i < nm; i++) {
		bool want = !n;

		for (int k = 0; k < n && !want; k++)
			want = !strcmp(names[k], m[i].name);
		if (want)
			print_meta(&m[i]);
	}
	close_json_array();
	close_json_object();
	print_flush();
	return 0;
}
