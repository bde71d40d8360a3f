/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * state list|get|set|del|flush: the flow table, keys decoded by the stage's
 * key fields, states by name, remaining timeouts.  Listing walks the table
 * with batched map operations (xfsm_flow_foreach).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfsmctl.h"

/* A name in JSON: escaped, a character takes up to 6 bytes. */
#define JSON_NAME_MAX	(6 * XFSM_LANG_NAME_LEN + 2)

/* How the flows of one stage print, worked out once per listing: a
 * million flows would otherwise look up field and register names a
 * million times. */
struct stage_view {
	bool	ready;
	const char *name;
	size_t	name_len;
	char	name_buf[16];
	struct {
		__u8	w, n;		/* first key word, words */
		int	fid;		/* field id, -1: a raw word */
		bool	number;	/* JSON: a number field */
		__u8	label_len;
		__u16	json_label_len;
		char	label[XFSM_LANG_NAME_LEN + 2];	/* text: " field=" */
		char	json_label[JSON_NAME_MAX + 1];	/* "field": */
	} part[XFSM_KEY_WORDS];
	unsigned int n_parts;
	char	reg[XFSM_FLOW_REGS][XFSM_LANG_NAME_LEN + 8];
	bool	reg_named[XFSM_FLOW_REGS];
	__u8	reg_label_len[XFSM_FLOW_REGS];
	char	reg_label[XFSM_FLOW_REGS][XFSM_LANG_NAME_LEN + 12];	/* "  reg=" */
};

/* Text of one key field's value: an IPv6 address at the longest. */
#define FIELD_TEXT_MAX	48
/* The longest text line of a flow: stage name, key, state, two timeouts,
 * registers, age, pinned. */
#define FLOW_LINE_MAX	(sizeof(((struct stage_view *)0)->name_buf) + XFSM_LANG_NAME_LEN + \
			 XFSM_KEY_WORDS * (XFSM_LANG_NAME_LEN + 2 + FIELD_TEXT_MAX) + \
			 3 * (XFSM_LANG_NAME_LEN + 48) + \
			 XFSM_FLOW_REGS * (XFSM_LANG_NAME_LEN + 12 + 20) + 64)
_Static_assert(FLOW_LINE_MAX <= PRINT_LINE_MAX, "a flow's line fits print_line_begin()");
/* The same for a flow's JSON object (compact). */
#define FLOW_JSON_MAX	(JSON_NAME_MAX + 16 + \
			 XFSM_KEY_WORDS * (1 + JSON_NAME_MAX + 1 + 6 * FIELD_TEXT_MAX + 2) + \
			 64 + JSON_NAME_MAX + 2 * (64 + 32 + JSON_NAME_MAX) + \
			 XFSM_FLOW_REGS * 21 + 96)
_Static_assert(FLOW_JSON_MAX <= PRINT_LINE_MAX, "a flow's object fits print_line_begin()");

struct state_ctx {
	struct running *r;
	int stage;		/* -1: all */
	bool count_only;
	long n;
	__u64 now;
	bool compact;		/* flow values without registers, hard timeout, age */
	struct stage_view view[XFSM_MAX_STAGES];
};

/* pre name post into buf, cut to fit; returns its length. */
static size_t label_text(char *buf, size_t len, const char *pre, const char *name,
			 const char *post)
{
	int n = snprintf(buf, len, "%s%s%s", pre, name, post);

	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* The JSON key of a key part: "name": */
static void json_label(struct stage_view *v, unsigned int i, const char *name)
{
	char *end = fmt_json_str(v->part[i].json_label, name, strnlen(name, XFSM_LANG_NAME_LEN));

	*end++ = ':';
	v->part[i].json_label_len = (__u16)(end - v->part[i].json_label);
}

static const struct stage_view *stage_view(struct state_ctx *c, unsigned int s)
{
	const struct xfsm_stage *st = &c->r->img.app.stages[s];
	const struct xfsm_lang_field *fields = xfsm_lang_fields(NULL);
	const struct xfsm_app_names *nm = c->r->nm;
	struct stage_view *v = &c->view[s];

	if (v->ready)
		return v;
	v->name = stage_name(nm, s, v->name_buf, sizeof(v->name_buf));
	v->name_len = strnlen(v->name, XFSM_LANG_NAME_LEN);
	for (unsigned int w = 0; w < XFSM_KEY_WORDS;) {
		int fid;

		if (st->update_words[w] == XFSM_FW_ZERO) {
			w++;
			continue;
		}
		fid = field_at_word(st->update_words[w]);
		v->part[v->n_parts].w = w;
		if (fid < 0 || w + fields[fid].nwords > XFSM_KEY_WORDS) {
			v->part[v->n_parts].fid = -1;
			v->part[v->n_parts].label_len = (__u8)snprintf(v->part[v->n_parts].label,
				sizeof(v->part[0].label), " ");
			json_label(v, v->n_parts, "word");
			v->part[v->n_parts++].n = 1;
			w++;
			continue;
		}
		v->part[v->n_parts].fid = fid;
		v->part[v->n_parts].number = field_is_number(fid);
		v->part[v->n_parts].label_len = (__u8)label_text(v->part[v->n_parts].label,
			sizeof(v->part[0].label), " ", fields[fid].name, "=");
		json_label(v, v->n_parts, fields[fid].name);
		v->part[v->n_parts++].n = fields[fid].nwords;
		w += fields[fid].nwords;
	}
	for (unsigned int i = 0; i < XFSM_FLOW_REGS; i++) {
		struct xfsm_operand o = { .kind = XFSM_OPND_FLOW_REG, .index = (__u8)i };

		format_operand(&o, nm, s, v->reg[i], sizeof(v->reg[i]));
		v->reg_named[i] = nm && nm->stages[s].regs[i][0];
		v->reg_label_len[i] = (__u8)label_text(v->reg_label[i], sizeof(v->reg_label[i]),
						       "  ", v->reg[i], "=");
	}
	v->ready = true;
	return v;
}

/*
 * Whether a field's values are numbers (ports, protocol, lengths) rather
 * than text (addresses): decided once per field by how its zero value
 * formats, so a field has one JSON type whatever its value.
 */
bool field_is_number(int fid)
{
	static signed char known[256];
	__u32 zero[4] = { 0 };
	char buf[80];

	if (fid < 0 || fid >= 256)
		return false;
	if (!known[fid]) {
		xfsm_lang_format_field(fid, zero, buf, sizeof(buf));
		known[fid] = buf[0] && strspn(buf, "0123456789") == strlen(buf) ? 1 : -1;
	}
	return known[fid] > 0;
}

/* A number field's text as a number: plain decimal of up to 19 digits
 * (what the formatter writes, and always fits) read here, as listings
 * read a million of them; anything else as xfsm_parse_u64 reads it. */
static int dec_u64(const char *s, __u64 *v)
{
	size_t n = strspn(s, "0123456789");

	if (!n || s[n] || n > 19 || (s[0] == '0' && n > 1))
		return xfsm_parse_u64(s, 0, ~0ULL, v, NULL, 0);
	for (*v = 0; *s; s++)
		*v = *v * 10 + (__u64)(*s - '0');
	return 0;
}

/* Text of the flow's key at p, " field=value" per field; returns the end.
 * Room: KEY_TEXT_MAX. */
#define KEY_TEXT_MAX	(XFSM_KEY_WORDS * (XFSM_LANG_NAME_LEN + 2 + FIELD_TEXT_MAX))
/* The same as a JSON object (key_json). */
#define KEY_JSON_MAX	(2 + XFSM_KEY_WORDS * (1 + JSON_NAME_MAX + 1 + 6 * FIELD_TEXT_MAX + 2))
static char *key_text(char *p, const struct xfsm_flow_key *key, const struct stage_view *v)
{
	for (unsigned int i = 0; i < v->n_parts; i++) {
		const __u32 *w = &key->w[v->part[i].w];

		memcpy(p, v->part[i].label, v->part[i].label_len);
		p += v->part[i].label_len;
		if (v->part[i].fid < 0) {
			p = fmt_u64(p, *w);
		} else {
			p += xfsm_lang_format_field(v->part[i].fid, w, p, FIELD_TEXT_MAX);
		}
	}
	return p;
}

static char *text_put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define TEXT_LIT(p, lit)	text_put(p, lit, sizeof(lit) - 1)

static char *state_text(char *p, struct state_ctx *c, unsigned int stage, __u32 state)
{
	char buf[16];
	const char *name = xfsm_lang_state_name(c->r->nm, stage, state, buf, sizeof(buf));

	return text_put(p, name, strnlen(name, XFSM_LANG_NAME_LEN));
}

/* "  idle 12.3s -> none", or " idle expired -> none" once it ran out. */
static char *remaining_text(char *p, const char *what, size_t what_len, __s64 ns, __u32 rb,
			    struct state_ctx *c, unsigned int stage)
{
	if (ns > 0) {
		p = TEXT_LIT(p, "  ");
		p = text_put(p, what, what_len);
		*p++ = ' ';
		p = fmt_seconds(p, ns, 1);
		*p++ = 's';
	} else {
		*p++ = ' ';
		p = text_put(p, what, what_len);
		p = TEXT_LIT(p, " expired");
	}
	p = TEXT_LIT(p, " -> ");
	return state_text(p, c, stage, rb);
}

/* Remaining time of the idle timeout and of the hard deadline. */
static __s64 idle_left(const struct xfsm_flow *f, __u64 now)
{
	return (__s64)(f->last_seen_ns + (__u64)f->idle_timeout_ms * 1000000ULL) - (__s64)now;
}

static __s64 hard_left(const struct xfsm_flow *f, __u64 now)
{
	return (__s64)(f->hard_deadline_ns - now);
}

static bool age_known(const struct xfsm_flow *f, __u64 now)
{
	return f->created_ns && f->created_ns <= now;
}

/*
 * A flow as one text line, written by hand: listings print a million, and
 * a print_* call per value was most of their time.  flow_json() writes
 * the same flow's JSON object.
 */
static void print_flow_text(const struct xfsm_flow_key *key, const struct xfsm_flow *f,
			    struct state_ctx *c)
{
	unsigned int s = key->stage;
	const struct stage_view *v = stage_view(c, s);
	char *line = print_line_begin(FLOW_LINE_MAX), *p = line;

	p = text_put(p, v->name, v->name_len);
	p = key_text(p, key, v);
	p = TEXT_LIT(p, "  state ");
	p = state_text(p, c, s, f->state);
	if (f->idle_timeout_ms)
		p = remaining_text(p, "idle", 4, idle_left(f, c->now), f->idle_rollback, c, s);
	if (f->hard_deadline_ns)
		p = remaining_text(p, "hard", 4, hard_left(f, c->now), f->hard_rollback, c, s);
	for (unsigned int i = 0; i < XFSM_FLOW_REGS && !c->compact; i++) {
		if (f->regs[i] || v->reg_named[i]) {
			p = text_put(p, v->reg_label[i], v->reg_label_len[i]);
			p = fmt_u64(p, f->regs[i]);
		}
	}
	if (age_known(f, c->now)) {
		p = TEXT_LIT(p, "  age ");
		p = fmt_seconds(p, (long long)(c->now - f->created_ns), 1);
		*p++ = 's';
	}
	if (f->flags & XFSM_FF_PINNED)
		p = TEXT_LIT(p, "  pinned");
	*p++ = '\n';
	print_line_end(p);
}

static char *json_name(char *p, const char *name)
{
	return fmt_json_str(p, name, strnlen(name, XFSM_LANG_NAME_LEN));
}

static char *state_json(char *p, struct state_ctx *c, unsigned int stage, __u32 state)
{
	char buf[16];

	return json_name(p, xfsm_lang_state_name(c->r->nm, stage, state, buf, sizeof(buf)));
}

static char *remaining_json(char *p, __s64 ns, __u32 rb, struct state_ctx *c,
			    unsigned int stage)
{
	p = TEXT_LIT(p, "{\"remaining_s\":");
	p = fmt_seconds(p, ns > 0 ? ns : 0, 3);
	p = ns > 0 ? TEXT_LIT(p, ",\"expired\":false") : TEXT_LIT(p, ",\"expired\":true");
	p = TEXT_LIT(p, ",\"rollback\":");
	p = state_json(p, c, stage, rb);
	*p++ = '}';
	return p;
}

/* The key's JSON object, {"field":value,...}: numbers for number fields,
 * else the value's text. */
static char *key_json(char *p, const struct xfsm_flow_key *key, const struct stage_view *v)
{
	char buf[FIELD_TEXT_MAX];
	__u64 num;

	*p++ = '{';
	for (unsigned int i = 0; i < v->n_parts; i++) {
		const __u32 *w = &key->w[v->part[i].w];
		size_t n;

		if (i)
			*p++ = ',';
		p = text_put(p, v->part[i].json_label, v->part[i].json_label_len);
		if (v->part[i].fid < 0) {
			p = fmt_u64(p, *w);
			continue;
		}
		n = xfsm_lang_format_field(v->part[i].fid, w, buf, sizeof(buf));
		if (v->part[i].number && !dec_u64(buf, &num))
			p = fmt_u64(p, num);
		else
			p = fmt_json_str(p, buf, n);
	}
	*p++ = '}';
	return p;
}

/* The flow's key: text " field=value", JSON {"field": value} typed. */
static void print_key(const struct xfsm_flow_key *key, const struct stage_view *v)
{
	char buf[KEY_TEXT_MAX + 1];

	if (!is_json()) {
		*key_text(buf, key, v) = '\0';
		print_string(PRINT_FP, NULL, "%s", buf);
		return;
	}
	print_json_end(key_json(print_json_begin("key", KEY_JSON_MAX), key, v));
}

/*
 * A flow's JSON object, compact, written by hand as print_flow_text writes
 * the text line; print_json_end() indents it under -p.  A key without a
 * flow (NULL) is in the initial state: the same object, "exists": false.
 */
static char *flow_json(char *p, const struct xfsm_flow_key *key, const struct xfsm_flow *flow,
		       struct state_ctx *c)
{
	static const struct xfsm_flow none;
	const struct xfsm_flow *f = flow ? flow : &none;
	unsigned int s = key->stage;
	const struct stage_view *v = stage_view(c, s);

	p = TEXT_LIT(p, "{\"stage\":");
	p = json_name(p, v->name);
	p = TEXT_LIT(p, ",\"key\":");
	p = key_json(p, key, v);
	p = flow ? TEXT_LIT(p, ",\"exists\":true") : TEXT_LIT(p, ",\"exists\":false");
	p = TEXT_LIT(p, ",\"state_id\":");
	p = fmt_u64(p, f->state);
	p = TEXT_LIT(p, ",\"state\":");
	p = state_json(p, c, s, f->state);
	if (f->idle_timeout_ms) {
		p = TEXT_LIT(p, ",\"idle\":");
		p = remaining_json(p, idle_left(f, c->now), f->idle_rollback, c, s);
	}
	if (f->hard_deadline_ns) {
		p = TEXT_LIT(p, ",\"hard\":");
		p = remaining_json(p, hard_left(f, c->now), f->hard_rollback, c, s);
	}
	if (!c->compact) {	/* a compact flow value has none */
		p = TEXT_LIT(p, ",\"regs\":[");
		for (unsigned int i = 0; i < XFSM_FLOW_REGS; i++) {
			if (i)
				*p++ = ',';
			p = fmt_u64(p, f->regs[i]);
		}
		*p++ = ']';
	}
	if (age_known(f, c->now)) {
		p = TEXT_LIT(p, ",\"age_s\":");
		p = fmt_seconds(p, (long long)(c->now - f->created_ns), 3);
	}
	if (f->flags & XFSM_FF_PINNED)
		p = TEXT_LIT(p, ",\"pinned\":true");
	*p++ = '}';
	return p;
}

/* f NULL (no such flow): JSON only, see flow_json(). */
static void print_flow(const struct xfsm_flow_key *key, const struct xfsm_flow *f,
		       struct state_ctx *c)
{
	if (is_json())
		print_json_end(flow_json(print_json_begin(NULL, FLOW_JSON_MAX), key, f, c));
	else
		print_flow_text(key, f, c);
}

static int list_cb(const struct xfsm_flow_key *key, const struct xfsm_flow *flow, void *ctx)
{
	struct state_ctx *c = ctx;

	if (key->stage >= c->r->img.app.n_stages)
		return 0;
	if (c->stage >= 0 && key->stage != (unsigned int)c->stage)
		return 0;
	if (key->epoch != c->r->img.app.stages[key->stage].epoch)
		return 0;	/* left over from an older key definition */
	c->n++;
	if (!c->count_only)
		print_flow(key, flow, c);
	return 0;
}

void print_flow_stage_key(struct flow_printer *fp, struct running *r,
			  const struct xfsm_flow_key *key)
{
	struct state_ctx *c = fp->ctx;
	char buf[24];

	if (!c || c->r != r) {
		free(c);
		c = fp->ctx = calloc(1, sizeof(*c));
		if (!c)
			return;
		c->r = r;
		c->stage = -1;
	}
	if (key->stage >= r->img.app.n_stages) {
		/* from another application than the one known */
		snprintf(buf, sizeof(buf), "#%u", key->stage);
		print_string(PRINT_ANY, "stage", "%s", buf);
		return;
	}
	print_string(PRINT_ANY, "stage", "%s", stage_view(c, key->stage)->name);
	print_key(key, stage_view(c, key->stage));
}

void flow_printer_reset(struct flow_printer *fp)
{
	free(fp->ctx);
	fp->ctx = NULL;
}

static int stage_arg(struct running *r, const char *arg)
{
	int s = xfsm_lang_stage_by_name(r->nm, arg);
	__u32 v;

	if (s < 0 && !r->nm && r->img.app.n_stages &&
	    !xfsm_parse_u32(arg, 0, r->img.app.n_stages - 1, &v, NULL, 0))
		s = (int)v;
	if (s < 0)
		p_err("unknown stage '%s' (see 'xfsmctl show stages')", arg);
	return s;
}

/* Key values (separate arguments or comma-separated) into a field vector
 * along the stage's update key; the words are consumed from a. */
static int parse_key(struct running *r, unsigned int s, struct args *a,
		     struct xfsm_flow_key *key)
{
	int argc = a->argc;
	char **argv = a->argv;
	const struct xfsm_stage *st = &r->img.app.stages[s];
	const struct xfsm_lang_field *fields = xfsm_lang_fields(NULL);
	__u32 fv[XFSM_FV_WORDS] = { 0 };
	char *vals[XFSM_KEY_WORDS], *copy = NULL;
	unsigned int nvals = 0, nf = 0, used = 0;
	int fids[XFSM_KEY_WORDS], ret = -EINVAL;
	for (unsigned int w = 0; w < XFSM_KEY_WORDS;) {
		int fid = -1;

		if (st->update_words[w] == XFSM_FW_ZERO) {
			w++;
			continue;
		}
		fid = field_at_word(st->update_words[w]);
		if (fid < 0)
			return -EINVAL;
		fids[nf++] = fid;
		w += fields[fid].nwords;
	}
	if (nf == 0)
		goto build;	/* stage without a key: one flow */
	if (argc < 1)
		return usage_err(a, "expected the key: %u value(s) for the stage's update key", nf);
	if (strchr(argv[0], ',')) {
		char *p;

		/* every comma separates two values: none is dropped or empty */
		copy = strdup(argv[0]);
		if (!copy)
			return -ENOMEM;
		for (p = copy;; p++) {
			char *comma = strchr(p, ',');

			if (comma)
				*comma = 0;
			if (!*p) {
				usage_err(a, "empty value in the key '%s'", argv[0]);
				goto out;
			}
			if (nvals == XFSM_KEY_WORDS) {
				usage_err(a, "the key of this stage has %u field(s), more values given", nf);
				goto out;
			}
			vals[nvals++] = p;
			if (!comma)
				break;
			p = comma;
		}
		used = 1;
	} else {
		while (nvals < nf && (int)nvals < argc)
			vals[nvals] = argv[nvals], nvals++;
		used = nvals;
	}
	if (nvals != nf) {
		usage_err(a, "the key of this stage has %u field(s), %u value(s) given", nf, nvals);
		goto out;
	}
	for (unsigned int i = 0; i < nf; i++) {
		__u32 words[4] = { 0 };

		if (xfsm_lang_parse_field(fids[i], vals[i], words)) {
			usage_err(a, "'%s' is not a value for %s", vals[i], fields[fids[i]].name);
			goto out;
		}
		for (unsigned int k = 0; k < fields[fids[i]].nwords; k++)
			fv[fields[fids[i]].word + k] = words[k];
	}
build:
	xfsm_flow_key_build(st, s, fv, true, key);
	a->argc -= (int)used;
	a->argv += used;
	ret = 0;
out:
	free(copy);
	return ret;
}

static int state_cmd_open(struct xfsm_instance **inst, struct running *r)
{
	int err = open_instance(inst);

	if (err)
		return err;
	err = running_load(*inst, r, true);
	if (err) {
		running_free(r);
		xfsm_instance_close(*inst);
		*inst = NULL;
	}
	return err;
}

static int state_list(struct args *a)
{
	struct state_ctx c = { .stage = -1 };
	struct xfsm_instance *inst;
	const char *stage = NULL, *w;
	struct running r;
	int err;

	while ((w = arg_take(a))) {
		if (!strcmp(w, "-n") || !strcmp(w, "--count"))
			c.count_only = true;
		else if (*w == '-')
			return usage_err(a, "unknown option '%s' (expected -n)", w);
		else if (!stage)
			stage = w;
		else
			return usage_err(a, "unexpected argument '%s'", w);
	}
	err = state_cmd_open(&inst, &r);
	if (err)
		return err;
	if (stage && (c.stage = stage_arg(&r, stage)) < 0) {
		err = -ENOENT;
		goto out;
	}
	c.r = &r;
	c.now = xfsm_now_ns();
	c.compact = xfsm_flows_compact(inst);
	open_json_object(NULL);
	open_json_array("flows");
	print_bulk(true);	/* list_cb prints through print_* alone */
	err = xfsm_flow_foreach(inst, list_cb, &c);
	print_bulk(false);
	close_json_array();
	print_int(PRINT_ANY, "count", "%ld flow(s)\n", c.n);
	close_json_object();
	print_flush();
	if (err)
		p_err("cannot walk the flow table: %s", strerror(-err));
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

static int state_get_del(struct args *a, bool del)
{
	struct xfsm_instance *inst;
	struct xfsm_flow_key key;
	struct xfsm_flow flow;
	struct running r;
	const char *stage;
	int s, err;

	stage = arg_next(a, "STAGE");
	if (!stage)
		return -EINVAL;
	err = state_cmd_open(&inst, &r);
	if (err)
		return err;
	s = stage_arg(&r, stage);
	if (s < 0) {
		err = -ENOENT;
		goto out;
	}
	err = parse_key(&r, (unsigned int)s, a, &key);
	if (!err)
		err = arg_end(a);
	if (err)
		goto out;
	if (del) {
		struct xfsm_event ev = { .type = XFSM_EV_DELETE, .key = key };

		if (!xfsm_flow_get(inst, &key, &flow))
			ev.from = ev.to = flow.state;
		err = xfsm_flow_del(inst, &key);
		if (!err) {
			ev.ts_ns = xfsm_now_ns();
			monitor_notify(inst, &ev);
		}
		if (err == -ENOENT) {
			p_err("no such flow in stage %s", stage);
		} else if (err) {
			p_err("cannot delete the flow: %s", strerror(-err));
		} else if (is_json()) {
			open_json_object(NULL);
			print_int(PRINT_JSON, "deleted", NULL, 1);
			close_json_object();
			print_flush();
		}
		goto out;
	}
	err = xfsm_flow_get(inst, &key, &flow);
	if (err == -ENOENT) {
		struct state_ctx c = { .r = &r, .stage = s,
				       .compact = xfsm_flows_compact(inst) };
		char buf[32];

		if (is_json())
			print_flow(&key, NULL, &c);
		else
			print_text("no flow: in state %s (initial)\n",
				   xfsm_lang_state_name(r.nm, (unsigned int)s, 0, buf, sizeof(buf)));
		print_flush();
		err = 0;
	} else if (err) {
		p_err("cannot read the flow: %s", strerror(-err));
	} else {
		struct state_ctx c = { .r = &r, .stage = s, .now = xfsm_now_ns(),
				       .compact = xfsm_flows_compact(inst) };

		print_flow(&key, &flow, &c);
		print_flush();
	}
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

static int state_get(struct args *a)
{
	return state_get_del(a, false);
}

static int state_del(struct args *a)
{
	return state_get_del(a, true);
}

static int state_ref(struct running *r, unsigned int s, const char *arg, __u32 *out)
{
	char msg[200];

	if (r->nm)
		for (unsigned int i = 0; i < r->nm->stages[s].n_states; i++)
			if (!strcmp(r->nm->stages[s].states[i], arg)) {
				*out = i;
				return 0;
			}
	if (arg[0] >= '0' && arg[0] <= '9') {
		if (!xfsm_parse_u32(arg, 0, 0xffffffff, out, msg, sizeof(msg)))
			return 0;
		usage_err(NULL, "state number: %s", msg);
		return -EINVAL;
	}
	p_err("unknown state '%s' (see 'xfsmctl show stages')", arg);
	return -EINVAL;
}

/* regN or the register's name in the stage; -1 if neither. */
static int reg_ref(const struct running *r, unsigned int s, const char *k)
{
	if (!strncmp(k, "reg", 3) && k[3] >= '0' && k[3] < '0' + XFSM_FLOW_REGS && !k[4])
		return k[3] - '0';
	if (r->nm)
		for (int i = 0; i < XFSM_FLOW_REGS; i++)
			if (r->nm->stages[s].regs[i][0] && !strcmp(r->nm->stages[s].regs[i], k))
				return i;
	return -1;
}

static int state_set(struct args *a)
{
	struct xfsm_instance *inst;
	struct xfsm_flow_key key;
	struct xfsm_flow flow;
	struct running r;
	bool have_state = false;
	__u32 idle = 0, hard = 0;
	const char *stage, *k, *v, *state_word = NULL;
	const char *idle_word = NULL, *hard_word = NULL, *idle_to = NULL, *hard_to = NULL;
	unsigned int bad;
	__u64 now;
	int s, err;

	stage = arg_next(a, "STAGE");
	if (!stage)
		return -EINVAL;
	err = state_cmd_open(&inst, &r);
	if (err)
		return err;
	s = stage_arg(&r, stage);
	if (s < 0) {
		err = -ENOENT;
		goto out;
	}
	err = parse_key(&r, (unsigned int)s, a, &key);
	if (err)
		goto out;
	if (xfsm_flow_get(inst, &key, &flow))
		memset(&flow, 0, sizeof(flow));
	err = -EINVAL;
	while ((k = arg_take(a))) {
		if (strcmp(k, "state") && strcmp(k, "idle") && strcmp(k, "hard") &&
		    reg_ref(&r, (unsigned int)s, k) < 0) {
			usage_err(a, "unknown '%s' (expected state, idle, hard, reg0..reg%d or a register name)",
				  k, XFSM_FLOW_REGS - 1);
			goto out;
		}
		v = arg_take(a);
		if (!v) {
			usage_err(a, "'%s' needs a value", k);
			goto out;
		}
		if (!strcmp(k, "state")) {
			if (state_ref(&r, (unsigned int)s, v, &flow.state))
				goto out;
			have_state = true;
			state_word = v;
		} else if (!strcmp(k, "idle") || !strcmp(k, "hard")) {
			const char *to = NULL;
			__u32 ms, rb = 0;

			if (arg_timeout_ms(k, v, &ms))
				goto out;
			if (arg_kw(a, "->")) {
				to = arg_next(a, "the rollback STATE after '->'");
				if (!to || state_ref(&r, (unsigned int)s, to, &rb))
					goto out;
			}
			if (k[0] == 'i') {
				idle = ms;
				idle_word = v;
				idle_to = to;
				flow.idle_rollback = rb;
			} else {
				hard = ms;
				hard_word = v;
				hard_to = to;
				flow.hard_rollback = rb;
			}
		} else {
			if (arg_u64(k, v, 0, ~0ULL, &flow.regs[reg_ref(&r, (unsigned int)s, k)]))
				goto out;
		}
	}
	if (!have_state) {
		usage_err(a, "expected 'state NAME'");
		goto out;
	}
	/* libxfsm's check, as the language's for a rule's goto state */
	bad = xfsm_timeouts_check(flow.state, idle, flow.idle_rollback, hard, flow.hard_rollback);
	if (bad & (XFSM_TIMEOUT_IDLE_SELF | XFSM_TIMEOUT_HARD_SELF)) {
		bool i = bad & XFSM_TIMEOUT_IDLE_SELF;
		const char *to = i ? idle_to : hard_to;

		if (to)
			usage_err(a, "%s %s -> %s: the rollback is the state the flow is set to ('state %s'): the timeout would change nothing; roll back to another state or leave the timeout out",
				  i ? "idle" : "hard", i ? idle_word : hard_word, to, state_word);
		else
			usage_err(a, "%s %s: the timeout rolls back to state 0 when no '-> STATE' follows, and the flow is set to it ('state %s'): write '-> STATE' with another state or leave the timeout out",
				  i ? "idle" : "hard", i ? idle_word : hard_word, state_word);
		goto out;
	}
	if (bad & XFSM_TIMEOUT_IDLE_NOT_SHORTER) {
		usage_err(a, "the idle timeout must be shorter than the hard timeout");
		goto out;
	}
	now = xfsm_now_ns();
	flow.idle_timeout_ms = idle;
	flow.last_seen_ns = now;
	/* a compact flow value has no creation time (the state's entry) */
	flow.created_ns = xfsm_flows_compact(inst) ? 0 : now;
	flow.hard_deadline_ns = hard ? now + (__u64)hard * 1000000ULL : 0;
	if (!idle)
		flow.idle_rollback = 0;
	if (!hard)
		flow.hard_rollback = 0;
	/* libxfsm says why it refuses or fails (one message) */
	err = xfsm_flow_set(inst, &key, &flow);
	if (!err && is_json()) {
		struct state_ctx c = { .r = &r, .stage = s, .now = xfsm_now_ns(),
				       .compact = xfsm_flows_compact(inst) };

		/* the result: the flow as state get shows it */
		if (!xfsm_flow_get(inst, &key, &flow))
			print_flow(&key, &flow, &c);
		print_flush();
	}
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

static int state_flush(struct args *a)
{
	struct xfsm_instance *inst;
	const char *stage = arg_take(a);
	struct running r;
	int s = -1, err;
	long n;

	err = arg_end(a);
	if (err)
		return err;
	err = state_cmd_open(&inst, &r);
	if (err)
		return err;
	if (stage && (s = stage_arg(&r, stage)) < 0) {
		err = -ENOENT;
		goto out;
	}
	n = xfsm_flow_flush(inst, s);
	if (n < 0) {
		err = (int)n;
		p_err("cannot flush: %s", strerror(-err));
		goto out;
	}
	if (n > 0) {
		struct xfsm_event ev = {
			.type = XFSM_EV_FLUSH, .ts_ns = xfsm_now_ns(), .count = (__u32)n,
			.key.stage = s < 0 ? XFSM_EV_ALL_STAGES : (__u16)s,
		};

		monitor_notify(inst, &ev);
	}
	open_json_object(NULL);
	print_int(PRINT_ANY, "deleted", "%ld flow(s) deleted\n", n);
	close_json_object();
	print_flush();
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

const char state_notes[] =
	"KEY is the value of each field of the stage's update key, in order\n"
	"(separate arguments or comma-separated), e.g. 198.18.0.1.\n";

const struct cmd state_cmds[] = {
	{ "list", state_list, "[STAGE] [-n]", NULL, NULL },
	{ "show", state_list, NULL, NULL, NULL },
	{ "get", state_get, "STAGE KEY...", NULL, NULL },
	{ "set", state_set, "STAGE KEY... state STATE [idle DUR [-> STATE]] [hard DUR [-> STATE]] [regN VALUE]...",
	  NULL, NULL },
	{ "del", state_del, "STAGE KEY...", NULL, NULL },
	{ "delete", state_del, NULL, NULL, NULL },
	{ "flush", state_flush, "[STAGE]", NULL, NULL },
	{ NULL },
};
