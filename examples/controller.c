/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A small external controller: a program of its own, built against the
 * installed libxfsm with pkg-config and nothing else of the xfsm tree.
 *
 *	cc controller.c $(pkg-config --cflags --libs libxfsm) -o controller
 *
 * It drives an instance that xfsm-loader attached:
 *
 *	controller [-i NAME | -d PIN_DIR] apply FILE	compile and install FILE
 *	controller [-i NAME | -d PIN_DIR] flows [STAGE]	flows, states by name
 *	controller [-i NAME | -d PIN_DIR] stats		datapath counters
 *
 * The instance is opened by name (under $XFSM_PIN_ROOT, default
 * /sys/fs/bpf/xfsm) or by its pin directory.  The names of stages, states
 * and key fields come from the running application's own source, which the
 * datapath keeps: read back, compiled again here.  Exit status 0 on
 * success, 1 on an error, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xfsm/libxfsm.h>
#include <xfsm/xfsm_lang.h>

static void usage(void)
{
	fprintf(stderr,
		"usage: controller [-i NAME | -d PIN_DIR] apply FILE | flows [STAGE] | stats\n");
}

static int open_instance(const char *name, const char *dir, struct xfsm_instance **inst)
{
	int err;

	/* By name under the pin root ($XFSM_PIN_ROOT or /sys/fs/bpf/xfsm), or
	 * by directory.  The library reports what went wrong through its log
	 * (stderr). */
	err = dir ? xfsm_instance_open_pin_dir(dir, inst) : xfsm_instance_open(name, inst);
	if (err)
		return err;
	err = xfsm_instance_check_abi(*inst);
	if (err) {
		xfsm_instance_close(*inst);
		*inst = NULL;
	}
	return err;
}

static int cmd_apply(struct xfsm_instance *inst, const char *file)
{
	/* The defaults: flows of stages whose keys did not change are kept,
	 * global registers the file does not set keep their values. */
	XFSM_OPTS(xfsm_apply_opts, opts);
	struct xfsm_app_names *names = calloc(1, sizeof(*names));
	struct xfsm_image img;
	char msg[512];
	int err;

	if (!names)
		return -ENOMEM;
	err = xfsm_compile_file(file, &img, names, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "%s\n", msg);
		goto out;
	}
	/* one switch: stages, rules, the ACL tables of its ACL blocks and
	 * the output groups it declares */
	err = xfsm_lang_apply(inst, &img, names, &opts);
	if (err == XFSM_APPLY_UNCHANGED) {
		/* it runs already: nothing was written */
		printf("unchanged %s: app %s\n", file, names->app[0] ? names->app : "-");
		err = 0;
	} else if (!err) {
		printf("applied %s: app %s, %u stage(s), %zu table entries\n", file,
		       names->app[0] ? names->app : "-", img.app.n_stages, img.n_rules);
	}
out:
	xfsm_image_free(&img);
	xfsm_app_names_free(names);
	free(names);
	return err;
}

/* The running application and its names, from the source it keeps. */
struct running {
	struct xfsm_image img;
	struct xfsm_app_names *names;
};

static int running_read(struct xfsm_instance *inst, struct running *r)
{
	struct xfsm_image again;
	char msg[512];
	int err;

	r->names = calloc(1, sizeof(*r->names));
	if (!r->names)
		return -ENOMEM;
	err = xfsm_read_app(inst, &r->img);
	if (err)
		return err;
	if (!r->img.source || !r->img.source_len)
		return 0;	/* applied without source: numbers only */
	err = xfsm_compile_string("<running>", r->img.source, r->img.source_len, &again,
				  r->names, msg, sizeof(msg));
	xfsm_image_free(&again);
	if (err)
		fprintf(stderr, "the running application's source does not compile: %s\n", msg);
	return 0;
}

static void running_free(struct running *r)
{
	xfsm_image_free(&r->img);
	xfsm_app_names_free(r->names);
	free(r->names);
}

struct flows_ctx {
	struct running *r;
	int stage;		/* -1: every stage */
	long n;
};

/* "field=value" for each field of the stage's update key. */
static void print_key(const struct xfsm_stage *st, const struct xfsm_flow_key *key)
{
	unsigned int n_fields, f, w = 0;
	const struct xfsm_lang_field *fields = xfsm_lang_fields(&n_fields);
	char buf[80];

	while (w < XFSM_KEY_WORDS && st->update_words[w] != XFSM_FW_ZERO) {
		for (f = 0; f < n_fields; f++)
			if (fields[f].word == st->update_words[w])
				break;
		if (f == n_fields || w + fields[f].nwords > XFSM_KEY_WORDS) {
			printf(" word%u=%u", w, key->w[w]);
			w++;
			continue;
		}
		xfsm_lang_format_field((int)f, &key->w[w], buf, sizeof(buf));
		printf(" %s=%s", fields[f].name, buf);
		w += fields[f].nwords;
	}
}

static int flow_cb(const struct xfsm_flow_key *key, const struct xfsm_flow *flow, void *arg)
{
	struct flows_ctx *c = arg;
	const struct xfsm_app *app = &c->r->img.app;
	char state[64];

	if (key->stage >= app->n_stages || key->epoch != app->stages[key->stage].epoch)
		return 0;	/* not a flow of the running application */
	if (c->stage >= 0 && key->stage != (unsigned int)c->stage)
		return 0;
	if (c->r->names->stages[key->stage].name[0])
		printf("%s", c->r->names->stages[key->stage].name);
	else
		printf("stage%u", key->stage);
	print_key(&app->stages[key->stage], key);
	printf("  state %s",
	       xfsm_lang_state_name(c->r->names, key->stage, flow->state, state, sizeof(state)));
	for (unsigned int i = 0; i < XFSM_FLOW_REGS; i++)
		if (flow->regs[i])
			printf("  reg%u=%llu", i, (unsigned long long)flow->regs[i]);
	printf("\n");
	c->n++;
	return 0;
}

static int cmd_flows(struct xfsm_instance *inst, const char *stage)
{
	struct running r = {};
	struct flows_ctx c = { .r = &r, .stage = -1 };
	int err = running_read(inst, &r);

	if (err)
		goto out;
	if (stage) {
		c.stage = xfsm_lang_stage_by_name(r.names, stage);
		if (c.stage < 0) {
			fprintf(stderr, "no stage '%s' in the running application\n", stage);
			err = -ENOENT;
			goto out;
		}
	}
	err = xfsm_flow_foreach(inst, flow_cb, &c);
	if (!err)
		printf("%ld flow(s)\n", c.n);
out:
	running_free(&r);
	return err;
}

static int cmd_stats(struct xfsm_instance *inst)
{
	struct xfsm_stats s;
	int err = xfsm_read_stats(inst, &s);

	if (err)
		return err;
	printf("packets %llu bytes %llu\n", (unsigned long long)s.rx_packets,
	       (unsigned long long)s.rx_bytes);
	printf("pass %llu drop %llu tx %llu redirect %llu malformed %llu\n",
	       (unsigned long long)s.verdict_pass, (unsigned long long)s.verdict_drop,
	       (unsigned long long)s.verdict_tx, (unsigned long long)s.verdict_redirect,
	       (unsigned long long)s.malformed);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = NULL, *dir = NULL;
	struct xfsm_instance *inst;
	int i = 1, err;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-i"))
			name = argv[i + 1];
		else if (!strcmp(argv[i], "-d"))
			dir = argv[i + 1];
		else
			break;
	}
	if (i >= argc || (name && dir)) {
		usage();
		return 2;
	}
	if (!strcmp(argv[i], "apply") ? i + 2 != argc :
	    !strcmp(argv[i], "flows") ? i + 2 < argc :
	    !strcmp(argv[i], "stats") ? i + 1 != argc : 1) {
		usage();
		return 2;
	}
	err = open_instance(name, dir, &inst);
	if (err)
		return 1;
	if (!strcmp(argv[i], "apply"))
		err = cmd_apply(inst, argv[i + 1]);
	else if (!strcmp(argv[i], "flows"))
		err = cmd_flows(inst, argv[i + 1]);
	else
		err = cmd_stats(inst);
	if (err)
		fprintf(stderr, "controller: %s: %s\n", argv[i], strerror(-err));
	xfsm_instance_close(inst);
	return err ? 1 : 0;
}
