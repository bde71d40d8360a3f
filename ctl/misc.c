/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* global get|set, stats [--watch], port show. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xfsmctl.h"

/* ---- global ---------------------------------------------------------------------- */

static int global_ref(const struct xfsm_app_names *nm, const char *arg)
{
	const char *num = arg;
	__u32 v;

	if (nm)
		for (int i = 0; i < XFSM_GLOBAL_REGS; i++)
			if (nm->globals[i][0] && !strcmp(nm->globals[i], arg))
				return i;
	if (!strncmp(num, "global", 6))
		num += 6;
	if (!xfsm_parse_u32(num, 0, XFSM_GLOBAL_REGS - 1, &v, NULL, 0))
		return (int)v;
	p_err("unknown global register '%s' (0..%d, globalN or a name from the application)",
	      arg, XFSM_GLOBAL_REGS - 1);
	return -EINVAL;
}

static int global_open(struct xfsm_instance **inst, struct running *r)
{
	int err = open_instance(inst);

	if (err)
		return err;
	err = running_load(*inst, r, false);
	if (err) {
		running_free(r);
		xfsm_instance_close(*inst);
	}
	return err;
}

static int global_get(int argc, char **argv)
{
	struct xfsm_instance *inst;
	__u64 regs[XFSM_GLOBAL_REGS];
	struct running r;
	int idx = -1, err;

	err = global_open(&inst, &r);
	if (err)
		return err;
	if (argc > 0 && (idx = global_ref(r.nm, argv[0])) < 0) {
		err = idx;
		goto out;
	}
	err = xfsm_globals_read(inst, regs);
	if (err) {
		p_err("cannot read the global registers: %s", strerror(-err));
		goto out;
	}
	open_json_array(NULL);
	for (int i = 0; i < XFSM_GLOBAL_REGS; i++) {
		if (idx >= 0 && i != idx)
			continue;
		open_json_object(NULL);
		print_uint(PRINT_ANY, "index", "global%u", (unsigned int)i);
		print_string(PRINT_ANY, "name", " %-14s", r.nm && r.nm->globals[i][0] ? r.nm->globals[i] : "");
		print_uint(PRINT_ANY, "value", " %llu\n", regs[i]);
		close_json_object();
	}
	close_json_array();
	print_flush();
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

static int global_set(int argc, char **argv)
{
	struct xfsm_instance *inst;
	struct running r;
	__u64 v;
	int idx, err;

	REQ_ARGS(2);
	if (argc > 2) {
		p_err("global set: expected REG VALUE");
		return -EINVAL;
	}
	if (arg_u64("global set VALUE", argv[1], 0, ~0ULL, &v))
		return -EINVAL;
	err = global_open(&inst, &r);
	if (err)
		return err;
	idx = global_ref(r.nm, argv[0]);
	if (idx < 0) {
		err = idx;
		goto out;
	}
	err = xfsm_global_set(inst, (unsigned int)idx, v);
	if (err)
		p_err("cannot write global%d: %s", idx, strerror(-err));
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

static int global_help(int argc, char **argv)
{
	fprintf(stderr, "Usage: xfsmctl global get [REG]\n       xfsmctl global set REG VALUE\n"
			"REG: 0..%d, globalN or a name declared with 'global N NAME'\n",
		XFSM_GLOBAL_REGS - 1);
	return argc ? 0 : -EINVAL;
}

int do_global(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "get", global_get },
		{ "show", global_get },
		{ "list", global_get },
		{ "set", global_set },
		{ "help", global_help },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc, argv, global_help, "global command");
}

/* ---- stats ---------------------------------------------------------------------- */

/*
 * Every value printed in one sample gets a sequence number; --watch keeps
 * the previous sample's values by that number to print per-second rates.
 */
#define MAX_VALUES 4096
static __u64 prev_vals[MAX_VALUES], cur_vals[MAX_VALUES];
static unsigned int nvals;
static double interval_s;
static bool have_prev, watch_mode;

static void pv(const char *key, const char *label, __u64 v, bool always)
{
	unsigned int i = nvals++;
	char rkey[80];

	if (i < MAX_VALUES)
		cur_vals[i] = v;
	if (!always && !v && !is_json())
		return;
	print_uint(PRINT_JSON, key, NULL, v);
	if (!is_json())
		printf(" %s %llu", label, (unsigned long long)v);
	if (watch_mode && have_prev && i < MAX_VALUES) {
		double rate = (double)(v - prev_vals[i]) / interval_s;

		snprintf(rkey, sizeof(rkey), "%s_per_s", key);
		print_float(PRINT_JSON, rkey, NULL, rate);
		if (!is_json())
			printf(" (%.0f/s)", rate);
	}
}

static void stats_sample(struct xfsm_instance *inst, struct running *r)
{
	struct xfsm_stats st;
	char buf[64];

	nvals = 0;
	open_json_object(NULL);
	if (xfsm_read_stats(inst, &st)) {
		p_err("cannot read the statistics");
		close_json_object();
		return;
	}
	open_json_object("datapath");
	print_text("datapath:");
	pv("rx_packets", "packets", st.rx_packets, true);
	pv("rx_bytes", "bytes", st.rx_bytes, true);
	pv("verdict_pass", "pass", st.verdict_pass, true);
	pv("verdict_drop", "drop", st.verdict_drop, true);
	pv("verdict_tx", "tx", st.verdict_tx, true);
	pv("verdict_redirect", "redirect", st.verdict_redirect, true);
	pv("malformed", "malformed", st.malformed, true);
	print_nl();
	close_json_object();

	open_json_object("actions");
	print_text("actions:");
#define X(n) pv(#n, #n, st.act_##n, false);
	XFSM_ACTION_COUNTERS(X)
#undef X
	print_nl();
	close_json_object();

	open_json_object("exceptions");
	print_text("exceptions:");
#define X(n) pv(#n, #n, st.exc_##n, false);
	XFSM_EXCEPTIONS(X)
#undef X
	print_nl();
	close_json_object();

	open_json_array("stages");
	for (unsigned int s = 0; s < r->img.app.n_stages; s++) {
		struct xfsm_stage_stats ss;

		if (running_stats_at(inst, &r->img, XFSM_SID_STAGE, s, &ss))
			continue;
		open_json_object(NULL);
		print_string(PRINT_ANY, "name", "stage %s:", stage_name(r->nm, s, buf, sizeof(buf)));
		pv("packets", "packets", ss.packets, true);
		pv("bytes", "bytes", ss.bytes, true);
		pv("hits", "hits", ss.hits, true);
		pv("misses", "misses", ss.misses, true);
		pv("flows_created", "flows_created", ss.flows_created, true);
		pv("table_full", "table_full", ss.table_full, false);
		pv("idle_expired", "idle_expired", ss.idle_expired, true);
		pv("hard_expired", "hard_expired", ss.hard_expired, true);
		print_nl();
		open_json_array("rules");
		if (r->nm) {
			for (size_t i = 0; i < r->nm->n_rules; i++) {
				const struct xfsm_rule_names *rn = &r->nm->rules[i];
				struct xfsm_rule_stats rs = { 0 };

				if (rn->stage != s)
					continue;
				/* all its table entries count into one */
				running_stats_at(inst, &r->img, XFSM_SID_RULE, rn->rule_id, &rs);
				open_json_object(NULL);
				print_string(PRINT_ANY, "name", "  rule %-16s", rn->name);
				pv("packets", "packets", rs.packets, true);
				pv("bytes", "bytes", rs.bytes, true);
				print_nl();
				close_json_object();
			}
		} else {
			for (size_t k = 0; k < r->img.n_rules; k++) {
				struct xfsm_rule_stats rs = { 0 };
				__u32 id = r->img.rules[k].rule.rule_id;

				if (r->img.rules[k].key.stage != s)
					continue;
				running_stats_at(inst, &r->img, XFSM_SID_RULE, id, &rs);
				open_json_object(NULL);
				print_uint(PRINT_ANY, "id", "  rule #%u", id);
				pv("packets", "packets", rs.packets, true);
				pv("bytes", "bytes", rs.bytes, true);
				print_nl();
				close_json_object();
			}
		}
		close_json_array();
		close_json_object();
	}
	close_json_array();

	open_json_array("counters");
	for (unsigned int i = 0; i < XFSM_MAX_COUNTERS; i++) {
		struct xfsm_counter c;
		bool named = r->nm && i < r->nm->n_counters;

		/* the running application's counters only */
		if (running_stats_at(inst, &r->img, XFSM_SID_COUNTER, i, &c))
			continue;
		open_json_object(NULL);
		print_uint(PRINT_JSON, "index", NULL, i);
		if (named)
			print_string(PRINT_ANY, "name", "counter %s:", r->nm->counters[i]);
		else
			print_uint(PRINT_FP, NULL, "counter %u:", i);
		pv("packets", "packets", c.packets, true);
		pv("bytes", "bytes", c.bytes, true);
		print_nl();
		close_json_object();
	}
	close_json_array();
	close_json_object();
	print_flush();
	memcpy(prev_vals, cur_vals, sizeof(prev_vals));
	have_prev = true;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int do_stats(int argc, char **argv)
{
	struct xfsm_instance *inst;
	struct running r;
	__u64 count = 0;
	bool reset = false;
	double interval = 1.0;
	int err;

	for (; argc > 0; NEXT_ARG()) {
		if (!strcmp(*argv, "--watch") || !strcmp(*argv, "-w") || !strcmp(*argv, "watch")) {
			watch_mode = true;
		} else if (!strcmp(*argv, "-c") || !strcmp(*argv, "--count")) {
			NEXT_ARG();
			REQ_ARGS(1);
			if (arg_u64("-c COUNT", *argv, 1, ~0ULL, &count))
				return -EINVAL;
			watch_mode = true;
		} else if (!strcmp(*argv, "--interval")) {
			NEXT_ARG();
			REQ_ARGS(1);
			char msg[200];
			__u64 ns;

			if (xfsm_parse_duration(*argv, &ns, msg, sizeof(msg))) {
				p_err("--interval: %s", msg);
				return -EINVAL;
			}
			if (ns < XFSM_NS_PER_SEC / 20 || ns > 3600 * XFSM_NS_PER_SEC) {
				p_err("--interval: %s is not between 0.05 and 3600 seconds", *argv);
				return -EINVAL;
			}
			interval = (double)ns / 1e9;
		} else if (!strcmp(*argv, "--reset")) {
			reset = true;
		} else {
			p_err("stats: unknown argument '%s' (expected --watch, -c COUNT, --interval SEC, --reset)",
			      *argv);
			return -EINVAL;
		}
	}
	err = open_instance(&inst);
	if (err)
		return err;
	err = running_load(inst, &r, false);
	if (err)
		goto out;
	if (reset) {
		err = xfsm_reset_stats(inst);
		if (err)
			p_err("cannot reset the statistics: %s", strerror(-err));
		goto out_r;
	}
	if (!watch_mode) {
		stats_sample(inst, &r);
		goto out_r;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	interval_s = interval;
	for (__u64 i = 0; !stop && (!count || i < count); i++) {
		struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };

		if (i && !is_json() && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (!is_json()) {
			time_t now = time(NULL);
			char tb[32];

			strftime(tb, sizeof(tb), "%H:%M:%S", localtime(&now));
			printf("--- %s  every %.1fs%s\n", tb, interval, have_prev ? "" : " (rates from the next sample)");
		}
		{
			struct xfsm_ctl ctl;

			/* Another application (or table) now runs: read its
			 * names and identities again; rates start over. */
			if (!xfsm_ctl_get(inst, &ctl) && ctl.generation != r.generation) {
				running_free(&r);
				err = running_load(inst, &r, false);
				if (err)
					goto out;
				have_prev = false;
			}
		}
		stats_sample(inst, &r);
		if (count && i + 1 == count)
			break;
		nanosleep(&ts, NULL);
	}
out_r:
	running_free(&r);
out:
	xfsm_instance_close(inst);
	return err;
}

/* ---- port ---------------------------------------------------------------------- */

static int port_show(int argc, char **argv)
{
	struct xfsm_instance *inst;
	struct running r;
	int err, back;

	(void)argv;
	if (argc > 0) {
		p_err("port show takes no argument");
		return -EINVAL;
	}
	err = open_instance(&inst);
	if (err)
		return err;
	/* Port ifindexes name interfaces of the instance's namespace. */
	err = xfsm_instance_netns_enter(inst, &back);
	if (err)
		goto out;
	err = running_load(inst, &r, false);
	if (!err) {
		show_image(&r.img, r.nm, inst, SHOW_PORTS, r.generation);
		running_free(&r);
		if (!is_json())
			port_counters_print(inst);
	}
	xfsm_netns_leave(back);
out:
	xfsm_instance_close(inst);
	return err;
}

static int port_help(int argc, char **argv)
{
	fprintf(stderr, "Usage: xfsmctl port show | port set PORT up|down | port sync\n"
			"Ports are assigned to interfaces by xfsm-loader; names come from the application.\n");
	return argc ? 0 : -EINVAL;
}

int do_port(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "show", port_show },
		{ "list", port_show },
		{ "set", port_set_cmd },
		{ "sync", port_sync_cmd },
		{ "help", port_help },
		{ NULL, NULL },
	};

	if (argc == 0)
		return port_show(0, argv);
	return cmd_select(cmds, argc, argv, port_help, "port command");
}
