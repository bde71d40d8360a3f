/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Printing an application: the compiled tables of a file (apply --dry-run)
 * or the running one read back from the datapath (show), with the names
 * recovered from the source stored next to it.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfsmctl.h"
#include "xfsm_acl.h"
#include "xfsm_group.h"

/* ---- running application ---------------------------------------------------- */

int running_load(struct xfsm_instance *inst, struct running *r, bool need_app)
{
	struct xfsm_image tmp;
	struct xfsm_ctl ctl;
	char err[512];
	int ret;

	memset(r, 0, sizeof(*r));
	xfsm_image_init(&r->img);
	ret = xfsm_read_app(inst, &r->img);
	if (ret) {
		p_err("cannot read the running application: %s", strerror(-ret));
		return ret;
	}
	if (!xfsm_ctl_get(inst, &ctl))
		r->generation = ctl.generation;
	if (need_app && r->img.app.n_stages == 0) {
		p_err("no application is installed on this datapath (install one with 'xfsmctl apply FILE')");
		return -ENOENT;
	}
	if (!r->img.source && r->img.source_len) {
		fprintf(stderr, "xfsmctl: warning: the running application's source (%zu bytes) was too large for the datapath to keep: names are not shown\n",
			r->img.source_len);
		return 0;
	}
	if (!r->img.source || !r->img.source_len)
		return 0;
	r->nm = calloc(1, sizeof(*r->nm));
	if (!r->nm)
		return -ENOMEM;
	ret = xfsm_compile_string("<running application>", r->img.source,
				  r->img.source_len, &tmp, r->nm, err, sizeof(err));
	xfsm_image_free(&tmp);
	if (ret) {
		fprintf(stderr, "xfsmctl: warning: the stored application source does not compile (%s): names are not shown\n",
			err);
		free(r->nm);
		r->nm = NULL;
	}
	return 0;
}

void running_free(struct running *r)
{
	xfsm_image_free(&r->img);
	if (r->nm) {
		xfsm_app_names_free(r->nm);
		free(r->nm);
	}
	r->nm = NULL;
}

/* ---- formatting -------------------------------------------------------------- */

const char *stage_name(const struct xfsm_app_names *nm, unsigned int s, char *buf, size_t len)
{
	if (nm && s < nm->n_stages && nm->stages[s].name[0])
		return nm->stages[s].name;
	snprintf(buf, len, "%u", s);
	return buf;
}

/* Field starting at field-vector word w, -1 if none. */
int field_at_word(unsigned int w)
{
	unsigned int n;
	const struct xfsm_lang_field *f = xfsm_lang_fields(&n);

	for (unsigned int i = 0; i < n; i++)
		if (f[i].word == w)
			return (int)i;
	return -1;
}

void format_operand(const struct xfsm_operand *o, const struct xfsm_app_names *nm,
		    unsigned int stage, char *buf, size_t len)
{
	static const char *metas[] = { "meta.len", "meta.port", "meta.time",
				       "meta.ifindex", "meta.random" };
	int f;

	switch (o->kind) {
	case XFSM_OPND_CONST:
		snprintf(buf, len, "%llu", (unsigned long long)o->value);
		break;
	case XFSM_OPND_FIELD:
		f = field_at_word(o->index);
		snprintf(buf, len, "%s", f >= 0 ? xfsm_lang_fields(NULL)[f].name : "field?");
		break;
	case XFSM_OPND_FLOW_REG:
		if (nm && stage < nm->n_stages && o->index < XFSM_FLOW_REGS &&
		    nm->stages[stage].regs[o->index][0])
			snprintf(buf, len, "%s", nm->stages[stage].regs[o->index]);
		else
			snprintf(buf, len, "reg%u", o->index);
		break;
	case XFSM_OPND_GLOBAL_REG:
		if (nm && o->index < XFSM_GLOBAL_REGS && nm->globals[o->index][0])
			snprintf(buf, len, "%s", nm->globals[o->index]);
		else
			snprintf(buf, len, "global%u", o->index);
		break;
	case XFSM_OPND_META:
		snprintf(buf, len, "%s", o->index < 5 ? metas[o->index] : "meta?");
		break;
	case XFSM_OPND_STATE:
		snprintf(buf, len, "state");
		break;
	default:
		snprintf(buf, len, "0");
	}
}

struct sbuf {
	char	*p;
	size_t	len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

static const char *cmp_str(__u8 op)
{
	static const char *s[] = { "?", "<", "<=", ">", ">=", "==", "!=" };

	return op < XFSM_CMP__MAX ? s[op] : "?";
}

static void format_cond(const struct xfsm_cond *c, const struct xfsm_app_names *nm,
			unsigned int stage, char *buf, size_t len)
{
	char a[64], b[64];

	format_operand(&c->a, nm, stage, a, sizeof(a));
	format_operand(&c->b, nm, stage, b, sizeof(b));
	snprintf(buf, len, "%s %s %s", a, cmp_str(c->op), b);
}

static int prefix_len(__u32 *mask, unsigned int nwords, unsigned int bits)
{
	unsigned int ones = 0;
	bool zero = false;

	for (unsigned int i = 0; i < nwords; i++) {
		unsigned int wbits = (nwords == 2 && i == 0) ? 16 : 32;

		if (nwords == 1)
			wbits = bits;
		for (int k = (int)wbits - 1; k >= 0; k--) {
			bool bit = mask[i] >> k & 1;

			if (bit && zero)
				return -1;
			if (bit)
				ones++;
			else
				zero = true;
		}
	}
	return (int)ones;
}

/* "state k1, !over, udp.dport == 2222" */
static void format_match(const struct xfsm_image *img, const struct xfsm_rule_entry *e,
			 const struct xfsm_app_names *nm, struct sbuf *b)
{
	const struct xfsm_stage *st = &img->app.stages[e->key.stage];
	const struct xfsm_tuple *t = &st->tuples[e->key.tuple];
	const struct xfsm_lang_field *fields = xfsm_lang_fields(NULL);
	unsigned int s = e->key.stage;
	bool any = false;
	char buf[64];

	if (t->state_mask) {
		sb_add(b, "state %s", xfsm_lang_state_name(nm, s, e->key.state, buf, sizeof(buf)));
		any = true;
	}
	for (unsigned int i = 0; i < XFSM_MAX_CONDS; i++) {
		if (!(t->cond_mask & (1U << i)))
			continue;
		sb_add(b, "%s%s", any ? ", " : "", (e->key.conds & (1U << i)) ? "" : "!");
		if (nm && s < nm->n_stages && nm->stages[s].conds[i][0])
			sb_add(b, "%s", nm->stages[s].conds[i]);
		else
			sb_add(b, "cond%u", i);
		any = true;
	}
	for (unsigned int w = 0; w < XFSM_MATCH_WORDS;) {
		int f = field_at_word(st->match_words[w]);
		unsigned int n = f >= 0 ? fields[f].nwords : 1;
		__u32 mask[4] = { 0 }, val[4] = { 0 };
		bool used = false;
		char vs[64], ms[64];
		int plen;

		if (f < 0 || w + n > XFSM_MATCH_WORDS) {
			w++;
			continue;
		}
		for (unsigned int k = 0; k < n; k++) {
			mask[k] = t->match_mask[w + k];
			val[k] = e->key.match[w + k];
			used |= mask[k] != 0;
		}
		w += n;
		if (!used)
			continue;
		xfsm_lang_format_field(f, val, vs, sizeof(vs));
		sb_add(b, "%s%s == %s", any ? ", " : "", fields[f].name, vs);
		any = true;
		plen = prefix_len(mask, n, fields[f].bits);
		if (plen == (int)fields[f].bits)
			continue;
		if (plen >= 0 && fields[f].bits >= 32) {
			sb_add(b, "/%d", plen);
		} else {
			xfsm_lang_format_field(f, mask, ms, sizeof(ms));
			sb_add(b, " & %s", ms);
		}
	}
	if (!any)
		sb_add(b, "any");
}

static void format_effects(const struct xfsm_rule *r, unsigned int stage,
			   const struct xfsm_app_names *nm, struct sbuf *b)
{
	static const char *ops[] = {
		[XFSM_UPD_ADD] = "+", [XFSM_UPD_SUB] = "-", [XFSM_UPD_MUL] = "*",
		[XFSM_UPD_DIV] = "/", [XFSM_UPD_MOD] = "%", [XFSM_UPD_AND] = "&",
		[XFSM_UPD_OR] = "|", [XFSM_UPD_XOR] = "^", [XFSM_UPD_SHL] = "<<",
		[XFSM_UPD_SHR] = ">>",
	};
	char a[64], c[64], d[64], buf[64];
	bool any = false;

	for (unsigned int i = 0; i < XFSM_MAX_UPDATES; i++) {
		const struct xfsm_update *u = &r->upd[i];
		struct xfsm_operand dst = { .kind = u->dst_kind, .index = u->dst_index };

		if (u->op == XFSM_UPD_NONE || u->op >= XFSM_UPD__MAX)
			continue;
		format_operand(&dst, nm, stage, d, sizeof(d));
		format_operand(&u->a, nm, stage, a, sizeof(a));
		format_operand(&u->b, nm, stage, c, sizeof(c));
		sb_add(b, "%s%s = ", any ? ", " : "", d);
		if (u->op == XFSM_UPD_SET)
			sb_add(b, "%s", a);
		else if (u->op == XFSM_UPD_MIN || u->op == XFSM_UPD_MAX)
			sb_add(b, "%s(%s, %s)", u->op == XFSM_UPD_MIN ? "min" : "max", a, c);
		else if (u->op == XFSM_UPD_EWMA)
			sb_add(b, "ewma(%s, %s, %u)", a, c, u->shift);
		else if (u->op == XFSM_UPD_FETCH_ADD)
			sb_add(b, "fetch_add(%s, %s)", a, c);
		else
			sb_add(b, "%s %s %s", a, ops[u->op], c);
		any = true;
	}
	if (r->flags & XFSM_RF_SET_STATE) {
		sb_add(b, "%sgoto state %s", any ? ", " : "",
		       xfsm_lang_state_name(nm, stage, r->next_state, buf, sizeof(buf)));
		if (r->idle_timeout_ms)
			sb_add(b, " idle %u%s -> %s", r->idle_timeout_ms % 1000 ? r->idle_timeout_ms :
			       r->idle_timeout_ms / 1000, r->idle_timeout_ms % 1000 ? "ms" : "s",
			       xfsm_lang_state_name(nm, stage, r->idle_rollback, buf, sizeof(buf)));
		if (r->hard_timeout_ms)
			sb_add(b, " hard %u%s -> %s", r->hard_timeout_ms % 1000 ? r->hard_timeout_ms :
			       r->hard_timeout_ms / 1000, r->hard_timeout_ms % 1000 ? "ms" : "s",
			       xfsm_lang_state_name(nm, stage, r->hard_rollback, buf, sizeof(buf)));
		any = true;
	}
	for (unsigned int i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *x = &r->act[i];

		if (x->type == XFSM_ACT_NONE)
			break;
		sb_add(b, "%s", any ? ", " : "");
		any = true;
		format_operand(&x->opnd, nm, stage, a, sizeof(a));
		switch (x->type) {
		case XFSM_ACT_DROP: sb_add(b, "drop"); break;
		case XFSM_ACT_PASS: sb_add(b, "pass"); break;
		case XFSM_ACT_TX: sb_add(b, "tx"); break;
		case XFSM_ACT_FLOOD: sb_add(b, "flood"); break;
		case XFSM_ACT_OUTPUT:
			if (x->opnd.kind == XFSM_OPND_CONST && nm && x->opnd.value < XFSM_MAX_PORTS &&
			    nm->ports[x->opnd.value][0])
				sb_add(b, "output %s", nm->ports[x->opnd.value]);
			else
				sb_add(b, "output %s", a);
			break;
		case XFSM_ACT_GOTO:
			sb_add(b, "goto stage %s", stage_name(nm, x->arg, buf, sizeof(buf)));
			break;
		case XFSM_ACT_OUTPUT_GROUP:
			sb_add(b, "output group %u", x->arg);
			break;
		case XFSM_ACT_OUTPUT_XSK:
			sb_add(b, "output xsk");
			break;
		case XFSM_ACT_OUTPUT_FIB:
			sb_add(b, "output fib");
			break;
		case XFSM_ACT_SET_ETH_SRC:
		case XFSM_ACT_SET_ETH_DST:
			if (x->opnd.kind == XFSM_OPND_CONST) {
				__u32 w[2] = { (__u32)(x->opnd.value >> 32), (__u32)x->opnd.value };

				xfsm_lang_format_field(xfsm_lang_field_find("eth.src", 7), w, a, sizeof(a));
			}
			sb_add(b, "set eth.%s = %s", x->type == XFSM_ACT_SET_ETH_SRC ? "src" : "dst", a);
			break;
		case XFSM_ACT_SET_DSCP: sb_add(b, "set ip.dscp = %s", a); break;
		case XFSM_ACT_SET_ECN: sb_add(b, "set ip.ecn = %s", a); break;
		case XFSM_ACT_SET_TTL: sb_add(b, "set ip.ttl = %s", a); break;
		case XFSM_ACT_SET_IP_SRC:
		case XFSM_ACT_SET_IP_DST:
			if (x->opnd.kind == XFSM_OPND_CONST) {
				__u32 w[1] = { (__u32)x->opnd.value };

				xfsm_lang_format_field(xfsm_lang_field_find("ip.src", 6), w, a, sizeof(a));
			}
			sb_add(b, "set ip.%s = %s", x->type == XFSM_ACT_SET_IP_SRC ? "src" : "dst", a);
			break;
		case XFSM_ACT_SET_IP6_SRC:
		case XFSM_ACT_SET_IP6_DST: {
			/* the compiler's pair: upper half, then lower half */
			const struct xfsm_action *y = i + 1 < XFSM_MAX_ACTIONS ? x + 1 : NULL;
			const char *f = x->type == XFSM_ACT_SET_IP6_SRC ? "src" : "dst";

			if (x->arg == 0 && y && y->type == x->type && y->arg == 1 &&
			    x->opnd.kind == XFSM_OPND_CONST && y->opnd.kind == XFSM_OPND_CONST) {
				__u32 w[4] = { (__u32)(x->opnd.value >> 32), (__u32)x->opnd.value,
					       (__u32)(y->opnd.value >> 32), (__u32)y->opnd.value };

				xfsm_lang_format_field(xfsm_lang_field_find("ip6.src", 7), w, a, sizeof(a));
				sb_add(b, "set ip6.%s = %s", f, a);
				i++;
			} else {
				sb_add(b, "set ip6.%s half %u = %s", f, x->arg, a);
			}
			break;
		}
		case XFSM_ACT_SET_L4_SPORT: sb_add(b, "set l4.sport = %s", a); break;
		case XFSM_ACT_SET_L4_DPORT: sb_add(b, "set l4.dport = %s", a); break;
		case XFSM_ACT_VLAN_PUSH: sb_add(b, "push vlan %s", a); break;
		case XFSM_ACT_VLAN_POP: sb_add(b, "pop vlan"); break;
		case XFSM_ACT_ARP_REPLY:
			if (x->opnd.kind == XFSM_OPND_CONST) {
				__u32 w[2] = { (__u32)(x->opnd.value >> 32), (__u32)x->opnd.value };

				xfsm_lang_format_field(xfsm_lang_field_find("eth.src", 7), w, a, sizeof(a));
			}
			sb_add(b, "arp reply %s", a);
			break;
		case XFSM_ACT_DEC_TTL: sb_add(b, "dec ttl"); break;
		case XFSM_ACT_COUNT:
			if (nm && x->arg < XFSM_MAX_COUNTERS && nm->counters[x->arg][0])
				sb_add(b, "count %s", nm->counters[x->arg]);
			else
				sb_add(b, "count %u", x->arg);
			break;
		case XFSM_ACT_SET_MARK: sb_add(b, "mark = %s", a); break;
		default: sb_add(b, "action%u", x->type);
		}
	}
	if (!any)
		sb_add(b, "(nothing: continue)");
}

/* The fields of a key: text "a, b" (into b), JSON an array of names. */
static void key_fields_json(const char *key, const __u8 *words, unsigned int nwords)
{
	const struct xfsm_lang_field *fields = xfsm_lang_fields(NULL);
	char w[16];

	open_json_array(key);
	for (unsigned int i = 0; i < nwords;) {
		int f;

		if (words[i] == XFSM_FW_ZERO) {
			i++;
			continue;
		}
		f = field_at_word(words[i]);
		if (f < 0) {
			snprintf(w, sizeof(w), "word%u", words[i]);
			print_string(PRINT_JSON, NULL, NULL, w);
			i++;
		} else {
			print_string(PRINT_JSON, NULL, NULL, fields[f].name);
			i += fields[f].nwords;
		}
	}
	close_json_array();
}

void format_rule_effects(const struct xfsm_rule *r, unsigned int stage,
			 const struct xfsm_app_names *nm, char *buf, size_t len)
{
	struct sbuf b = { .p = buf, .cap = len };

	buf[0] = '\0';
	format_effects(r, stage, nm, &b);
}

static void key_fields_text(const __u8 *words, unsigned int nwords, struct sbuf *b)
{
	const struct xfsm_lang_field *fields = xfsm_lang_fields(NULL);
	bool any = false;

	for (unsigned int w = 0; w < nwords;) {
		int f;

		if (words[w] == XFSM_FW_ZERO) {
			w++;
			continue;
		}
		f = field_at_word(words[w]);
		if (f < 0) {
			sb_add(b, "%sword%u", any ? ", " : "", words[w]);
			w++;
		} else {
			sb_add(b, "%s%s", any ? ", " : "", fields[f].name);
			w += fields[f].nwords;
		}
		any = true;
	}
	if (!any)
		sb_add(b, "(none: one flow for all packets)");
}

/* ---- sections ------------------------------------------------------------------ */

static void print_entry(const struct xfsm_image *img, const struct xfsm_rule_entry *e,
			const struct xfsm_app_names *nm)
{
	char mbuf[512], ebuf[512];
	struct sbuf m = { mbuf, 0, sizeof(mbuf) }, x = { ebuf, 0, sizeof(ebuf) };

	mbuf[0] = ebuf[0] = 0;
	format_match(img, e, nm, &m);
	format_effects(&e->rule, e->key.stage, nm, &x);
	open_json_object(NULL);
	print_uint(PRINT_ANY, "id", "      entry %u", e->rule.rule_id);
	print_uint(PRINT_ANY, "tuple", " [tuple %u", e->key.tuple);
	print_uint(PRINT_ANY, "priority", " priority %u]", e->rule.priority);
	print_string(PRINT_ANY, "match", " %s", mbuf);
	print_string(PRINT_ANY, "actions", " => %s", ebuf);
	print_nl();
	close_json_object();
}

/* Statistics of the running application's objects, through the
 * identities read with it (one read for all table entries of a rule). */
int running_stats_at(struct xfsm_instance *inst, const struct xfsm_image *img,
		     __u32 kind, __u32 pos, void *out)
{
	const struct xfsm_stat_ident *e = xfsm_stat_idents_find(&img->idents, kind, pos);

	if (!e)
		return -ENOENT;
	switch (kind) {
	case XFSM_SID_RULE:
		return xfsm_read_rule_stats_at(inst, e->index, out);
	case XFSM_SID_COUNTER:
		return xfsm_read_counter_at(inst, e->index, out);
	default:
		return xfsm_read_stage_stats_at(inst, e->index, out);
	}
}

static void rule_stats(struct xfsm_instance *inst, const struct xfsm_image *img, __u32 first,
		       __u64 *pk, __u64 *by)
{
	struct xfsm_rule_stats rs;

	*pk = *by = 0;
	if (!running_stats_at(inst, img, XFSM_SID_RULE, first, &rs)) {
		*pk = rs.packets;
		*by = rs.bytes;
	}
}

static void print_rules(const struct xfsm_image *img, const struct xfsm_app_names *nm,
			struct xfsm_instance *inst, unsigned int s, unsigned int what)
{
	size_t *by_id = NULL, n_ids = 0;

	/* A rule's table entries have consecutive ids: index the entries by
	 * id once, so printing stays linear in the number of entries. */
	if (nm && (what & SHOW_ENTRIES)) {
		for (size_t k = 0; k < img->n_rules; k++)
			if (img->rules[k].rule.rule_id >= n_ids)
				n_ids = (size_t)img->rules[k].rule.rule_id + 1;
		by_id = malloc((n_ids ? n_ids : 1) * sizeof(*by_id));
		if (by_id) {
			for (size_t i = 0; i < n_ids; i++)
				by_id[i] = SIZE_MAX;
			for (size_t k = 0; k < img->n_rules; k++)
				by_id[img->rules[k].rule.rule_id] = k;
		}
	}

	open_json_array("rules");
	if (nm) {
		for (size_t i = 0; i < nm->n_rules; i++) {
			const struct xfsm_rule_names *rn = &nm->rules[i];

			if (rn->stage != s)
				continue;
			open_json_object(NULL);
			print_string(PRINT_ANY, "name", "  rule %-16s", rn->name);
			print_uint(PRINT_ANY, "priority", " priority %u", rn->priority);
			print_uint(PRINT_ANY, "entries", " entries %u", rn->n_entries);
			if (inst) {
				__u64 pk, by;

				rule_stats(inst, img, rn->rule_id, &pk, &by);
				print_uint(PRINT_ANY, "packets", " packets %llu", pk);
				print_uint(PRINT_ANY, "bytes", " bytes %llu", by);
			}
			print_nl();
			print_string(PRINT_ANY, "text", "      %s\n", rn->text);
			if (what & SHOW_ENTRIES) {
				open_json_array("table");
				for (size_t id = rn->rule_id;
				     by_id && id < (size_t)rn->rule_id + rn->n_entries && id < n_ids; id++) {
					size_t k = by_id[id];

					if (k != SIZE_MAX && img->rules[k].key.stage == s)
						print_entry(img, &img->rules[k], nm);
				}
				close_json_array();
			}
			close_json_object();
		}
	} else {
		for (size_t k = 0; k < img->n_rules; k++) {
			if (img->rules[k].key.stage != s)
				continue;
			print_entry(img, &img->rules[k], nm);
		}
	}
	close_json_array();
	free(by_id);
}

/* A stage's counters.  An ACL stage creates no flows: it has no
 * flows_created. */
static void print_stage_stats(struct xfsm_instance *inst, const struct xfsm_image *img,
			      unsigned int s)
{
	struct xfsm_stage_stats ss;

	if (!inst || running_stats_at(inst, img, XFSM_SID_STAGE, s, &ss))
		return;
	open_json_object("stats");
	print_uint(PRINT_ANY, "packets", "\n  packets %llu", ss.packets);
	print_uint(PRINT_ANY, "hits", "  hits %llu", ss.hits);
	print_uint(PRINT_ANY, "misses", "  misses %llu", ss.misses);
	if (img->app.stages[s].kind != XFSM_STAGE_ACL)
		print_uint(PRINT_ANY, "flows_created", "  flows created %llu", ss.flows_created);
	close_json_object();
}

/* An ACL stage has no keys, tuples, conditions or flows: its table, the
 * number of rules in it (the running set's, which acl add|del|load
 * change, else the source's) and its miss verdict (continue: allow). */
static void print_stage_acl(const struct xfsm_image *img, const struct xfsm_app_names *nm,
			    struct xfsm_instance *inst, unsigned int s)
{
	const struct xfsm_stage *st = &img->app.stages[s];
	struct xfsm_acl_set set;
	bool known = true;

	print_string(PRINT_ANY, "kind", "\n  %s", "acl");
	print_uint(PRINT_ANY, "acl_table", " table %u", st->acl_table);
	if (inst && !xfsm_acl_set_get(inst, st->acl_table, &set, NULL))
		;
	else if (!inst && nm && st->acl_table < XFSM_ACL_TABLES &&
		 (nm->acl_tables & (1U << st->acl_table)))
		set.n_rules = (__u32)nm->acl[st->acl_table].n;
	else
		known = false;
	if (known)
		print_uint(PRINT_ANY, "acl_rules", "  rules %u", set.n_rules);
	print_string(PRINT_ANY, "miss", "  miss %s",
		     st->miss_verdict == XFSM_VERDICT_CONTINUE ? "allow" :
		     xfsm_lang_verdict_name(st->miss_verdict));
	print_stage_stats(inst, img, s);
}

/*
 * The size and kind of the flow table a stage's flows live in, as the
 * instance's map has them (xfsm-loader --flows sizes each flow table, or
 * one by its name, tc->what; --flow-table types them all), or, without
 * an instance (apply --dry-run), the loader's default.  What
 * the stage declares (`table size N lru|hash`) is informative: said apart
 * when given.
 */
static void print_table_size(struct xfsm_instance *inst, enum xfsm_map_id table,
			     const struct xfsm_flow_table_class *tc,
			     const struct xfsm_stage_names *sn)
{
	if (inst && inst->map_fd[table] >= 0) {
		__u32 type = inst->map_type[table];

		print_uint(PRINT_ANY, "table_size", "\n  table size %u", inst->map_max_entries[table]);
		print_string(PRINT_ANY, "table_kind", " %s",
			     type == BPF_MAP_TYPE_LRU_HASH ? "lru" :
			     type == BPF_MAP_TYPE_HASH ? "hash" : "other");
		print_text(" (xfsm-loader --flows %s=N, --flow-table)", tc->what);
	} else {
		print_text("\n  table size default (xfsm-loader --flows, %u entries unless given)",
			   XFSM_DEFAULT_FLOWS);
	}
	if (!sn || (!sn->table_size && sn->table_kind != XFSM_TABLE_HASH))
		return;
	print_text("; declared");
	if (sn->table_size)
		print_uint(PRINT_ANY, "declared_table_size", " size %u", sn->table_size);
	print_string(PRINT_ANY, "declared_table_kind", " %s",
		     sn->table_kind == XFSM_TABLE_HASH ? "hash" : "lru");
	print_text(" (informative)");
}

static void print_stage_flows(const struct xfsm_image *img, const struct xfsm_app_names *nm,
			      struct xfsm_instance *inst, unsigned int s)
{
	const struct xfsm_stage *st = &img->app.stages[s];
	const struct xfsm_stage_names *sn = nm && s < nm->n_stages ? &nm->stages[s] : NULL;
	const struct xfsm_flow_table_class *tc;
	enum xfsm_map_id table;
	char buf[512];
	struct sbuf b = { buf, 0, sizeof(buf) };

	print_string(PRINT_JSON, "kind", NULL, "xfsm");
	buf[0] = 0;
	key_fields_text(st->lookup_words, XFSM_KEY_WORDS, &b);
	print_string(PRINT_FP, NULL, "\n  lookup key  %s", buf);
	key_fields_json("lookup_key", st->lookup_words, XFSM_KEY_WORDS);
	b.len = 0;
	buf[0] = 0;
	key_fields_text(st->update_words, XFSM_KEY_WORDS, &b);
	print_string(PRINT_FP, NULL, "\n  update key  %s", buf);
	key_fields_json("update_key", st->update_words, XFSM_KEY_WORDS);
	print_bool(PRINT_ANY, "symmetric", "\n  symmetric %s", st->flags & XFSM_SF_SYMMETRIC);
	print_string(PRINT_ANY, "miss", "  miss %s", xfsm_lang_verdict_name(st->miss_verdict));
	print_uint(PRINT_ANY, "n_tuples", "  tuples %u", st->n_tuples);
	print_uint(PRINT_ANY, "n_conditions", "  conditions %u", st->n_conds);
	print_uint(PRINT_ANY, "epoch", "  epoch %u", st->epoch);
	/* The running datapath says where the stage's flows are; a file
	 * not installed, where the native datapath would keep them. */
	if (inst)
		table = xfsm_flow_table(inst, s);
	else
		table = xfsm_flow_table_class(xfsm_stage_keys_table(st))->id;
	tc = xfsm_flow_table_class_of_map(table);
	print_string(PRINT_ANY, "flow_table", "\n  flows in %s", xfsm_map_names[table]);
	if (table != XFSM_M_FLOWS)
		print_text(" (%s: keys of at most %u words)", tc->what, tc->words);
	else
		print_text(" (wide keys)");
	print_string(PRINT_ANY, "table_full", "  table full %s",
		     st->full_action == XFSM_FULL_DROP ? "drop" :
		     st->full_action == XFSM_FULL_PASS ? "pass" : "continue");
	print_table_size(inst, table, tc, sn);
	b.len = 0;
	buf[0] = 0;
	key_fields_text(st->match_words, XFSM_MATCH_WORDS, &b);
	print_string(PRINT_FP, NULL, "\n  match on  %s", buf);
	key_fields_json("match_fields", st->match_words, XFSM_MATCH_WORDS);
	if (sn && sn->n_states) {
		print_text("\n  states   ");
		open_json_array("states");
		for (unsigned int i = 0; i < sn->n_states; i++) {
			if (!sn->states[i][0])
				continue;
			open_json_object(NULL);
			print_uint(PRINT_ANY, "id", " %u", i);
			print_string(PRINT_ANY, "name", " %s", sn->states[i]);
			close_json_object();
		}
		close_json_array();
	}
	print_stage_stats(inst, img, s);
}

static void print_stage(const struct xfsm_image *img, const struct xfsm_app_names *nm,
			struct xfsm_instance *inst, unsigned int s, unsigned int what)
{
	const struct xfsm_stage *st = &img->app.stages[s];
	const struct xfsm_stage_names *sn = nm && s < nm->n_stages ? &nm->stages[s] : NULL;
	char nbuf[32];

	open_json_object(NULL);
	print_uint(PRINT_ANY, "index", "stage %u", s);
	print_string(PRINT_ANY, "name", " %s", stage_name(nm, s, nbuf, sizeof(nbuf)));
	if ((what & SHOW_STAGES) && st->kind == XFSM_STAGE_ACL)
		print_stage_acl(img, nm, inst, s);
	else if (what & SHOW_STAGES)
		print_stage_flows(img, nm, inst, s);
	print_nl();
	if (what & SHOW_CONDS) {
		open_json_array("conditions");
		for (unsigned int i = 0; i < st->n_conds; i++) {
			char cb[200];

			format_cond(&st->conds[i], nm, s, cb, sizeof(cb));
			open_json_object(NULL);
			print_uint(PRINT_ANY, "bit", "  condition %u", i);
			print_opt_string(PRINT_ANY, "name", " %s", sn ? sn->conds[i] : NULL, "");
			print_string(PRINT_ANY, "expr", " = %s\n", cb);
			close_json_object();
		}
		close_json_array();
	}
	if (what & SHOW_RULES)
		print_rules(img, nm, inst, s, what);
	close_json_object();
}

static int port_cb(const void *key, const void *value, void *ctx)
{
	const struct port_walk *w = ctx;
	const struct xfsm_app_names *nm = w->nm;
	const struct xfsm_port *p = value;
	__u32 ifindex = *(const __u32 *)key;
	char ifname[IF_NAMESIZE] = "";
	struct xfsm_port_stats st;
	__u32 fl = 0;

	if (w->only && p->port != w->only)
		return 0;
	if (!if_indextoname(ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "?");
	open_json_object(NULL);
	print_uint(PRINT_ANY, "port", "  port %-3u", p->port);
	print_opt_string(PRINT_ANY, "name", " %-12s",
			 nm && p->port < XFSM_MAX_PORTS ? nm->ports[p->port] : NULL, "-");
	print_string(PRINT_ANY, "ifname", " %-12s", ifname);
	print_uint(PRINT_ANY, "ifindex", " ifindex %u\n", ifindex);
	/* JSON: the port's flag and counters in the same object (the text
	 * prints them in a table of their own, port_counters_print) */
	if (is_json() && w->inst) {
		xfsm_port_flags_get(w->inst, p->port, &fl);
		print_bool(PRINT_JSON, "down", NULL, fl & XFSM_PORT_F_DOWN);
		if (!xfsm_port_stats_read(w->inst, p->port, &st)) {
			print_uint(PRINT_JSON, "rx_packets", NULL, st.rx_packets);
			print_uint(PRINT_JSON, "rx_bytes", NULL, st.rx_bytes);
			print_uint(PRINT_JSON, "tx_packets", NULL, st.tx_packets);
			print_uint(PRINT_JSON, "tx_bytes", NULL, st.tx_bytes);
		}
	}
	close_json_object();
	return 0;
}

void print_ports(struct xfsm_instance *inst, const struct xfsm_app_names *nm, unsigned int only)
{
	struct port_walk w = { .inst = inst, .nm = nm, .only = only };

	xfsm_map_walk(inst, XFSM_M_PORTS, port_cb, &w);
}

void show_image(const struct xfsm_image *img, const struct xfsm_app_names *nm,
		struct xfsm_instance *inst, unsigned int what, __u32 generation)
{
	open_json_object(NULL);
	if (what & SHOW_APP) {
		open_json_object("app");
		print_opt_string(PRINT_ANY, "name", "app %s", nm ? nm->app : NULL, "(unnamed)");
		if (inst)
			print_uint(PRINT_ANY, "generation", "  generation %u", generation);
		print_uint(PRINT_ANY, "stages", "  stages %u", img->app.n_stages);
		print_uint(PRINT_ANY, "rules", "  rules %zu", nm ? nm->n_rules : img->n_rules);
		print_uint(PRINT_ANY, "entries", "  table entries %zu", img->n_rules);
		print_string(PRINT_ANY, "default", "  default %s",
			     xfsm_lang_verdict_name(img->app.default_verdict));
		print_bool(PRINT_ANY, "needs_port", "  needs port %s",
			   img->app.flags & XFSM_AF_NEEDS_PORT);
		if (inst)	/* the instance's, chosen at load (--flow-value) */
			print_string(PRINT_ANY, "flow_value", "  flow values %s",
				     xfsm_flows_compact(inst) ? "compact" : "full");
		print_nl();
		if (inst) {
			print_datapath(inst, "  ");
			print_attachment(inst, "  ");
		}
		close_json_object();
	}
	if (what & (SHOW_STAGES | SHOW_RULES | SHOW_CONDS)) {
		open_json_array("stages");
		for (unsigned int s = 0; s < img->app.n_stages; s++)
			print_stage(img, nm, inst, s, what);
		close_json_array();
	}
	if (what & SHOW_GLOBALS) {
		__u64 regs[XFSM_GLOBAL_REGS];
		bool live = inst && !xfsm_globals_read(inst, regs);

		print_text("globals\n");
		open_json_array("globals");
		for (unsigned int i = 0; i < XFSM_GLOBAL_REGS; i++) {
			bool named = nm && nm->globals[i][0];
			bool set = img->globals_set & (1U << i);

			if (!live && !named && !set)
				continue;
			open_json_object(NULL);
			print_uint(PRINT_ANY, "index", "  global%u", i);
			print_opt_string(PRINT_ANY, "name", " %-14s", named ? nm->globals[i] : NULL, "");
			print_uint(PRINT_ANY, "value", " %llu\n", live ? regs[i] : img->globals[i]);
			close_json_object();
		}
		close_json_array();
	}
	if (what & SHOW_PORTS) {
		print_text("ports\n");
		open_json_array("ports");
		if (inst) {
			print_ports(inst, nm, 0);
		} else if (nm) {
			for (unsigned int p = 1; p < XFSM_MAX_PORTS; p++) {
				if (!nm->ports[p][0])
					continue;
				open_json_object(NULL);
				print_uint(PRINT_ANY, "port", "  port %-3u", p);
				print_string(PRINT_ANY, "name", " %s\n", nm->ports[p]);
				close_json_object();
			}
		}
		close_json_array();
		if (nm && nm->n_counters) {
			print_text("counters\n");
			open_json_array("counters");
			for (unsigned int i = 0; i < nm->n_counters; i++) {
				open_json_object(NULL);
				print_uint(PRINT_ANY, "index", "  counter %u", i);
				print_string(PRINT_ANY, "name", " %s\n", nm->counters[i]);
				close_json_object();
			}
			close_json_array();
		}
	}
	if ((what & SHOW_ACL) && nm && nm->acl_tables) {
		open_json_array("acl");
		for (unsigned int t = 0; t < XFSM_ACL_TABLES; t++) {
			if (!(nm->acl_tables & (1U << t)))
				continue;
			open_json_object(NULL);
			print_uint(PRINT_ANY, "table", "acl table %u:", t);
			print_uint(PRINT_FP, NULL, " %u rules\n", (unsigned int)nm->acl[t].n);
			print_acl_rules(nm->acl[t].r, nm->acl[t].n);
			close_json_object();
		}
		close_json_array();
	}
	close_json_object();
	print_flush();
}

/* ACL rules: text one per line, JSON {"id", "priority", "text"} objects. */
void print_acl_rules(const struct xfsm_acl_entry *r, size_t n)
{
	char text[1024];

	open_json_array("rules");
	for (size_t i = 0; i < n; i++) {
		xfsm_acl_format(&r[i], text, sizeof(text));
		open_json_object(NULL);
		print_uint(PRINT_JSON, "id", NULL, r[i].rule_id);
		print_uint(PRINT_JSON, "priority", NULL, r[i].priority);
		print_string(PRINT_ANY, "text", "  %s\n", text);
		close_json_object();
	}
	close_json_array();
}

/* ---- show command ---------------------------------------------------------------- */

const char show_notes[] =
	"Prints the running application (all of it, or one section) with its counters\n"
	"and the datapath that runs it (specialized or generic, and why); 'program'\n"
	"prints the specialized program's instructions with the generator's notes.\n";

int do_show(struct args *a)
{
	static const struct { const char *name; unsigned int what; } sections[] = {
		{ "app", SHOW_ALL | SHOW_ENTRIES },
		{ "stages", SHOW_STAGES },
		{ "rules", SHOW_RULES | SHOW_ENTRIES },
		{ "conditions", SHOW_CONDS },
		{ "globals", SHOW_GLOBALS },
		{ "ports", SHOW_PORTS },
	};
	const size_t n_sections = sizeof(sections) / sizeof(sections[0]);
	unsigned int what = SHOW_ALL | SHOW_ENTRIES;
	const char *w = arg_peek(a);

	if (w && !strcmp(w, "program")) {
		arg_take(a);
		return do_show_program(a);
	}
	/* the graphs (ctl/graph.c) */
	if (w && (!strcmp(w, "pipeline") || !strcmp(w, "fsm"))) {
		int n;
		char **rest = arg_rest(a, &n);

		return show_graph(a, n, rest);
	}
	w = arg_take(a);

	if (w) {
		int n = -1;

		/* exact, or a prefix of one section only */
		for (size_t i = 0; i < n_sections; i++) {
			if (!strcmp(w, sections[i].name)) {
				n = (int)i;
				break;
			}
			if (is_prefix(w, sections[i].name))
				n = n == -1 ? (int)i : -2;
		}
		if (n < 0)
			return usage_err(a, "%s section '%s'; expected app, stages, rules, conditions, globals, ports, program, pipeline or fsm",
					 n == -2 ? "ambiguous" : "unknown", w);
		what = sections[n].what;
	}
	return do_show_what(a, what);
}

int do_show_what(struct args *a, unsigned int what)
{
	struct xfsm_instance *inst;
	struct running r;
	int err, back = -1;

	err = arg_end(a);
	if (err)
		return err;
	err = open_instance(&inst);
	if (err)
		return err;
	/* Port ifindexes name interfaces of the instance's namespace. */
	if (what & SHOW_PORTS) {
		err = xfsm_instance_netns_enter(inst, &back);
		if (err)
			goto out;
	}
	err = running_load(inst, &r, false);
	if (err)
		goto out;
	if (r.img.app.n_stages == 0 && !is_json())
		printf("no application installed\n");
	show_image(&r.img, r.nm, inst, what, r.generation);
	running_free(&r);
out:
	xfsm_netns_leave(back);
	xfsm_instance_close(inst);
	return err;
}
