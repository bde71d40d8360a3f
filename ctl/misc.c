/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* global get|set, stats [--watch], port show. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

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

/* {"globals": [{"index", "name", "value"}...]}, as in show globals; one
 * register (idx >= 0) or all. */
static void print_globals(const struct running *r, const __u64 *regs, int idx)
{
	open_json_object(NULL);
	open_json_array("globals");
	for (int i = 0; i < XFSM_GLOBAL_REGS; i++) {
		if (idx >= 0 && i != idx)
			continue;
		open_json_object(NULL);
		print_uint(PRINT_ANY, "index", "global%u", (unsigned int)i);
		print_opt_string(PRINT_ANY, "name", " %-14s", r->nm ? r->nm->globals[i] : NULL, "");
		print_uint(PRINT_ANY, "value", " %llu\n", regs[i]);
		close_json_object();
	}
	close_json_array();
	close_json_object();
	print_flush();
}

static int global_get(struct args *a)
{
	struct xfsm_instance *inst;
	__u64 regs[XFSM_GLOBAL_REGS];
	const char *reg = arg_take(a);
	struct running r;
	int idx = -1, err;

	err = arg_end(a);
	if (err)
		return err;
	err = global_open(&inst, &r);
	if (err)
		return err;
	if (reg && (idx = global_ref(r.nm, reg)) < 0) {
		err = idx;
		goto out;
	}
	err = xfsm_globals_read(inst, regs);
	if (err) {
		p_err("cannot read the global registers: %s", strerror(-err));
		goto out;
	}
	print_globals(&r, regs, idx);
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

static int global_set(struct args *a)
{
	struct xfsm_instance *inst;
	const char *reg;
	struct running r;
	__u64 v;
	int idx, err;

	reg = arg_next(a, "REG");
	if (!reg || arg_next_u64(a, "global set VALUE", 0, ~0ULL, &v))
		return -EINVAL;
	err = arg_end(a);
	if (err)
		return err;
	err = global_open(&inst, &r);
	if (err)
		return err;
	idx = global_ref(r.nm, reg);
	if (idx < 0) {
		err = idx;
		goto out;
	}
	err = xfsm_global_set(inst, (unsigned int)idx, v);
	if (err) {
		p_err("cannot write global%d: %s", idx, strerror(-err));
	} else if (is_json()) {
		__u64 regs[XFSM_GLOBAL_REGS];

		/* the result: the register as global get shows it */
		if (!xfsm_globals_read(inst, regs))
			print_globals(&r, regs, idx);
	}
out:
	running_free(&r);
	xfsm_instance_close(inst);
	return err;
}

_Static_assert(XFSM_GLOBAL_REGS == 8, "global_notes names the registers 0..7");
const char global_notes[] =
	"REG: 0..7, globalN or a name declared with 'global N NAME'.\n";

const struct cmd global_cmds[] = {
	{ "get", global_get, "[REG]", NULL, NULL },
	{ "show", global_get, NULL, NULL, NULL },
	{ "list", global_get, NULL, NULL, NULL },
	{ "set", global_set, "REG VALUE", NULL, NULL },
	{ NULL },
};

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
	struct timespec now;
	struct xfsm_stats st;
	char buf[64];

	nvals = 0;
	open_json_object(NULL);
	/* when the sample was taken: wall clock, seconds since the epoch */
	clock_gettime(CLOCK_REALTIME, &now);
	print_seconds(PRINT_JSON, "time", NULL, (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	if (watch_mode)
		print_float(PRINT_JSON, "interval_s", NULL, interval_s);
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

	/* output fib's outcomes (XFSM_FIB_COUNTERS) */
	open_json_object("fib");
	print_text("fib:");
#define X(n) pv(#n, #n, st.fib_##n, false);
	XFSM_FIB_COUNTERS(X)
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

/*
 * Whether a loaded program still uses the instance's control map.  After
 * an unload the maps live on as long as this process holds them, and
 * would read as a datapath that stopped counting; the programs that use
 * them are what is gone.
 */
static bool instance_running(const struct xfsm_instance *inst)
{
	__u32 id = 0, want = inst->map_id[XFSM_M_CTL];
	bool found = false;

	if (!want)
		return true;	/* cannot tell: assume it runs */
	while (!found && !bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info), ids[64], n;
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* gone meanwhile */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.nr_map_ids) {
			n = info.nr_map_ids < 64 ? info.nr_map_ids : 64;
			memset(&info, 0, sizeof(info));
			info.nr_map_ids = n;
			info.map_ids = (__u64)(unsigned long)ids;
			len = sizeof(info);
			if (!bpf_obj_get_info_by_fd(fd, &info, &len))
				for (__u32 i = 0; i < n && i < info.nr_map_ids; i++)
					found |= ids[i] == want;
		}
		close(fd);
	}
	return found;
}

/*
 * Keys while --watch waits: 'q' quits.  A terminal is put in
 * non-canonical mode so the key acts without Enter, and restored on exit;
 * from a pipe, 'q' in the input quits as well, and end of input is ignored.
 */
static struct termios saved_tio;
static bool tio_saved, stdin_eof;

static void keys_begin(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio))
		return;
	t = saved_tio;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (!tcsetattr(STDIN_FILENO, TCSANOW, &t))
		tio_saved = true;
}

static void keys_end(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = false;
}

/* Wait up to ms milliseconds; true when 'q' was typed. */
static bool wait_for_quit(int ms)
{
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (!stop) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		long left;
		char buf[64];
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (end.tv_sec - now.tv_sec) * 1000L + (end.tv_nsec - now.tv_nsec) / 1000000L;
		if (left <= 0)
			return false;
		if (stdin_eof || poll(&p, 1, (int)left) <= 0 || !(p.revents & (POLLIN | POLLHUP))) {
			if (stdin_eof) {
				struct timespec ts = { left / 1000, (left % 1000) * 1000000L };

				nanosleep(&ts, NULL);
			}
			continue;
		}
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0) {
			stdin_eof = n == 0 || (errno != EINTR && errno != EAGAIN);
			continue;
		}
		if (memchr(buf, 'q', (size_t)n) || memchr(buf, 'Q', (size_t)n))
			return true;
	}
	return false;
}

const char stats_notes[] =
	"--watch (-w) prints a sample every --interval (default 1s) with per-second\n"
	"rates, -c COUNT samples, until q, Ctrl-C or the datapath is unloaded\n"
	"(then exit status 1);\n"
	"--reset zeroes every counter.\n";

int do_stats(struct args *a)
{
	struct xfsm_instance *inst;
	struct running r;
	__u64 count = 0;
	bool reset = false;
	double interval = 1.0;
	const char *w;
	int err;

	while ((w = arg_take(a))) {
		if (!strcmp(w, "--watch") || !strcmp(w, "-w") || !strcmp(w, "watch")) {
			watch_mode = true;
		} else if (!strcmp(w, "-c") || !strcmp(w, "--count")) {
			if (arg_next_u64(a, "-c COUNT", 1, ~0ULL, &count))
				return -EINVAL;
			watch_mode = true;
		} else if (!strcmp(w, "--interval")) {
			const char *v = arg_next(a, "a value after --interval");
			char msg[200];
			__u64 ns;

			if (!v)
				return -EINVAL;
			if (xfsm_parse_duration(v, &ns, msg, sizeof(msg)))
				return usage_err(a, "--interval: %s", msg);
			if (ns < XFSM_NS_PER_SEC / 20 || ns > 3600 * XFSM_NS_PER_SEC)
				return usage_err(a, "--interval: %s is not between 0.05 and 3600 seconds", v);
			interval = (double)ns / 1e9;
		} else if (!strcmp(w, "--reset")) {
			reset = true;
		} else {
			return usage_err(a, "unknown argument '%s' (expected --watch, -c COUNT, --interval SEC, --reset)",
					 w);
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
		if (err) {
			p_err("cannot reset the statistics: %s", strerror(-err));
		} else if (is_json()) {
			open_json_object(NULL);
			print_bool(PRINT_JSON, "reset", NULL, true);
			close_json_object();
			print_flush();
		}
		goto out_r;
	}
	if (!watch_mode) {
		stats_sample(inst, &r);
		goto out_r;
	}
	/* Watching must not keep the datapath alive after an unload. */
	xfsm_dp_release(inst);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	keys_begin();
	interval_s = interval;
	for (__u64 i = 0; !stop && (!count || i < count); i++) {
		if (i && !instance_running(inst)) {
			p_err("the datapath was unloaded: no program uses this instance's maps any more");
			err = -ENODEV;
			break;
		}
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
					break;	/* the terminal is restored below */
				have_prev = false;
			}
		}
		stats_sample(inst, &r);
		fflush(stdout);
		if (count && i + 1 == count)
			break;
		if (wait_for_quit((int)(interval * 1000)))
			break;
	}
	keys_end();
out_r:
	running_free(&r);
out:
	xfsm_instance_close(inst);
	return err;
}

/* ---- port ---------------------------------------------------------------------- */

static int port_show(struct args *a)
{
	struct xfsm_instance *inst;
	struct running r;
	int err, back;

	err = arg_end(a);
	if (err)
		return err;
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

const char port_notes[] =
	"Ports are assigned to interfaces by xfsm-loader; names come from the application.\n"
	"'port set' marks a port down (groups skip it) or up; 'port sync' sets every\n"
	"port from its interface's link state.\n";

const struct cmd port_cmds[] = {
	{ "show", port_show, "", NULL, NULL },
	{ "list", port_show, NULL, NULL, NULL },
	{ "set", port_set_cmd, "PORT up|down", NULL, NULL },
	{ "sync", port_sync_cmd, "", NULL, NULL },
	{ NULL },
};
