// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * trace [MATCH] [-c N] [--rate N/s]: decision records of live packets.
 * capture [MATCH] [--stage S | --verdict V] [-s SNAPLEN] -w FILE [-c N]:
 * the packets themselves, as a pcap file.
 * trace stop, trace status: the observer of the instance.
 *
 * Both run through lib/xfsm_obs.h (one filter, one rate limit, one ring
 * buffer); trace prints its records with simulate's printer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xfsmctl.h"
#include "xfsm_obs.h"

#define OBS_DEFAULT_RATE	1000	/* records per second */

static volatile sig_atomic_t obs_stop;

static void obs_on_signal(int sig)
{
	(void)sig;
	obs_stop = 1;
}

/* What trace and capture share on their command line. */
struct obs_args {
	char	match[1024];	/* the MATCH words, joined */
	__u64	count;		/* 0: until stopped */
	__u32	rate;
	/* capture */
	const char *file;
	const char *stage;
	const char *verdict;
	__u32	snaplen;
};

static int rate_arg(struct args *a, __u32 *rate)
{
	const char *v = arg_next(a, "a rate after --rate (records per second, N or N/s)");
	char buf[32], msg[200];
	size_t n;

	if (!v)
		return -EINVAL;
	n = strlen(v);
	if (n >= 2 && !strcmp(v + n - 2, "/s"))
		n -= 2;
	if (n == 0 || n >= sizeof(buf))
		return usage_err(a, "--rate: '%s' is not a rate (N or N/s records per second)", v);
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (xfsm_parse_u32(buf, 0, 10000000, rate, msg, sizeof(msg)))
		return usage_err(a, "--rate: '%s': %s", v, msg);
	return 0;
}

/* The words of the command; capture: its options too. */
static int obs_parse(struct args *a, struct obs_args *o, bool capture)
{
	const char *w;
	size_t len = 0;

	o->rate = OBS_DEFAULT_RATE;
	o->snaplen = XFSM_CAPTURE_MAX;
	while ((w = arg_take(a))) {
		if (!strcmp(w, "-c") || !strcmp(w, "--count")) {
			if (arg_next_u64(a, "-c COUNT", 1, ~0ULL, &o->count))
				return -EINVAL;
		} else if (!strcmp(w, "--rate")) {
			if (rate_arg(a, &o->rate))
				return -EINVAL;
		} else if (capture && (!strcmp(w, "-w") || !strcmp(w, "--write"))) {
			o->file = arg_next(a, "a file after -w");
			if (!o->file)
				return -EINVAL;
		} else if (capture && !strcmp(w, "--stage")) {
			o->stage = arg_next(a, "a stage after --stage");
			if (!o->stage)
				return -EINVAL;
		} else if (capture && !strcmp(w, "--verdict")) {
			o->verdict = arg_next(a, "a verdict after --verdict (drop, pass, tx, redirect)");
			if (!o->verdict)
				return -EINVAL;
		} else if (capture && (!strcmp(w, "-s") || !strcmp(w, "--snaplen"))) {
			if (arg_next_u32(a, "-s SNAPLEN", 1, XFSM_CAPTURE_MAX, &o->snaplen))
				return -EINVAL;
		} else if (w[0] == '-' && w[1] && !strchr(w, '=')) {
			return usage_err(a, "unknown option '%s'", w);
		} else {
			int n = snprintf(o->match + len, sizeof(o->match) - len, "%s%s",
					 len ? " " : "", w);

			if (n < 0 || (size_t)n >= sizeof(o->match) - len)
				return usage_err(a, "MATCH is too long");
			len += (size_t)n;
		}
	}
	if (capture && !o->file)
		return usage_err(a, "no output file: give -w FILE.pcap (- for standard output)");
	if (capture && o->stage && o->verdict)
		return usage_err(a, "--stage and --verdict choose the capture point: give one");
	return arg_end(a);
}

/* MATCH into the datapath's filter; a bad one is a usage error. */
static int obs_filter_arg(struct args *a, const struct obs_args *o,
			  const struct xfsm_app_names *nm, struct xfsm_obs_cfg *cfg)
{
	struct xfsm_lang_match_term terms[XFSM_LANG_MATCH_MAX];
	char err[512] = "";
	unsigned int n = 0;
	int ret;

	ret = xfsm_lang_parse_match("MATCH", o->match, nm, 0, terms, XFSM_LANG_MATCH_MAX, &n,
				    err, sizeof(err));
	if (!ret)
		ret = xfsm_obs_filter(terms, n, cfg, err, sizeof(err));
	if (ret)
		return usage_err(a, "%s", err[0] ? err : strerror(-ret));
	return 0;
}

static double wall_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (double)(rt.tv_sec - mono.tv_sec) + (double)(rt.tv_nsec - mono.tv_nsec) / 1e9;
}

/* Run the observer until -c records, SIGINT or SIGTERM; *end: counters. */
/* ready (may be NULL) runs once this process is the observer, before the
 * first record: what it prepares (capture's output file) is not touched
 * when another observer refuses this one. */
static int obs_run(struct xfsm_instance *inst, const struct xfsm_obs_cfg *cfg, xfsm_obs_fn fn,
		   int (*ready)(void *ctx), void *ctx, const __u64 *seen, __u64 count,
		   struct xfsm_obs_cfg *end)
{
	struct sigaction sa = { .sa_handler = obs_on_signal };
	struct xfsm_obs *o;
	int err;

	obs_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = xfsm_obs_start(inst, cfg, fn, ctx, &o);
	if (err)
		return err;
	if (ready) {
		err = ready(ctx);
		if (err) {
			xfsm_obs_stop(o, end);
			return err;
		}
	}
	while (!obs_stop && (!count || *seen < count)) {
		err = xfsm_obs_poll(o, 200);
		if (err < 0) {
			p_err("cannot read the ring buffer %s: %s", XFSM_MAP_TRACE, strerror(-err));
			break;
		}
		err = 0;
	}
	return xfsm_obs_stop(o, end) ?: err;
}

static void print_lost(const struct xfsm_obs_cfg *end, const char *what, __u64 n,
		       const char *file)
{
	__u64 lost = end->lost_rate + end->lost_ring;

	open_json_object(NULL);
	if (file)
		print_string(PRINT_JSON, "file", NULL, file);
	print_uint(PRINT_ANY, what, "%llu", n);
	print_text(" %s, ", what);
	print_uint(PRINT_ANY, "lost", "%llu lost", lost);
	print_uint(PRINT_ANY, "lost_rate", " (%llu over the rate", end->lost_rate);
	print_uint(PRINT_ANY, "lost_ring", ", %llu with the ring buffer full)", end->lost_ring);
	print_uint(PRINT_JSON, "rate", NULL, end->rate);
	print_nl();
	close_json_object();
	print_flush();
}

/* ---- trace ---------------------------------------------------------------------- */

struct trace_ctx {
	struct xfsm_instance *inst;
	struct running r;
	struct decision_ctx d;
	double	wall;		/* realtime - monotonic */
	__u64	seen, count;
	int	err;
};

static int trace_record(void *ctx, const void *data, size_t len)
{
	const struct xfsm_trace_rec *rec = data;
	struct trace_ctx *t = ctx;
	struct xfsm_sim_result *res;

	if (len < sizeof(*rec) || rec->kind != XFSM_REC_TRACE)
		return 0;
	if (t->count && t->seen >= t->count)
		return 0;
	/* Another application runs now: its names. */
	if (rec->generation != t->r.generation) {
		struct running nr = { 0 };

		if (!running_load(t->inst, &nr, false)) {
			running_free(&t->r);
			t->r = nr;
			decision_init(&t->d, &t->r.img, t->r.nm, xfsm_flows_compact(t->inst));
		}
	}
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	xfsm_obs_trace_result(rec, &t->r.img, res);
	t->d.when = t->wall + (double)rec->ts_ns / 1e9;
	decision_print(&t->d, res);
	print_flush();
	free(res);
	t->seen++;
	return 0;
}

static int trace_status(struct args *a, bool stop)
{
	struct xfsm_instance *inst;
	struct xfsm_obs_cfg cfg;
	__u32 observe = 0;
	bool alive = false, on;
	int err;

	err = arg_end(a);
	if (err)
		return err;
	err = open_instance(&inst);
	if (err)
		return err;
	err = stop ? xfsm_obs_clear(inst, &cfg) : xfsm_obs_status(inst, &cfg, &observe, &alive);
	if (err) {
		if (err != -EOPNOTSUPP)
			p_err("cannot read the observer of instance %s: %s", inst->name, strerror(-err));
		goto out;
	}
	on = stop ? cfg.observer != 0 : (observe & (XFSM_OBS_TRACE | XFSM_OBS_CAPTURE)) != 0;
	alive = stop ? cfg.owner_pid && kill((pid_t)cfg.owner_pid, 0) == 0 : alive;
	open_json_object(NULL);
	if (!on) {
		print_null("observer");
		print_null("pid");
		print_text(stop ? "no trace or capture was on\n" : "no trace or capture\n");
	} else {
		print_string(PRINT_ANY, "observer", stop ? "turned off a %s" : "%s",
			     cfg.observer == XFSM_OBS_CAPTURE ? "capture" : "trace");
		print_uint(PRINT_ANY, "pid", " of process %u", cfg.owner_pid);
		print_bool(PRINT_JSON, "alive", NULL, alive);
		print_text(alive ? "" : " (gone)");
		print_nl();
	}
	if (!stop)
		print_uint(PRINT_JSON, "observe", NULL, observe);
	close_json_object();
	print_flush();
out:
	xfsm_instance_close(inst);
	return err;
}

const char trace_notes[] =
	"MATCH selects packets in the datapath, in the language's match syntax\n"
	"(ip.src == 198.18.0.0/16, tcp.dport == 22); none: every packet.  At most\n"
	"--rate records a second (default 1000, 0: no limit); records over the rate\n"
	"or with the ring buffer full are counted as lost.  Ctrl-C (SIGINT, SIGTERM)\n"
	"or -c COUNT records end it and turn recording off.  One trace or capture at\n"
	"a time: 'trace status' names it, 'trace stop' turns one off whose process\n"
	"was killed (the next trace or capture also takes over from it).\n";

int do_trace(struct args *a)
{
	struct trace_ctx t = { 0 };
	struct xfsm_obs_cfg cfg = { .observer = XFSM_OBS_TRACE }, end;
	struct obs_args o = { 0 };
	const char *w = arg_peek(a);
	int err;

	if (w && (!strcmp(w, "stop") || !strcmp(w, "status"))) {
		arg_take(a);
		return trace_status(a, !strcmp(w, "stop"));
	}
	err = obs_parse(a, &o, false);
	if (err)
		return err;
	err = open_instance(&t.inst);
	if (err)
		return err;
	xfsm_dp_release(t.inst);	/* see lib/xfsm_datapath.h */
	err = running_load(t.inst, &t.r, false);
	if (err)
		goto out;
	err = obs_filter_arg(a, &o, t.r.nm, &cfg);
	if (err)
		goto out_r;
	cfg.rate = o.rate;
	decision_init(&t.d, &t.r.img, t.r.nm, xfsm_flows_compact(t.inst));
	t.wall = wall_offset();
	t.count = o.count;
	err = obs_run(t.inst, &cfg, trace_record, NULL, &t, &t.seen, o.count, &end);
	if (!err)
		print_lost(&end, "records", t.seen, NULL);
out_r:
	running_free(&t.r);
out:
	xfsm_instance_close(t.inst);
	return err;
}

/* ---- capture -------------------------------------------------------------------- */

struct capture_ctx {
	FILE	*f;
	const char *file;
	__u32	snaplen;
	double	wall;
	__u64	seen, count;
	int	err;
};

/* Open the output and write the pcap header (classic pcap, microseconds,
 * Ethernet). */
static int capture_open(void *ctx)
{
	struct capture_ctx *c = ctx;
	__u32 gh[6] = { 0xa1b2c3d4, 2 | 4 << 16, 0, 0, c->snaplen, 1 };
	int err;

	c->f = strcmp(c->file, "-") ? fopen(c->file, "wb") : stdout;
	if (!c->f)
		err = -errno;
	else if (fwrite(gh, sizeof(gh), 1, c->f) != 1 || fflush(c->f))
		err = -errno ?: -EIO;
	else
		return 0;
	p_err("capture: cannot write %s: %s", c->file, strerror(-err));
	c->err = err;	/* records still drained are not written */
	return err;
}

static int capture_record(void *ctx, const void *data, size_t len)
{
	const struct xfsm_cap_rec *rec = data;
	struct capture_ctx *c = ctx;
	double t;
	__u32 hdr[4];

	if (len < sizeof(*rec) || rec->kind != XFSM_REC_CAPTURE ||
	    rec->caplen > len - sizeof(*rec) || c->err)
		return 0;
	if (c->count && c->seen >= c->count)
		return 0;
	t = c->wall + (double)rec->ts_ns / 1e9;
	hdr[0] = (__u32)t;
	hdr[1] = (__u32)((t - (double)hdr[0]) * 1e6);
	hdr[2] = rec->caplen;
	hdr[3] = rec->len;
	if (fwrite(hdr, sizeof(hdr), 1, c->f) != 1 ||
	    fwrite(rec + 1, 1, rec->caplen, c->f) != rec->caplen || fflush(c->f)) {
		c->err = -errno ?: -EIO;
		obs_stop = 1;
		return 0;
	}
	c->seen++;
	return 0;
}

static int verdict_arg(struct args *a, const char *v, __u32 *out)
{
	static const char *const names[] = { "aborted", "drop", "pass", "tx", "redirect" };

	for (__u32 i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	return usage_err(a, "--verdict: unknown verdict '%s' (expected drop, pass, tx, redirect or aborted)",
			 v);
}

const char capture_notes[] =
	"Writes the packets MATCH selects as a classic pcap file (tcpdump -r FILE):\n"
	"as they arrive (default), as they leave stage S (--stage, a name or a number)\n"
	"or at the end when their verdict is V (--verdict drop|pass|tx|redirect), cut\n"
	"to SNAPLEN bytes (default and at most 4096).  Rate, -c and the one-observer\n"
	"rule as for trace.\n";

int do_capture(struct args *a)
{
	struct xfsm_obs_cfg cfg = { .observer = XFSM_OBS_CAPTURE }, end;
	struct xfsm_instance *inst = NULL;
	struct capture_ctx c = { 0 };
	struct obs_args o = { 0 };
	struct running r = { 0 };
	int err;

	err = obs_parse(a, &o, true);
	if (err)
		return err;
	err = open_instance(&inst);
	if (err)
		return err;
	xfsm_dp_release(inst);		/* see lib/xfsm_datapath.h */
	err = running_load(inst, &r, false);
	if (err)
		goto out;
	err = obs_filter_arg(a, &o, r.nm, &cfg);
	if (err)
		goto out_r;
	cfg.rate = o.rate;
	cfg.snaplen = o.snaplen;
	if (o.stage) {
		int s = xfsm_lang_stage_by_name(r.nm, o.stage);
		__u32 v;

		if (s < 0 && !xfsm_parse_u32(o.stage, 0, XFSM_MAX_STAGES - 1, &v, NULL, 0) &&
		    v < r.img.app.n_stages)
			s = (int)v;
		if (s < 0) {
			err = usage_err(a, "--stage: no stage '%s' in the running application", o.stage);
			goto out_r;
		}
		cfg.point = XFSM_OBSP_STAGE;
		cfg.point_arg = (__u32)s;
	} else if (o.verdict) {
		cfg.point = XFSM_OBSP_VERDICT;
		err = verdict_arg(a, o.verdict, &cfg.point_arg);
		if (err)
			goto out_r;
	}
	c.file = o.file;
	c.snaplen = o.snaplen;
	c.wall = wall_offset();
	c.count = o.count;
	err = obs_run(inst, &cfg, capture_record, capture_open, &c, &c.seen, o.count, &end);
	if (!err && c.err) {
		err = c.err;
		p_err("capture: cannot write %s: %s", o.file, strerror(-err));
	}
	if (!err) {
		/* Standard output holds the pcap: the summary goes to stderr. */
		if (c.f == stdout)
			fprintf(stderr, "%llu packets, %llu lost (%llu over the rate, %llu with the ring buffer full)\n",
				(unsigned long long)c.seen,
				(unsigned long long)(end.lost_rate + end.lost_ring),
				(unsigned long long)end.lost_rate, (unsigned long long)end.lost_ring);
		else
			print_lost(&end, "packets", c.seen, o.file);
	}
	if (c.f && c.f != stdout)
		fclose(c.f);
out_r:
	running_free(&r);
out:
	xfsm_instance_close(inst);
	return err;
}
