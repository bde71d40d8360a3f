/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * apply FILE [--dry-run]: compile, then switch to it atomically: stages,
 * rules, names, its ACL tables and its output groups in one switch
 * (xfsm_lang_apply(): the inactive slot and buffers are written, one
 * update of the control block switches) -- unless the running
 * application is the same (XFSM_APPLY_UNCHANGED): then nothing is
 * written, "unchanged" is printed and the exit status is 0, so that
 * configuration managers may apply every time.
 * rule add|del: edit the running application's source by one rule,
 * recompile the whole application and switch to it the same way (ACL
 * tables and groups stay as they run).  Nothing touches the datapath before
 * the new application compiled cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfsmctl.h"

static int install(struct xfsm_image *img, const struct xfsm_app_names *nm,
		   bool reset_globals, bool force, __u32 datapath)
{
	XFSM_OPTS(xfsm_apply_opts, opts, .reset_globals = reset_globals, .force = force,
		  .datapath = datapath);
	struct xfsm_instance *inst;
	struct xfsm_ctl ctl;
	bool unchanged;
	int err;

	err = open_instance(&inst);
	if (err)
		return err;
	err = xfsm_image_validate(img, inst->build.max_stages, inst->build.max_tuples,
				  inst->max_rules);
	if (err) {
		p_err("the application does not fit this datapath (nothing was changed)");
		goto out;
	}
	/* Pipeline, ACL tables and groups switch as one, to ports the
	 * instance has (libxfsm's check names where the file sends to one
	 * it lacks). */
	err = xfsm_lang_apply(inst, img, nm, &opts);
	if (err < 0) {
		p_err("apply failed: %s; the running application is unchanged", strerror(-err));
		goto out;
	}
	unchanged = err == XFSM_APPLY_UNCHANGED;
	err = 0;
	if (!xfsm_ctl_get(inst, &ctl)) {
		open_json_object(NULL);
		print_bool(PRINT_JSON, "applied", NULL, !unchanged);
		print_bool(PRINT_JSON, "unchanged", NULL, unchanged);
		print_uint(PRINT_ANY, "generation",
			   unchanged ? "unchanged: generation %u" : "applied: generation %u",
			   ctl.generation);
		print_uint(PRINT_ANY, "slot", ", slot %u", ctl.active);
		print_uint(PRINT_ANY, "stages", ", %u stage(s)", img->app.n_stages);
		print_uint(PRINT_ANY, "entries", ", %zu table entries\n", img->n_rules);
		print_datapath(inst, NULL);
		close_json_object();
		print_flush();
	}
out:
	xfsm_instance_close(inst);
	return err;
}

const char apply_notes[] =
	"Compiles FILE ('-': standard input) and installs it atomically; the same\n"
	"application again is \"unchanged\" (nothing written) unless --force (-f);\n"
	"--dry-run (-n) prints the compiled tables without a datapath.\n"
	"--datapath auto (the default) runs it as a program generated for it where the\n"
	"specializer can, else on the generic datapath; generic and specialized ask for\n"
	"one (specialized fails when no program can be generated; docs/specializer.md).\n";

int do_apply(struct args *a)
{
	const char *file = NULL, *w;
	bool dry = false, reset = false, force = false, dp_given = false;
	__u32 datapath = XFSM_DP_AUTO;
	struct xfsm_app_names *nm;
	struct xfsm_image img;
	char err[600];
	int ret;

	while ((w = arg_take(a))) {
		int dp = arg_datapath(a, w, &dp_given, &datapath);

		if (dp < 0)
			return dp;
		if (dp)
			continue;
		if (!strcmp(w, "--dry-run") || !strcmp(w, "-n"))
			dry = true;
		else if (!strcmp(w, "--reset-globals"))
			reset = true;
		else if (!strcmp(w, "--force") || !strcmp(w, "-f"))
			force = true;
		else if (*w == '-' && strcmp(w, "-"))
			return usage_err(a, "unknown option '%s' (expected --datapath, --dry-run, --force or --reset-globals)",
					 w);
		else if (file)
			return usage_err(a, "one application file at a time ('%s' and '%s')", file, w);
		else
			file = w;
	}
	if (!file)
		return usage_err(a, "expected an application FILE");
	nm = calloc(1, sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	ret = xfsm_compile_file(strcmp(file, "-") ? file : "/dev/stdin", &img, nm, err, sizeof(err));
	if (ret) {
		fflush(stdout);
		p_diag("%s", err);
		free(nm);
		return ret;
	}
	for (unsigned int i = 0; i < nm->n_warnings; i++)
		fprintf(stderr, "%s\n", nm->warnings[i]);
	if (dry) {
		/* No datapath to ask: check the structure; the rule capacity is
		 * checked by apply against the instance (xfsm-loader --rules). */
		ret = xfsm_image_validate(&img, 0, 0, 0);
		if (!ret)
			show_image(&img, nm, NULL, SHOW_ALL | SHOW_ENTRIES | SHOW_ACL, 0);
	} else {
		ret = install(&img, nm, reset, force, datapath);
	}
	xfsm_image_free(&img);
	xfsm_app_names_free(nm);
	free(nm);
	return ret;
}

/* ---- rule add | del -------------------------------------------------------------- */

static char *splice(const char *src, size_t len, size_t at, size_t del_len,
		    const char *ins, size_t *out_len)
{
	size_t il = ins ? strlen(ins) : 0;
	char *p = malloc(len - del_len + il + 1);

	if (!p)
		return NULL;
	memcpy(p, src, at);
	if (il)
		memcpy(p + at, ins, il);
	memcpy(p + at + il, src + at + del_len, len - at - del_len);
	*out_len = len - del_len + il;
	p[*out_len] = 0;
	return p;
}

static unsigned int line_of(const char *s, size_t off)
{
	unsigned int l = 1;

	for (size_t i = 0; i < off; i++)
		if (s[i] == '\n')
			l++;
	return l;
}

/*
 * A diagnostic of the recompiled running application ("<running>:L:C: ...")
 * about the rule text added at lines line .. line + n_lines - 1, printed
 * with lines and columns of the text as given: "rule:L:COL: ...".  An
 * error goes where errors go (the JSON errors with -j), a warning to
 * stderr.  False when it is about another line.
 */
static bool print_rule_diag(const char *msg, unsigned int line, unsigned int n_lines,
			    bool added_kw, bool error)
{
	const char *prefix = "<running>:", *ls, *cs;
	struct xfsm_num l, col;
	size_t ll, cl;

	if (strncmp(msg, prefix, strlen(prefix)))
		return false;
	ls = msg + strlen(prefix);
	ll = strspn(ls, "0123456789");
	if (xfsm_num_parse(ls, ll, 0, &l, NULL, 0) || ls[ll] != ':' || l.v < line ||
	    l.v >= (__u64)line + n_lines)
		return false;
	cs = ls + ll + 1;
	cl = strspn(cs, "0123456789");
	if (xfsm_num_parse(cs, cl, 0, &col, NULL, 0))
		col.v = 0;
	/* columns of the text as given, without the added "rule " */
	if (l.v == line && added_kw && col.v > 5)
		col.v -= 5;
	l.v -= line - 1;
	if (error)
		p_diag("rule:%llu:%llu%s", (unsigned long long)l.v, (unsigned long long)col.v,
		       cs + cl);
	else
		fprintf(stderr, "rule:%llu:%llu%s\n", (unsigned long long)l.v,
			(unsigned long long)col.v, cs + cl);
	return true;
}

/* Where rule add's text went into the recompiled source. */
struct rule_diag {
	unsigned int line, n_lines;
	bool	added_kw;
};

static bool rule_diag_filter(const char *msg, void *ctx)
{
	const struct rule_diag *rd = ctx;

	return print_rule_diag(msg, rd->line, rd->n_lines, rd->added_kw, true);
}

/* From off, skip blanks, newlines and comments; the offset of the next
 * word (or to). */
static size_t skip_blank(const char *s, size_t off, size_t to)
{
	while (off < to) {
		if (s[off] == '#')
			while (off < to && s[off] != '\n')
				off++;
		else if (s[off] == ' ' || s[off] == '\t' || s[off] == '\n' || s[off] == '\r')
			off++;
		else
			break;
	}
	return off;
}

/*
 * rule add splices its text into the stage: the text must be one rule
 * statement and nothing else, or it could set the stage's miss verdict or
 * keys, or close the stage and open another.  The compiled source [from,
 * to) holds the inserted text; true when exactly one rule spans all of
 * it but blanks and comments.  Else *bad is the offset of the first word
 * that is not that rule's.
 */
static bool one_rule_inserted(const struct xfsm_app_names *nm, const char *src, size_t from,
			      size_t to, size_t *bad)
{
	const struct xfsm_rule_names *rule = NULL;
	size_t at;

	for (size_t i = 0; i < nm->n_rules; i++)
		if (nm->rules[i].src_start >= from && nm->rules[i].src_start < to &&
		    (!rule || nm->rules[i].src_start < rule->src_start))
			rule = &nm->rules[i];
	at = skip_blank(src, from, to);
	if (!rule || rule->src_start != at) {
		*bad = at;
		return false;
	}
	at = skip_blank(src, rule->src_end, to);
	*bad = at;
	return at == to;
}

/* "rule:LINE:COL" of offset k of the rule text as given (its first line
 * without the "rule " the command may have added). */
static void rule_text_pos(const char *src, size_t from, size_t k, bool added_kw,
			  unsigned int *line, size_t *col)
{
	size_t bol = from;

	*line = 1;
	for (size_t i = from; i < k; i++)
		if (src[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	*col = k - bol + 1;
	if (*line == 1 && added_kw && *col > 5)
		*col -= 5;
}

static int rule_edit(bool add, struct args *a)
{
	struct xfsm_app_names *nm2 = NULL;
	struct xfsm_instance *inst = NULL;
	struct rule_diag rd = { 0, 0, false };
	struct xfsm_image img;
	struct running r;
	char err[600], *text = NULL, *ins = NULL;
	const char *stage_arg = NULL, *what = NULL, *w;
	bool dp_given = false;
	__u32 datapath = XFSM_DP_KEEP;
	size_t len = 0;
	int s, ret;

	/* STAGE and the rule, --datapath MODE before or after them */
	while ((w = arg_take(a))) {
		ret = arg_datapath(a, w, &dp_given, &datapath);
		if (ret < 0)
			return ret;
		if (ret)
			continue;
		if (!stage_arg)
			stage_arg = w;
		else if (!what)
			what = w;
		else
			return usage_err(a, "unexpected argument '%s': give STAGE and %s only (quote the rule text)",
					 w, add ? "'RULE TEXT'" : "RULE");
	}
	if (!stage_arg)
		return usage_err(a, "expected STAGE");
	if (!what)
		return usage_err(a, "expected %s", add ? "the rule text" : "the RULE name");
	ret = open_instance(&inst);
	if (ret)
		return ret;
	ret = running_load(inst, &r, true);
	if (ret)
		goto out_inst;
	if (!r.nm && !r.img.source && r.img.source_len) {
		p_err("the running application's source (%zu bytes) was too large for the datapath to keep, and rule %s edits it: change the file and run 'xfsmctl apply'",
		      r.img.source_len, add ? "add" : "del");
		ret = -EFBIG;
		goto out;
	}
	if (!r.nm) {
		p_err("the running application has no usable source: rule %s needs one installed with 'xfsmctl apply'",
		      add ? "add" : "del");
		ret = -ENOENT;
		goto out;
	}
	s = xfsm_lang_stage_by_name(r.nm, stage_arg);
	if (s < 0) {
		p_err("unknown stage '%s' in application %s", stage_arg, r.nm->app[0] ? r.nm->app : "");
		ret = -ENOENT;
		goto out;
	}
	/* An ACL block's rules are its table's, which rule add|del keep as
	 * they run: edited in the source only, they would not run. */
	if ((unsigned int)s < r.img.app.n_stages && r.img.app.stages[s].kind == XFSM_STAGE_ACL) {
		p_err("%s is an ACL block: its rules are ACL table %u's; use 'xfsmctl acl %s table %u ...'",
		      r.nm->stages[s].name, r.img.app.stages[s].acl_table, add ? "add" : "del",
		      r.img.app.stages[s].acl_table);
		ret = -EINVAL;
		goto out;
	}
	if (add) {
		size_t at = r.nm->stages[s].body_end;
		unsigned int ins_line, ins_lines = 1;

		ins = malloc(strlen(what) + 16);
		if (!ins) {
			ret = -ENOMEM;
			goto out;
		}
		sprintf(ins, "\n%s%s\n", strncmp(what, "rule", 4) ? "rule " : "", what);
		text = splice(r.img.source, r.img.source_len, at, 0, ins, &len);
		if (!text) {
			ret = -ENOMEM;
			goto out;
		}
		ins_line = line_of(text, at) + 1;
		for (const char *q = what; *q; q++)
			ins_lines += *q == '\n';
		nm2 = calloc(1, sizeof(*nm2));
		ret = nm2 ? xfsm_compile_string("<running>", text, len, &img, nm2, err, sizeof(err)) :
			    -ENOMEM;
		if (ret) {
			if (!print_rule_diag(err, ins_line, ins_lines, strncmp(what, "rule", 4) != 0,
					     true))
				p_diag("%s", err);
			p_err("rule not added; the running application is unchanged");
			free(nm2);
			nm2 = NULL;
			goto out;
		}
		{
			size_t from = at + 1, to = at + strlen(ins) - 1, bad, col;
			bool added_kw = strncmp(what, "rule", 4) != 0;
			unsigned int line;

			if (!one_rule_inserted(nm2, text, from, to, &bad)) {
				rule_text_pos(text, from, bad, added_kw, &line, &col);
				p_diag("rule:%u:%zu: error: found '%.*s' after the rule: rule add takes one rule statement and nothing else",
				       line, col, (int)strcspn(text + bad, " \t\n"), text + bad);
				p_err("rule not added; the running application is unchanged (edit the file and apply it for other changes)");
				xfsm_image_free(&img);
				ret = -EINVAL;
				goto out;
			}
		}
		for (unsigned int i = 0; i < nm2->n_warnings; i++)
			print_rule_diag(nm2->warnings[i], ins_line, ins_lines,
					strncmp(what, "rule", 4) != 0,
					false);
		rd = (struct rule_diag){ ins_line, ins_lines, strncmp(what, "rule", 4) != 0 };
	} else {
		const struct xfsm_rule_names *rn = xfsm_lang_rule_by_name(r.nm, (unsigned int)s, what);

		if (!rn) {
			p_err("stage %s has no rule '%s' (see 'xfsmctl show rules')", r.nm->stages[s].name,
			      what);
			ret = -ENOENT;
			goto out;
		}
		text = splice(r.img.source, r.img.source_len, rn->src_start,
			      rn->src_end - rn->src_start, NULL, &len);
		if (!text) {
			ret = -ENOMEM;
			goto out;
		}
		nm2 = calloc(1, sizeof(*nm2));
		ret = nm2 ? xfsm_compile_string("<running>", text, len, &img, nm2, err, sizeof(err)) :
			    -ENOMEM;
		if (ret) {
			p_diag("%s", err);
			p_err("rule '%s' not deleted: the application would not compile without it; the running application is unchanged",
			      what);
			free(nm2);
			nm2 = NULL;
			goto out;
		}
	}
	ret = xfsm_image_validate(&img, inst->build.max_stages, inst->build.max_tuples,
				  inst->max_rules);
	if (!ret) {
		/* ACL tables and groups stay as they run; the switch refuses a
		 * port the instance lacks that the rule adds, and the error
		 * names it where the rule text does */
		XFSM_OPTS(xfsm_apply_opts, opts, .datapath = datapath, .rules_only = true);

		set_diag_filter(add ? rule_diag_filter : NULL, &rd);
		ret = xfsm_lang_apply(inst, &img, nm2, &opts);
		set_diag_filter(NULL, NULL);
	}
	if (ret)
		p_err("rule %s failed: %s; the running application is unchanged", add ? "add" : "del",
		      strerror(-ret));
	else {
		const char *name = what;

		/* the added rule is the last one of its stage */
		for (size_t i = 0; add && i < nm2->n_rules; i++)
			if (nm2->rules[i].stage == (unsigned int)s)
				name = nm2->rules[i].name;
		open_json_object(NULL);
		print_string(PRINT_ANY, "stage", "stage %s:", r.nm->stages[s].name);
		print_string(PRINT_ANY, add ? "added" : "deleted",
			     add ? " rule %s added" : " rule %s deleted", name);
		print_uint(PRINT_ANY, "entries", ", %zu table entries\n", img.n_rules);
		print_datapath(inst, NULL);
		close_json_object();
		print_flush();
	}
	xfsm_image_free(&img);
out:
	if (nm2) {
		xfsm_app_names_free(nm2);
		free(nm2);
	}
	free(text);
	free(ins);
	running_free(&r);
out_inst:
	xfsm_instance_close(inst);
	return ret;
}

static int rule_add(struct args *a)
{
	return rule_edit(true, a);
}

static int rule_del(struct args *a)
{
	return rule_edit(false, a);
}

/* rule show: the rules of the running application (show rules). */
static int rule_show(struct args *a)
{
	return do_show_what(a, SHOW_RULES | SHOW_ENTRIES);
}

const char rule_notes[] =
	"RULE TEXT: 'rule NAME [priority N] [when MATCH, ...] => EFFECT, ...' (docs/language.md);\n"
	"the running application is edited by one rule, recompiled and applied atomically,\n"
	"on the datapath it ran on (--datapath auto|generic|specialized changes it).\n";

const struct cmd rule_cmds[] = {
	{ "show", rule_show, "", NULL, NULL },
	{ "list", rule_show, NULL, NULL, NULL },
	{ "add", rule_add, "STAGE 'RULE TEXT' [--datapath auto|generic|specialized]", NULL, NULL },
	{ "del", rule_del, "STAGE RULE [--datapath auto|generic|specialized]", NULL, NULL },
	{ "delete", rule_del, NULL, NULL, NULL },
	{ NULL },
};
