// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * simulate [--app FILE] [--port PORT] PACKET [then PACKET]...: what the
 * datapath would do with these packets, decided by the datapath itself run
 * on a private copy of its maps (lib/xfsm_sim.h), so that no live flow,
 * register or counter changes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xfsmctl.h"
#include "xfsm_sim.h"

#define FRAME_MAX	XFSM_SIM_FRAME_MAX

/* The command's words, for usage errors: a packet the words do not
 * describe is one (exit 2), like any other bad argument. */
static const struct args *sim_args;

struct sim_ctx {
	struct xfsm_sim *sim;
	struct decision_ctx d;
	bool	check_only;		/* first pass: every packet is valid */
};

/* ---- what the application reads ---------------------------------------------- */

static void read_word(struct decision_ctx *c, unsigned int w)
{
	if (w < XFSM_FV_WORDS && w != XFSM_FW_ZERO)
		c->reads[w] = true;
}

static void read_operand(struct decision_ctx *c, const struct xfsm_operand *o)
{
	if (o->kind == XFSM_OPND_FIELD)
		read_word(c, o->index);
	else if (o->kind == XFSM_OPND_META && o->index == XFSM_META_LEN)
		read_word(c, XFSM_FW_META_LEN);
	else if (o->kind == XFSM_OPND_META && o->index == XFSM_META_PORT)
		read_word(c, XFSM_FW_META_PORT);
}

void decision_init(struct decision_ctx *c, const struct xfsm_image *img,
		   const struct xfsm_app_names *nm, bool compact)
{
	static const unsigned int acl_words[] = {
		XFSM_FW_IP4_SRC, XFSM_FW_IP4_DST, XFSM_FW_IP6_SRC, XFSM_FW_IP6_DST,
		XFSM_FW_IP_PROTO, XFSM_FW_L4_SPORT, XFSM_FW_L4_DPORT,
	};
	const struct xfsm_app *app = &img->app;

	memset(c, 0, sizeof(*c));
	c->img = img;
	c->nm = nm;
	c->compact = compact;
	for (unsigned int s = 0; s < app->n_stages && s < XFSM_MAX_STAGES; s++) {
		const struct xfsm_stage *st = &app->stages[s];

		if (st->kind == XFSM_STAGE_ACL) {
			for (size_t i = 0; i < sizeof(acl_words) / sizeof(acl_words[0]); i++)
				read_word(c, acl_words[i]);
			continue;
		}
		for (unsigned int i = 0; i < XFSM_KEY_WORDS; i++) {
			read_word(c, st->lookup_words[i]);
			read_word(c, st->update_words[i]);
		}
		for (unsigned int i = 0; i < XFSM_MATCH_WORDS; i++)
			read_word(c, st->match_words[i]);
		for (unsigned int i = 0; i < st->n_conds && i < XFSM_MAX_CONDS; i++) {
			read_operand(c, &st->conds[i].a);
			read_operand(c, &st->conds[i].b);
		}
	}
	for (size_t r = 0; r < c->img->n_rules; r++) {
		const struct xfsm_rule *rule = &c->img->rules[r].rule;

		for (unsigned int i = 0; i < XFSM_MAX_UPDATES; i++) {
			read_operand(c, &rule->upd[i].a);
			read_operand(c, &rule->upd[i].b);
		}
		for (unsigned int i = 0; i < XFSM_MAX_ACTIONS; i++)
			read_operand(c, &rule->act[i].opnd);
	}
}

/* ---- printing a decision record ------------------------------------------------ */

/* A field's value: JSON typed as `state list` types it (numbers for
 * ports and protocols, strings for addresses), text as KEY=VALUE. */
static void print_field(int fid, const __u32 *words, const char *sep)
{
	const char *name = xfsm_lang_fields(NULL)[fid].name;
	char buf[64];
	__u64 num;

	xfsm_lang_format_field(fid, words, buf, sizeof(buf));
	if (field_is_number(fid) && !xfsm_parse_u64(buf, 0, ~0ULL, &num, NULL, 0))
		print_uint(PRINT_JSON, name, NULL, num);
	else
		print_string(PRINT_JSON, name, NULL, buf);
	print_text("%s%s=%s", sep, name, buf);
}

static const char *xdp_name(int v)
{
	static const char *const names[] = { "aborted", "drop", "pass", "tx", "redirect" };

	return v >= 0 && v < 5 ? names[v] : "unknown";
}

/* The packet flag a field needs to be in the packet at all (0: always). */
static __u32 field_needs(const char *name)
{
	static const struct { const char *prefix; __u32 flag; } t[] = {
		{ "tcp.", XFSM_PF_TCP }, { "udp.", XFSM_PF_UDP }, { "icmp.", XFSM_PF_ICMP },
		{ "icmp6.", XFSM_PF_ICMP6 }, { "l4.", XFSM_PF_L4 }, { "arp.", XFSM_PF_ARP },
		{ "vlan.inner", XFSM_PF_QINQ }, { "vlan.", XFSM_PF_VLAN },
		{ "ip.src", XFSM_PF_IPV4 }, { "ip.dst", XFSM_PF_IPV4 }, { "ip6.", XFSM_PF_IPV6 },
		{ "ip.", XFSM_PF_IPV4 | XFSM_PF_IPV6 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strncmp(name, t[i].prefix, strlen(t[i].prefix)))
			return t[i].flag;
	return 0;
}

static void print_fields(struct decision_ctx *c, const __u32 *fv)
{
	unsigned int n;
	const struct xfsm_lang_field *f = xfsm_lang_fields(&n);

	print_text("  fields");
	open_json_object("fields");
	for (unsigned int i = 0; i < n; i++) {
		bool any = false;

		for (unsigned int k = 0; k < f[i].nwords; k++)
			any |= c->reads[f[i].word + k];
		/* meta.port has its own line; l4.* duplicate tcp/udp */
		if (!any || f[i].word == XFSM_FW_META_PORT)
			continue;
		if (field_needs(f[i].name) && !(fv[XFSM_FW_PKT_FLAGS] & field_needs(f[i].name)))
			continue;	/* not in this packet */
		print_field((int)i, fv + f[i].word, " ");
	}
	close_json_object();
	print_nl();
}

static void print_key(struct decision_ctx *c, unsigned int s, const struct xfsm_flow_key *k)
{
	const struct xfsm_stage_names *sn = c->nm && s < c->nm->n_stages ? &c->nm->stages[s] : NULL;
	const struct xfsm_lang_field *f = xfsm_lang_fields(NULL);
	unsigned int w = 0;
	char buf[64];

	open_json_object("key");
	if (!sn) {
		for (unsigned int i = 0; i < XFSM_KEY_WORDS; i++) {
			snprintf(buf, sizeof(buf), "w%u", i);
			print_uint(PRINT_JSON, buf, NULL, k->w[i]);
			print_text("%s0x%x", i ? "." : "", k->w[i]);
		}
		close_json_object();
		return;
	}
	/* The key's words are the lookup fields' words in order (a
	 * symmetric stage's key may be the reversed one: the fields' names
	 * are still the lookup's). */
	for (unsigned int i = 0; i < sn->n_lookup_fields; i++) {
		const struct xfsm_lang_field *fi = &f[sn->lookup_fields[i]];

		if (w + fi->nwords > XFSM_KEY_WORDS)
			break;
		print_field(sn->lookup_fields[i], k->w + w, i ? " " : "");
		w += fi->nwords;
	}
	if (!sn->n_lookup_fields)
		print_text("(none: one flow for the stage)");
	close_json_object();
}

/* A flow's state, or the initial state 0 that a packet without a flow
 * sees; JSON: KEY (the state) and flow_KEY (whether the flow exists). */
static void print_state(struct decision_ctx *c, const char *key, const char *flow_key,
			unsigned int s, bool ok, __u32 state)
{
	char buf[64];

	print_string(PRINT_ANY, key, "%s", xfsm_lang_state_name(c->nm, s, ok ? state : 0,
								  buf, sizeof(buf)));
	if (flow_key)
		print_bool(PRINT_JSON, flow_key, NULL, ok);
	if (!ok)
		print_text(" (no flow)");
}

/* The flow registers that changed, named as the stage names them. */
static void print_regs(struct decision_ctx *c, unsigned int s, const struct xfsm_flow *b, bool b_ok,
		       const struct xfsm_flow *a)
{
	bool any = false;
	char name[64];

	if (c->compact)
		return;
	open_json_array("registers");
	for (unsigned int i = 0; i < XFSM_FLOW_REGS; i++) {
		__u64 before = b_ok ? b->regs[i] : 0;

		if (before == a->regs[i])
			continue;
		if (c->nm && s < c->nm->n_stages && c->nm->stages[s].regs[i][0])
			snprintf(name, sizeof(name), "%s", c->nm->stages[s].regs[i]);
		else
			snprintf(name, sizeof(name), "reg%u", i);
		if (!any)
			print_text("    registers");
		any = true;
		open_json_object(NULL);
		print_string(PRINT_ANY, "name", " %s", name);
		print_uint(PRINT_ANY, "before", " %llu", before);
		print_uint(PRINT_ANY, "after", " -> %llu", a->regs[i]);
		close_json_object();
	}
	close_json_array();
	if (any)
		print_nl();
}

static const struct xfsm_rule *rule_of(struct decision_ctx *c, __u32 id)
{
	for (size_t i = 0; i < c->img->n_rules; i++)
		if (c->img->rules[i].rule.rule_id == id)
			return &c->img->rules[i].rule;
	return NULL;
}

static void print_stage(struct decision_ctx *c, const struct xfsm_sim_result *res,
			const struct xfsm_sim_stage *st)
{
	const struct xfsm_stage *cfg = &c->img->app.stages[st->stage];
	char buf[512], nbuf[32];

	open_json_object(NULL);
	print_uint(PRINT_JSON, "stage", NULL, st->stage);
	print_string(PRINT_ANY, "name", "  stage %s", stage_name(c->nm, st->stage, nbuf, sizeof(nbuf)));
	print_string(PRINT_JSON, "kind", NULL, st->acl ? "acl" : "xfsm");
	if (st->visits > 1)
		print_uint(PRINT_ANY, "visits", " (entered %llu times)", st->visits);
	if (st->lookup) {
		print_text(": key ");
		print_key(c, st->stage, &st->key);
		print_nl();
		print_text("    state ");
		print_state(c, "state_before", "flow_before", st->stage, st->flow_before_ok, st->flow_before.state);
		if (st->idle_expired || st->hard_expired) {
			print_string(PRINT_ANY, "expired", " (%s timeout expired, ",
				     st->hard_expired ? "hard" : "idle");
			print_state(c, "state_seen", NULL, st->stage, true, st->state_seen);
			print_text(")");
		}
		print_text(" -> ");
		print_state(c, "state_after", "flow_after", st->stage, st->flow_after_ok, st->flow_after.state);
		if (!st->flow_before_ok && st->flow_after_ok)
			print_text(", created");
		print_nl();
	} else {
		print_text(st->acl ? ": ACL table %u\n" : ": no flow lookup\n", cfg->acl_table);
	}
	if (st->acl) {
		print_bool(PRINT_JSON, "matched", NULL, st->hit);
		print_string(PRINT_ANY, "acl_action", st->hit ? "    an ACL rule matched: %s" :
			     "    no ACL rule matched: miss", st->acl_action);
		if (st->acl_marked)
			print_uint(PRINT_ANY, "mark", ", mark %u", res->fv[XFSM_FW_META_MARK]);
		print_nl();
	} else if (st->rule_id != XFSM_SIM_MISS) {
		const struct xfsm_rule_names *rn = xfsm_lang_rule_by_id(c->nm, st->rule_id);
		const struct xfsm_rule *r = rule_of(c, st->rule_id);

		open_json_object("rule");
		print_uint(PRINT_JSON, "id", NULL, st->rule_id);
		print_string(PRINT_ANY, "name", "    rule %s", rn && rn->name[0] ? rn->name : "-");
		print_uint(PRINT_FP, NULL, " [id %u]", st->rule_id);
		if (r) {
			format_rule_effects(r, st->stage, c->nm, buf, sizeof(buf));
			print_string(PRINT_ANY, "effects", ": %s", buf);
		}
		close_json_object();
		print_nl();
	} else {
		print_null("rule");
		print_string(PRINT_ANY, "miss", "    miss: %s\n",
			     xfsm_lang_verdict_name(cfg->miss_verdict));
	}
	if (st->lookup && st->flow_after_ok)
		print_regs(c, st->stage, &st->flow_before, st->flow_before_ok, &st->flow_after);
	close_json_object();
}

/* Flows written that are not a visited stage's lookup flow: a rule's
 * update key, or an entry an LRU table evicted to make room. */
static void print_other_flows(struct decision_ctx *c, const struct xfsm_sim_result *res)
{
	char nbuf[32];

	open_json_array("other_flows");
	for (size_t i = 0; i < res->n_flows; i++) {
		const struct xfsm_sim_flow *f = &res->flows[i];
		bool seen = false;

		for (unsigned int k = 0; k < res->n_stages; k++)
			seen |= res->st[k].lookup &&
				!memcmp(&res->st[k].key, &f->key, sizeof(f->key));
		if (seen)
			continue;
		open_json_object(NULL);
		print_string(PRINT_ANY, "stage", "  flow of stage %s: ",
			     stage_name(c->nm, f->key.stage, nbuf, sizeof(nbuf)));
		print_key(c, f->key.stage, &f->key);
		print_text(" state ");
		print_state(c, "state_before", "flow_before", f->key.stage, f->before_ok, f->before.state);
		print_text(" -> ");
		print_state(c, "state_after", "flow_after", f->key.stage, f->after_ok, f->after.state);
		if (f->before_ok && !f->after_ok)
			print_string(PRINT_ANY, "removed", " (%s)", "evicted or deleted");
		print_nl();
		if (f->after_ok)
			print_regs(c, f->key.stage, &f->before, f->before_ok, &f->after);
		close_json_object();
	}
	close_json_array();
}

static void print_exceptions(const struct xfsm_stats *d)
{
	open_json_array("exceptions");
#define X(name)								\
	if (d->exc_##name)						\
		print_string(PRINT_ANY, NULL, "  exception %s\n", #name);
	XFSM_EXCEPTIONS(X)
#undef X
	close_json_array();
}

/* What output fib made of the packet (its counter in XFSM_FIB_COUNTERS):
 * the lookup ran in the namespace the simulation runs in. */
static void print_fib(const struct xfsm_stats *d)
{
#define X(name)								\
	if (d->fib_##name)						\
		print_string(PRINT_ANY, "fib", "  output fib: %s\n", #name);
	XFSM_FIB_COUNTERS(X)
#undef X
}

void decision_print(struct decision_ctx *c, const struct xfsm_sim_result *res)
{
	bool any;

	open_json_object(NULL);
	if (c->when > 0) {
		time_t t = (time_t)c->when;
		char tb[32];

		strftime(tb, sizeof(tb), "%H:%M:%S", localtime(&t));
		print_float(PRINT_JSON, "time", NULL, c->when);
		print_text("%s.%06ld ", tb, (long)((c->when - (double)t) * 1e6));
	}
	print_uint(PRINT_ANY, "packet", "packet %u:", ++c->n);
	print_uint(PRINT_ANY, "len", " %u bytes", res->len);
	print_uint(PRINT_JSON, "port", NULL, res->port);
	if (res->port)
		print_uint(PRINT_FP, NULL, " on port %u", res->port);
	else
		print_text(" on no port");
	if (c->nm && res->port && res->port < XFSM_MAX_PORTS && c->nm->ports[res->port][0])
		print_string(PRINT_ANY, "port_name", " (%s)", c->nm->ports[res->port]);
	print_nl();
	print_fields(c, res->fv);
	print_exceptions(&res->stats);
	print_fib(&res->stats);
	open_json_array("stages");
	for (unsigned int i = 0; i < res->n_stages; i++)
		print_stage(c, res, &res->st[i]);
	close_json_array();
	print_other_flows(c, res);

	any = false;
	open_json_array("globals");
	for (unsigned int i = 0; i < XFSM_GLOBAL_REGS; i++) {
		if (res->globals_before[i] == res->globals_after[i])
			continue;
		if (!any)
			print_text("  globals");
		any = true;
		open_json_object(NULL);
		if (c->nm && c->nm->globals[i][0])
			print_string(PRINT_ANY, "name", " %s", c->nm->globals[i]);
		else
			print_uint(PRINT_ANY, "index", " global%u", i);
		print_uint(PRINT_ANY, "before", " %llu", res->globals_before[i]);
		print_uint(PRINT_ANY, "after", " -> %llu", res->globals_after[i]);
		close_json_object();
	}
	close_json_array();
	if (any)
		print_nl();
	any = false;
	open_json_array("counters");
	for (unsigned int i = 0; i < XFSM_MAX_COUNTERS; i++) {
		if (!res->counters[i])
			continue;
		if (!any)
			print_text("  counted");
		any = true;
		open_json_object(NULL);
		if (c->nm && c->nm->counters[i][0])
			print_string(PRINT_ANY, "name", " %s", c->nm->counters[i]);
		else
			print_uint(PRINT_ANY, "index", " counter%u", i);
		print_uint(PRINT_ANY, "packets", " +%llu", res->counters[i]);
		close_json_object();
	}
	close_json_array();
	if (any)
		print_nl();
	print_string(PRINT_ANY, "verdict", "  verdict %s", xdp_name(res->verdict));
	if (res->stats.act_output || res->stats.act_flood || res->stats.verdict_redirect)
		print_text(" (%s)", res->stats.act_flood ? "flood" :
			   res->stats.act_output ? "output to a port" : "redirect");
	print_nl();
	close_json_object();
}

/* ---- packets ------------------------------------------------------------------------ */

static int run_frame(struct sim_ctx *c, const unsigned char *frame, size_t len, __u32 port)
{
	struct xfsm_sim_result *res;
	int err;

	if (c->check_only)
		return 0;
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	err = xfsm_sim_run(c->sim, frame, len, port, res);
	if (!err)
		decision_print(&c->d, res);
	xfsm_sim_result_free(res);
	free(res);
	return err;
}

/* "hex:0200..." (':', '.' and '-' between bytes are allowed) */
static int parse_hex(const char *s, unsigned char *buf, size_t cap)
{
	size_t n = 0;
	const char *p = s;

	while (*p) {
		int hi, lo;

		if (*p == ':' || *p == '.' || *p == '-' || *p == ' ') {
			p++;
			continue;
		}
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])) {
			usage_err(sim_args, "hex frame: '%.2s' at offset %zu is not a hex byte",
			      p, (size_t)(p - s));
			return -EINVAL;
		}
		hi = (int)strtol((char[]){ p[0], '\0' }, NULL, 16);
		lo = (int)strtol((char[]){ p[1], '\0' }, NULL, 16);
		if (n == cap) {
			usage_err(sim_args, "hex frame longer than %zu bytes", cap);
			return -E2BIG;
		}
		buf[n++] = (unsigned char)(hi << 4 | lo);
		p += 2;
	}
	if (n < 14) {
		usage_err(sim_args, "hex frame of %zu bytes: an Ethernet frame has at least 14", n);
		return -EINVAL;
	}
	return (int)n;
}

static __u32 rd32(const unsigned char *p, bool swap)
{
	__u32 v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Every packet of a classic pcap file (Ethernet link type). */
static int run_pcap(struct sim_ctx *c, const char *path, __u32 port)
{
	unsigned char hdr[24], rec[16], *frame = NULL;
	FILE *f = fopen(path, "rb");
	bool swap;
	int err = 0;

	if (!f) {
		err = -errno;
		p_err("simulate: cannot open %s: %s", path, strerror(errno));
		return err;
	}
	frame = malloc(65536);
	if (!frame) {
		err = -ENOMEM;
		goto out;
	}
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    (rd32(hdr, false) != 0xa1b2c3d4 && rd32(hdr, false) != 0xd4c3b2a1 &&
	     rd32(hdr, false) != 0xa1b23c4d && rd32(hdr, false) != 0x4d3cb2a1)) {
		p_err("simulate: %s is not a pcap file (pcapng is not read: convert it with editcap -F pcap)",
		      path);
		err = -EINVAL;
		goto out;
	}
	swap = rd32(hdr, false) == 0xd4c3b2a1 || rd32(hdr, false) == 0x4d3cb2a1;
	if (rd32(hdr + 20, swap) != 1) {
		p_err("simulate: %s has link type %u; only Ethernet (1) is read", path,
		      rd32(hdr + 20, swap));
		err = -EINVAL;
		goto out;
	}
	for (unsigned int i = 1; !err; i++) {
		__u32 caplen;
		size_t got = fread(rec, 1, sizeof(rec), f);

		if (got == 0)
			break;
		caplen = rd32(rec + 8, swap);
		if (got != sizeof(rec) || caplen > 65536 ||
		    fread(frame, 1, caplen, f) != caplen) {
			p_err("simulate: %s: packet %u is truncated", path, i);
			err = -EINVAL;
			break;
		}
		if (caplen > FRAME_MAX) {
			p_err("simulate: %s: packet %u has %u bytes; at most %u are simulated",
			      path, i, caplen, FRAME_MAX);
			err = -E2BIG;
			break;
		}
		err = run_frame(c, frame, caplen, port);
	}
out:
	free(frame);
	fclose(f);
	return err;
}

/* Words argv[0..n-1]: one packet. */
static int run_packet(struct sim_ctx *c, char **words, int n, __u32 port)
{
	struct xfsm_lang_match_term terms[XFSM_LANG_MATCH_MAX];
	unsigned char frame[FRAME_MAX];
	char text[2048] = "", err[512];
	unsigned int nt;
	__u32 mport = 0;
	size_t len = 0;
	int ret;

	if (n == 1 && !strncmp(words[0], "pcap:", 5))
		return run_pcap(c, words[0] + 5, port);
	if (n == 1 && !strncmp(words[0], "hex:", 4)) {
		ret = parse_hex(words[0] + 4, frame, sizeof(frame));
		return ret < 0 ? ret : run_frame(c, frame, (size_t)ret, port);
	}
	for (int i = 0; i < n; i++) {
		if (!strncmp(words[i], "pcap:", 5) || !strncmp(words[i], "hex:", 4)) {
			usage_err(sim_args, "'%s' is a packet of its own: separate packets with 'then'",
			      words[i]);
			return -EINVAL;
		}
		ret = snprintf(text + len, sizeof(text) - len, "%s%s", i ? " " : "", words[i]);
		if (ret < 0 || (size_t)ret >= sizeof(text) - len) {
			usage_err(sim_args, "packet description too long");
			return -E2BIG;
		}
		len += (size_t)ret;
	}
	ret = xfsm_lang_parse_match("packet", text, c->d.nm, XFSM_LANG_MATCH_ASSIGN, terms,
				    XFSM_LANG_MATCH_MAX, &nt, err, sizeof(err));
	if (ret) {
		usage_err(sim_args, "%s", err[0] ? err : strerror(-ret));
		return ret;
	}
	ret = xfsm_sim_frame_build(terms, nt, frame, sizeof(frame), &mport, err, sizeof(err));
	if (ret < 0) {
		usage_err(sim_args, "packet '%s': %s", text, err);
		return ret;
	}
	return run_frame(c, frame, (size_t)ret, mport ? mport : port);
}

static int port_arg(const struct xfsm_app_names *nm, const char *s, __u32 *port)
{
	for (unsigned int p = 1; nm && p < XFSM_MAX_PORTS; p++) {
		if (nm->ports[p][0] && !strcmp(nm->ports[p], s)) {
			*port = p;
			return 0;
		}
	}
	return arg_u32("simulate --port", s, 0, XFSM_MAX_PORTS - 1, port);
}

static int simulate_help(void)
{
	fprintf(stderr,
		"Usage: xfsmctl simulate [--app FILE] [--port PORT] PACKET [then PACKET]...\n"
		"  PACKET: field assignments (ip.src=198.18.0.1 tcp.dport=22 tcp.flags=syn),\n"
		"          hex:FRAME (Ethernet frame in hex) or pcap:FILE (every packet of it)\n"
		"  --app FILE   run FILE compiled on the fly instead of the running application\n"
		"  --port PORT  ingress port (number or name) of packets without meta.port\n"
		"Runs the datapath on a private copy of its maps: nothing live changes.\n");
	return -EINVAL;
}

static int simulate_main(int argc, char **argv);

/* The packets of argv[0..argc-1], separated by "then". */
static int run_packets(struct sim_ctx *c, int argc, char **argv, __u32 port)
{
	int ret = 0, first = 0;

	for (int i = 0; i <= argc && !ret; i++) {
		if (i < argc && strcmp(argv[i], "then"))
			continue;
		if (i == first) {
			usage_err(sim_args, "an empty packet (two 'then' in a row, or one at an end)");
			return -EINVAL;
		}
		ret = run_packet(c, argv + first, i - first, port);
		first = i + 1;
	}
	return ret;
}

int do_simulate(struct args *a)
{
	int n;
	char **rest = arg_rest(a, &n);

	sim_args = a;
	return simulate_main(n, rest);
}

static int simulate_main(int argc, char **argv)
{
	const char *app = NULL, *port_s = NULL;
	struct xfsm_instance *live = NULL;
	struct xfsm_app_names *nm = NULL;
	struct sim_ctx c = { 0 };
	struct running r = { 0 };
	struct xfsm_image img;
	bool have_running = false;
	__u32 port = 0;
	int ret;

	xfsm_image_init(&img);
	for (; argc > 0 && argv[0][0] == '-'; (argc--, argv++)) {
		if (!strcmp(argv[0], "--app") && argc > 1) {
			(argc--, argv++);
			app = argv[0];
		} else if (!strcmp(argv[0], "--port") && argc > 1) {
			(argc--, argv++);
			port_s = argv[0];
		} else if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
			return simulate_help();
		} else {
			return usage_err(sim_args, "unknown option '%s' (or its value is missing)",
					 argv[0]);
		}
	}
	if (argc < 1) {
		return usage_err(sim_args, "no packet given");
	}
	/* --app without a chosen datapath runs alone: no ports, no groups. */
	if (!app || opt_iface || opt_instance || opt_pin_dir) {
		ret = open_instance(&live);
		if (ret)
			return ret;
	}
	if (app) {
		ret = app_file_load(app, &img, &nm);
		if (ret)
			goto out;
		c.d.img = &img;
		c.d.nm = nm;
	} else {
		ret = running_load(live, &r, true);
		if (ret)
			goto out;
		have_running = true;
		c.d.nm = r.nm;
	}
	if (port_s) {
		ret = port_arg(c.d.nm, port_s, &port);
		if (ret)
			goto out;
	}
	if (!app)
		c.d.img = &r.img;
	/* the copy is the live datapath's build (lib/xfsm_sim.h) */
	decision_init(&c.d, c.d.img, c.d.nm, live && xfsm_flows_compact(live));
	/* Every packet is checked before the datapath's copy is made (a
	 * verification of the whole datapath: seconds on a slow machine) and
	 * before any runs: a bad one prints only its error. */
	c.check_only = true;
	ret = run_packets(&c, argc, argv, port);
	if (ret)
		goto out;
	ret = xfsm_sim_open(live, app ? &img : NULL, nm, &c.sim);
	if (ret) {
		p_err("simulate: cannot make a copy of the datapath to run packets on: %s",
		      strerror(-ret));
		goto out;
	}
	c.check_only = false;
	open_json_array(NULL);
	ret = run_packets(&c, argc, argv, port);
	close_json_array();
	print_flush();
out:
	xfsm_sim_close(c.sim);
	if (have_running)
		running_free(&r);
	if (nm) {
		xfsm_app_names_free(nm);
		free(nm);
	}
	xfsm_image_free(&img);
	xfsm_instance_close(live);
	return ret;
}
