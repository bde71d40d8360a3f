/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The driver of the xfsm language compiler: lex, parse, check, lower (see
 * lang.h for what each pass does), the first error stopping everything.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "xfsm_file.h"

void xfsm_app_names_free(struct xfsm_app_names *names)
{
	if (!names)
		return;
	for (size_t i = 0; i < names->n_rules; i++)
		free(names->rules[i].text);
	free(names->rules);
	for (unsigned int s = 0; s < XFSM_MAX_STAGES; s++)
		for (unsigned int i = 0; i < XFSM_MAX_CONDS; i++)
			free(names->stages[s].cond_text[i]);
	for (unsigned int t = 0; t < XFSM_ACL_TABLES; t++)
		xfsm_acl_rules_free(&names->acl[t]);
	for (unsigned int i = 0; i < names->n_warnings; i++)
		free(names->warnings[i]);
	free(names->warnings);
	for (unsigned int i = 0; i < XFSM_MAX_PORTS; i++)
		free(names->port_use[i]);
	memset(names, 0, sizeof(*names));
}

int lc_start(struct lc *c, const char *fname, const char *text, size_t len,
	     char *err, size_t errlen)
{
	struct lang_lex_err le;
	int ret;

	c->fname = fname;
	c->src = text;
	c->srclen = len;
	c->err = err;
	c->errlen = errlen;
	ret = lang_lex(text, len, &c->t, &c->nt, &le);
	if (ret == -EINVAL && err && errlen)
		snprintf(err, errlen, "%s:%u:%u: error: %s", c->fname, le.line, le.col, le.msg);
	return ret;
}

int xfsm_compile_string(const char *filename, const char *text, size_t len,
			struct xfsm_image *img, struct xfsm_app_names *names,
			char *err, size_t errlen)
{
	struct lc *c;
	int ret;

	xfsm_image_init(img);
	if (err && errlen)
		err[0] = 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->nm = calloc(1, sizeof(*c->nm));
	if (!c->nm) {
		free(c);
		return -ENOMEM;
	}
	c->img = img;
	ret = lc_start(c, filename ? filename : "<input>", text, len, err, errlen);
	if (ret)
		goto out;
	if (setjmp(c->jb)) {
		ret = c->errcode ? c->errcode : -EINVAL;
		goto out;
	}
	parse_file(c);
	check_program(c);
	lower_program(c);
	img->source = malloc(len + 1);
	if (!img->source) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(img->source, text, len);
	img->source[len] = 0;
	img->source_len = len;
	c->nm->warnings = c->warnings;
	c->nm->n_warnings = c->n_warnings;
	c->warnings = NULL;
	c->n_warnings = 0;
	if (names) {
		*names = *c->nm;
		memset(c->nm, 0, sizeof(*c->nm));
	}
	ret = 0;
out:
	if (ret) {
		xfsm_image_free(img);
		xfsm_image_init(img);
	}
	for (unsigned int s = 0; s < XFSM_MAX_STAGES; s++) {
		free(c->st[s].rules);
		free(c->st[s].name_slot);
		free(c->st[s].entered);
	}
	free(c->group_pos);
	free(c->alts);
	free(c->ents);
	free(c->elems);
	for (unsigned int i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	xfsm_app_names_free(c->nm);
	free(c->nm);
	free(c->t);
	free(c);
	return ret;
}

int xfsm_compile_file(const char *path, struct xfsm_image *img,
		      struct xfsm_app_names *names, char *err, size_t errlen)
{
	char msg[200], *buf;
	size_t len;
	int ret;

	ret = xfsm_read_file(path, &buf, &len, msg, sizeof(msg));
	if (ret) {
		xfsm_image_init(img);
		if (err && errlen)
			snprintf(err, errlen, "%s: error: %s", path, msg);
		return ret;
	}
	ret = xfsm_compile_string(path, buf, len, img, names, err, errlen);
	if (ret == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: error: out of memory", path);
	free(buf);
	return ret;
}
