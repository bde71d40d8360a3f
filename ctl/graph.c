// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * show pipeline [--dot] and show fsm STAGE [--dot]: the instance, and a
 * stage's state machine, as graphs with live packet counts (text, or
 * Graphviz with --dot).  With --app FILE they draw a file's application
 * without counts (what `make docs` renders).
 *
 * The datapath keeps no per-edge counters: the counts are the rule, miss,
 * ACL, group and port counters, each attributed to the edge its packets
 * take.  Every packet a stage counts leaves it by exactly one edge (a rule
 * or the miss), so a stage's out-edges add up to its packet count; packets
 * a goto sent backwards or an output to a missing port turned into drops
 * are counted on the edge their rule names.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfsmctl.h"
#include "xfsm_acl.h"
#include "xfsm_group.h"

#define MAX_EDGES	1024

struct edge {
	char	from[24];
	char	to[24];
	char	label[96];
	__u64	count;
	bool	dashed;
};

struct graph {
	struct xfsm_instance *inst;	/* NULL: no counts */
	const struct xfsm_image *img;
	const struct xfsm_app_names *nm;
	struct edge e[MAX_EDGES];
	unsigned int n;
	bool	dot;
	char	initial[24];		/* fsm: state 0's node */
};

static struct edge *edge_add(struct graph *g, const char *from, const char *to,
			     const char *label, __u64 count)
{
	struct edge *e;

	/* one edge per (from, to, label): rules sharing a target add up */
	for (unsigned int i = 0; i < g->n; i++) {
		e = &g->e[i];
		if (!strcmp(e->from, from) && !strcmp(e->to, to) && !strcmp(e->label, label)) {
			e->count += count;
			return e;
		}
	}
	if (g->n == MAX_EDGES)
		return NULL;
	e = &g->e[g->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->from, sizeof(e->from), "%s", from);
	snprintf(e->to, sizeof(e->to), "%s", to);
	snprintf(e->label, sizeof(e->label), "%s", label);
	e->count = count;
	return e;
}

/* Graphviz double-quoted string contents. */
static void dot_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if (*s == '\n') {
			fputs("\\n", stdout);
			continue;
		}
		putchar(*s);
	}
}

static const char *verdict_node(unsigned int v)
{
	switch (v) {
	case XFSM_VERDICT_DROP: return "v_drop";
	case XFSM_VERDICT_TX: return "v_tx";
	default: return "v_pass";
	}
}

/* ---- pipeline --------------------------------------------------------------------- */

/* Where a rule's packets go: its first verdict or output action, else the
 * stage its goto names, else the next stage. */
static void rule_target(const struct graph *g, const struct xfsm_rule *r, unsigned int stage,
			char *to, size_t len)
{
	unsigned int next = stage + 1;

	for (unsigned int i = 0; i < XFSM_MAX_ACTIONS; i++) {
		const struct xfsm_action *a = &r->act[i];

		switch (a->type) {
		case XFSM_ACT_DROP: snprintf(to, len, "v_drop"); return;
		case XFSM_ACT_PASS: snprintf(to, len, "v_pass"); return;
		case XFSM_ACT_TX: snprintf(to, len, "v_tx"); return;
		case XFSM_ACT_FLOOD: snprintf(to, len, "flood"); return;
		case XFSM_ACT_OUTPUT_XSK: snprintf(to, len, "xsk"); return;
		case XFSM_ACT_OUTPUT_GROUP: snprintf(to, len, "group%u", a->arg); return;
		case XFSM_ACT_OUTPUT:
			if (a->opnd.kind == XFSM_OPND_CONST)
				snprintf(to, len, "out%llu", (unsigned long long)a->opnd.value);
			else
				snprintf(to, len, "out_computed");
			return;
		case XFSM_ACT_GOTO:
			next = a->arg;
			break;
		default:
			break;
		}
	}
	if (next < g->img->app.n_stages)
		snprintf(to, len, "stage%u", next);
	else
		snprintf(to, len, "%s", verdict_node(g->img->app.default_verdict));
}

/* A source rule's table entries share one counter: it goes to the edge of
 * its first entry (a rule that matches in several states shows its count
 * on its first transition). */
static __u64 rule_packets(struct graph *g, __u32 id)
{
	const struct xfsm_stat_ident *e = xfsm_stat_idents_find(&g->img->idents,
								XFSM_SID_RULE, id);
	struct xfsm_rule_stats rs;

	if (!g->inst || !e || e->pos != id || xfsm_read_rule_stats_at(g->inst, e->index, &rs))
		return 0;
	return rs.packets;
}

static void pipeline_edges(struct graph *g)
{
	const struct xfsm_app *app = &g->img->app;
	struct xfsm_stats st = { 0 };
	char from[24], to[24], label[96], buf[32];
	__u64 port_rx = 0;

	if (g->inst)
		xfsm_read_stats(g->inst, &st);
	/* ports in */
	for (unsigned int p = 1; g->inst && p < XFSM_MAX_PORTS; p++) {
		struct xfsm_port_stats ps;

		if (xfsm_port_stats_read(g->inst, p, &ps) || (!ps.rx_packets && !ps.tx_packets))
			continue;
		snprintf(from, sizeof(from), "in%u", p);
		edge_add(g, from, "parse", "rx", ps.rx_packets);
		port_rx += ps.rx_packets;
		if (ps.tx_packets) {
			snprintf(to, sizeof(to), "tx%u", p);
			snprintf(from, sizeof(from), "out%u", p);
			edge_add(g, from, to, "tx", ps.tx_packets);
		}
	}
	for (unsigned int p = 1; !g->inst && g->nm && p < XFSM_MAX_PORTS; p++) {
		if (g->nm->ports[p][0]) {
			snprintf(from, sizeof(from), "in%u", p);
			edge_add(g, from, "parse", "rx", 0);
		}
	}
	if (st.rx_packets > port_rx)
		edge_add(g, "in0", "parse", "rx", st.rx_packets - port_rx);
	if (st.malformed)
		edge_add(g, "parse", "v_malformed", "malformed", st.malformed);
	if (st.exc_no_app)
		edge_add(g, "parse", verdict_node(app->default_verdict), "no application",
			 st.exc_no_app);
	if (app->n_stages)
		edge_add(g, "parse", "stage0", "parsed",
			 st.rx_packets - st.malformed - st.exc_no_app);

	for (unsigned int s = 0; s < app->n_stages && s < XFSM_MAX_STAGES; s++) {
		const struct xfsm_stage *cfg = &app->stages[s];
		struct xfsm_stage_stats ss = { 0 };

		if (g->inst)
			xfsm_read_stage_stats(g->inst, s, &ss);
		snprintf(from, sizeof(from), "stage%u", s);
		if (cfg->miss_verdict == XFSM_VERDICT_CONTINUE) {
			if (s + 1 < app->n_stages)
				snprintf(to, sizeof(to), "stage%u", s + 1);
			else
				snprintf(to, sizeof(to), "%s", verdict_node(app->default_verdict));
		} else {
			snprintf(to, sizeof(to), "%s", verdict_node(cfg->miss_verdict));
		}
		if (cfg->kind == XFSM_STAGE_ACL) {
			struct xfsm_acl_stats as = { 0 };

			if (g->inst)
				xfsm_acl_read_stats(g->inst, cfg->acl_table, &as);
			edge_add(g, from, to, "miss", as.missed);
			edge_add(g, from, "v_drop", "deny", as.deny);
			edge_add(g, from, "v_pass", "pass", as.pass);
			if (s + 1 < app->n_stages)
				snprintf(to, sizeof(to), "stage%u", s + 1);
			else
				snprintf(to, sizeof(to), "%s", verdict_node(app->default_verdict));
			edge_add(g, from, to, "allow", as.allow);
			if (as.go)
				edge_add(g, from, "acl_goto", "goto", as.go);
			continue;
		}
		edge_add(g, from, to, "miss", ss.misses);
		/* A source rule's table entries (one per expansion) go
		 * where its actions send them: one edge. */
		for (size_t i = 0; i < g->img->n_rules; i++) {
			const struct xfsm_rule_entry *re = &g->img->rules[i];
			const struct xfsm_rule_names *rn;

			if (re->key.stage != s)
				continue;
			rn = xfsm_lang_rule_by_id(g->nm, re->rule.rule_id);
			rule_target(g, &re->rule, s, to, sizeof(to));
			snprintf(label, sizeof(label), "%s", rn && rn->name[0] ? rn->name :
				 (snprintf(buf, sizeof(buf), "rule %u", re->rule.rule_id), buf));
			edge_add(g, from, to, label, rule_packets(g, re->rule.rule_id));
		}
	}
	/* groups to ports */
	for (unsigned int e = 0; e < g->n; e++) {
		struct xfsm_group grp;
		struct xfsm_group_stats gs = { 0 };
		unsigned int id;

		if (sscanf(g->e[e].to, "group%u", &id) != 1 || !g->inst ||
		    xfsm_group_read(g->inst, id, &grp))
			continue;
		xfsm_group_read_stats(g->inst, id, &gs);
		snprintf(from, sizeof(from), "group%u", id);
		for (unsigned int m = 0; m < grp.n_members && m < XFSM_GROUP_MAX_MEMBERS; m++) {
			snprintf(to, sizeof(to), "out%u", grp.members[m]);
			edge_add(g, from, to, "member", gs.member[m]);
		}
		if (gs.empty)
			edge_add(g, from, "v_drop", "no live member", gs.empty);
	}
}

static const char *port_name(const struct graph *g, unsigned int p, char *buf, size_t len)
{
	if (g->nm && p < XFSM_MAX_PORTS && g->nm->ports[p][0])
		snprintf(buf, len, "port %u %s", p, g->nm->ports[p]);
	else
		snprintf(buf, len, "port %u", p);
	return buf;
}

/* A node's label from its id. */
static void node_label(const struct graph *g, const char *id, char *buf, size_t len)
{
	unsigned int n;
	char nb[64];

	if (sscanf(id, "stage%u", &n) == 1 && n < g->img->app.n_stages) {
		const struct xfsm_stage *st = &g->img->app.stages[n];
		struct xfsm_stage_stats ss = { 0 };

		if (g->inst)
			xfsm_read_stage_stats(g->inst, n, &ss);
		if (st->kind == XFSM_STAGE_ACL)
			snprintf(buf, len, "stage %s\nacl table %u", stage_name(g->nm, n, nb, sizeof(nb)),
				 st->acl_table);
		else
			snprintf(buf, len, "stage %s\nxfsm", stage_name(g->nm, n, nb, sizeof(nb)));
		if (g->inst)
			snprintf(buf + strlen(buf), len - strlen(buf), "\n%llu packets",
				 (unsigned long long)ss.packets);
	} else if (sscanf(id, "in%u", &n) == 1) {
		char ifn[IF_NAMESIZE] = "";

		if (n)
			port_name(g, n, buf, len);
		else
			snprintf(buf, len, "not a port");
		(void)ifn;
	} else if (sscanf(id, "out%u", &n) == 1 || sscanf(id, "tx%u", &n) == 1) {
		port_name(g, n, nb, sizeof(nb));
		snprintf(buf, len, "%s%s", id[0] == 't' ? "" : "output ", nb);
	} else if (sscanf(id, "group%u", &n) == 1) {
		snprintf(buf, len, "group %u", n);
	} else if (!strncmp(id, "v_", 2)) {
		snprintf(buf, len, "%s", id + 2);
	} else if (!strcmp(id, "out_computed")) {
		snprintf(buf, len, "output (port from a register)");
	} else if (!strcmp(id, "acl_goto")) {
		snprintf(buf, len, "ACL goto");
	} else {
		snprintf(buf, len, "%s", id);
	}
}

static bool node_listed(char (*ids)[24], unsigned int n, const char *id)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return true;
	return false;
}

static void graph_print(struct graph *g, const char *name, bool fsm)
{
	static char ids[2 * MAX_EDGES][24];
	unsigned int n_ids = 0;
	char label[160];

	for (unsigned int i = 0; i < g->n; i++) {
		if (!node_listed(ids, n_ids, g->e[i].from))
			snprintf(ids[n_ids++], 24, "%s", g->e[i].from);
		if (!node_listed(ids, n_ids, g->e[i].to))
			snprintf(ids[n_ids++], 24, "%s", g->e[i].to);
	}
	if (g->dot) {
		printf("digraph \"");
		dot_str(name);
		printf("\" {\n\trankdir=LR;\n\tnode [fontname=\"Helvetica\", fontsize=11];\n"
		       "\tedge [fontname=\"Helvetica\", fontsize=9];\n");
		for (unsigned int i = 0; i < n_ids; i++) {
			const char *shape = "box";

			if (fsm)
				shape = !strcmp(ids[i], "any") ? "plaintext" : "ellipse";
			else if (!strncmp(ids[i], "v_", 2))
				shape = "doublecircle";
			else if (!strncmp(ids[i], "stage", 5))
				shape = "box, style=rounded";
			else if (!strncmp(ids[i], "in", 2) || !strncmp(ids[i], "tx", 2))
				shape = "cds";
			if (fsm)
				snprintf(label, sizeof(label), "%s", ids[i] + (strncmp(ids[i], "s_", 2) ? 0 : 2));
			else
				node_label(g, ids[i], label, sizeof(label));
			printf("\t\"%s\" [shape=%s%s, label=\"", ids[i], shape,
			       fsm && !strcmp(ids[i], g->initial) ? ", penwidth=2" : "");
			dot_str(label);
			printf("\"];\n");
		}
		for (unsigned int i = 0; i < g->n; i++) {
			const struct edge *e = &g->e[i];

			printf("\t\"%s\" -> \"%s\" [label=\"", e->from, e->to);
			dot_str(e->label);
			if (g->inst && !e->dashed)
				printf("\\n%llu", (unsigned long long)e->count);
			printf("\"%s, xfsm_count=%llu];\n", e->dashed ? ", style=dashed" : "",
			       (unsigned long long)e->count);
		}
		printf("}\n");
		return;
	}
	open_json_object(NULL);
	print_string(PRINT_JSON, "name", NULL, name);
	open_json_array("edges");
	for (unsigned int i = 0; i < g->n; i++) {
		const struct edge *e = &g->e[i];
		char a[160], b[160];

		if (fsm) {
			snprintf(a, sizeof(a), "%s", e->from + (strncmp(e->from, "s_", 2) ? 0 : 2));
			snprintf(b, sizeof(b), "%s", e->to + (strncmp(e->to, "s_", 2) ? 0 : 2));
		} else {
			node_label(g, e->from, a, sizeof(a));
			node_label(g, e->to, b, sizeof(b));
			/* text: the node's name line; counts are on the edges */
			a[strcspn(a, "\n")] = '\0';
			b[strcspn(b, "\n")] = '\0';
		}
		open_json_object(NULL);
		print_string(PRINT_JSON, "from_id", NULL, e->from);
		print_string(PRINT_JSON, "to_id", NULL, e->to);
		print_string(PRINT_ANY, "from", "  %-28s", a);
		print_string(PRINT_ANY, "to", " -> %-28s", b);
		/* "rule\ncondition" as "rule (condition)" */
		{
			size_t k = strcspn(e->label, "\n");

			snprintf(a, sizeof(a), e->label[k] ? "%.*s (%s)" : "%.*s%s", (int)k,
				 e->label, e->label[k] ? e->label + k + 1 : "");
		}
		print_string(PRINT_ANY, "label", " %s", a);
		if (g->inst && !e->dashed)
			print_uint(PRINT_ANY, "packets", "  %llu", e->count);
		print_nl();
		close_json_object();
	}
	close_json_array();
	close_json_object();
	print_flush();
}

/* ---- state machine ------------------------------------------------------------------- */

static void state_id(const struct graph *g, unsigned int s, __u32 state, char *buf, size_t len)
{
	char nb[64];

	snprintf(buf, len, "s_%s", xfsm_lang_state_name(g->nm, s, state, nb, sizeof(nb)));
}

/* The rule's condition as written: the text between "when" and "=>". */
static void rule_when(const struct xfsm_rule_names *rn, char *buf, size_t len)
{
	const char *w, *e;

	buf[0] = '\0';
	if (!rn || !rn->text)
		return;
	w = strstr(rn->text, "when ");
	e = strstr(rn->text, "=>");
	if (!w || !e || e < w)
		return;
	w += 5;
	/* the edge starts at the state already: leave "state NAME" out */
	if (!strncmp(w, "state ", 6)) {
		const char *c = strchr(w, ',');

		w = c && c < e ? c + 1 : e;
		while (w < e && (*w == ' ' || *w == '\t' || *w == '\n'))
			w++;
	}
	while (e > w && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		e--;
	snprintf(buf, len, "%.*s", (int)(e - w) > 60 ? 60 : (int)(e - w), w);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

/* A timeout of the state a rule enters: a dashed edge to its rollback. */
static void timeout_edge(struct graph *g, unsigned int s, const char *from, const char *kind,
			 __u32 ms, __u32 rollback)
{
	char to[24], label[32];
	struct edge *e;

	if (!ms)
		return;
	state_id(g, s, rollback, to, sizeof(to));
	snprintf(label, sizeof(label), "%s %u%s", kind, ms % 1000 ? ms : ms / 1000,
		 ms % 1000 ? "ms" : "s");
	e = edge_add(g, from, to, label, 0);
	if (e)
		e->dashed = true;
}

static void fsm_edges(struct graph *g, unsigned int s)
{
	const struct xfsm_stage *cfg = &g->img->app.stages[s];
	char from[24], to[24], label[96], when[64], nb[32];

	for (size_t i = 0; i < g->img->n_rules; i++) {
		const struct xfsm_rule_entry *re = &g->img->rules[i];
		const struct xfsm_rule *r = &re->rule;
		const struct xfsm_rule_names *rn;
		__u32 smask;

		if (re->key.stage != s || re->key.tuple >= XFSM_MAX_TUPLES)
			continue;
		smask = cfg->tuples[re->key.tuple].state_mask;
		if (smask)
			state_id(g, s, re->key.state, from, sizeof(from));
		else
			snprintf(from, sizeof(from), "any");
		if (r->flags & XFSM_RF_SET_STATE)
			state_id(g, s, r->next_state, to, sizeof(to));
		else
			snprintf(to, sizeof(to), "%s", from);
		rn = xfsm_lang_rule_by_id(g->nm, r->rule_id);
		rule_when(rn, when, sizeof(when));
		snprintf(label, sizeof(label), "%s%s%s", rn && rn->name[0] ? rn->name :
			 (snprintf(nb, sizeof(nb), "rule %u", r->rule_id), nb),
			 when[0] ? "\n" : "", when);
		edge_add(g, from, to, label, rule_packets(g, r->rule_id));
		if (r->flags & XFSM_RF_SET_STATE) {
			timeout_edge(g, s, to, "idle", r->idle_timeout_ms, r->idle_rollback);
			timeout_edge(g, s, to, "hard", r->hard_timeout_ms, r->hard_rollback);
		}
	}
}

/* ---- command ------------------------------------------------------------------------- */

int app_file_load(const char *path, struct xfsm_image *img, struct xfsm_app_names **nm)
{
	char err[600];
	int ret;

	*nm = calloc(1, sizeof(**nm));
	if (!*nm)
		return -ENOMEM;
	ret = xfsm_compile_file(path, img, *nm, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s\n", err);
		xfsm_app_names_free(*nm);
		free(*nm);
		*nm = NULL;
	}
	return ret;
}

/* argv[0] is "pipeline" or "fsm"; a: the command's words, for usage
 * errors. */
int show_graph(const struct args *a, int argc, char **argv)
{
	struct graph *g = calloc(1, sizeof(*g));
	bool fsm = !strcmp(argv[0], "fsm");
	const char *app = NULL, *stage = NULL;
	struct xfsm_app_names *nm = NULL;
	struct xfsm_instance *inst = NULL;
	struct running r = { 0 };
	struct xfsm_image img;
	bool have_running = false;
	char title[96];
	int ret = 0, back = -1, s = 0;

	xfsm_image_init(&img);
	if (!g)
		return -ENOMEM;
	for ((argc--, argv++); argc > 0; (argc--, argv++)) {
		if (!strcmp(argv[0], "--dot"))
			g->dot = true;
		else if (!strcmp(argv[0], "--app") && argc > 1) {
			(argc--, argv++);
			app = argv[0];
		} else if (fsm && !stage && argv[0][0] != '-')
			stage = argv[0];
		else {
			ret = usage_err(a, "%s: unexpected argument '%s'",
					fsm ? "fsm" : "pipeline", argv[0]);
			goto out;
		}
	}
	if (fsm && !stage) {
		ret = usage_err(a, "fsm: which stage? (a name or a number)");
		goto out;
	}
	if (app) {
		ret = app_file_load(app, &img, &nm);
		if (ret)
			goto out;
		g->img = &img;
		g->nm = nm;
	} else {
		ret = open_instance(&inst);
		if (ret)
			goto out;
		ret = xfsm_instance_netns_enter(inst, &back);
		if (ret)
			goto out;
		ret = running_load(inst, &r, true);
		if (ret)
			goto out;
		have_running = true;
		g->inst = inst;
		g->img = &r.img;
		g->nm = r.nm;
	}
	if (fsm) {
		s = xfsm_lang_stage_by_name(g->nm, stage);
		if (s < 0) {
			__u32 v;
			char msg[200];

			if (xfsm_parse_u32(stage, 0, XFSM_MAX_STAGES - 1, &v, msg, sizeof(msg)) ||
			    v >= g->img->app.n_stages) {
				p_err("show fsm: no stage '%s' in the application", stage);
				ret = -ENOENT;
				goto out;
			}
			s = (int)v;
		}
		if (g->img->app.stages[s].kind == XFSM_STAGE_ACL) {
			p_err("show fsm: stage '%s' is an ACL stage: it has no states", stage);
			ret = -EINVAL;
			goto out;
		}
		fsm_edges(g, (unsigned int)s);
		state_id(g, (unsigned int)s, 0, g->initial, sizeof(g->initial));
		snprintf(title, sizeof(title), "%s",
			 g->nm && (unsigned int)s < g->nm->n_stages ? g->nm->stages[s].name : stage);
	} else {
		pipeline_edges(g);
		snprintf(title, sizeof(title), "%s", g->nm && g->nm->app[0] ? g->nm->app : "pipeline");
	}
	graph_print(g, title, fsm);
out:
	if (have_running)
		running_free(&r);
	if (nm) {
		xfsm_app_names_free(nm);
		free(nm);
	}
	xfsm_image_free(&img);
	xfsm_netns_leave(back);
	xfsm_instance_close(inst);
	free(g);
	return ret;
}
