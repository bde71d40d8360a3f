// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Which program runs the application (docs/specializer.md): the datapath
 * line of show, apply and rule add|del, the --datapath option of the
 * commands that switch, and show program, the running specialized
 * program's instructions with the generator's notes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xfsmctl.h"
#include "xfsm_datapath.h"
#include "xfsm_attach.h"
#include "codegen/disasm.h"

/* The fields of a datapath record, inside the current JSON object, and
 * their text ("datapath specialized (mode auto): program 12, 140
 * instructions, ..."). */
static void datapath_fields(const struct xfsm_dp_record *r)
{
	const char *mode = xfsm_datapath_name(r->mode);

	print_string(PRINT_ANY, "runs", "datapath %s", r->specialized ? "specialized" : "generic");
	print_string(PRINT_ANY, "mode", " (mode %s)", mode ? mode : "auto");
	if (r->specialized) {
		print_uint(PRINT_ANY, "program_id", ": program %llu", r->prog_id);
		if (r->n_insns)
			print_uint(PRINT_ANY, "insns", ", %llu instructions", r->n_insns);
	}
	if (r->generate_ns)
		print_float(PRINT_ANY, "generate_ms", ", generated in %.1f ms",
			    r->generate_ns / 1e6);
	if (r->load_ns)
		print_float(PRINT_ANY, "load_ms", ", verified and loaded in %.1f ms",
			    r->load_ns / 1e6);
	if (r->why[0])
		print_string(PRINT_ANY, "why", ": %s", r->why);
}

void print_datapath(struct xfsm_instance *inst, const char *indent)
{
	struct xfsm_dp_record r;
	__u32 slot;

	if (xfsm_dp_running(inst, &slot, &r, false))
		return;
	open_json_object("datapath");
	if (indent)
		print_text("%s", indent);
	datapath_fields(&r);
	print_nl();
	close_json_object();
	xfsm_dp_record_free(&r);
}

/*
 * What each port runs (docs/specializer.md): the active slot's generated
 * program attached directly, or the generic program, its entry.  Text:
 * "attached: veth0 xfsm_spec_s0 (id 812, specialized, directly)".
 */
void print_attachment(struct xfsm_instance *inst, const char *indent)
{
	struct xfsm_port_entry *e;
	int i, n;

	if (xfsm_attach_ports(inst, &e, &n))
		return;
	open_json_array("attached");
	for (i = 0; i < n; i++) {
		const struct xfsm_xdp_state *st = &e[i].st;

		if (!e[i].ifname[0])
			continue;
		open_json_object(NULL);
		print_text("%sattached: ", indent ? indent : "");
		print_string(PRINT_ANY, "ifname", "%s", e[i].ifname);
		if (!st->prog_id) {
			print_null("prog_id");
			print_null("prog_name");
			print_text(" none");
		} else {
			print_string(PRINT_ANY, "prog_name", " %s",
				     e[i].owned && st->dispatcher ? XFSM_PROG_NAME : st->prog_name);
			print_uint(PRINT_ANY, "prog_id", " (id %llu",
				   e[i].owned ? st->xfsm_prog_id : st->prog_id);
		}
		print_bool(PRINT_JSON, "ours", NULL, e[i].owned);
		print_bool(PRINT_ANY, "specialized", e[i].owned && st->specialized ?
			   ", specialized, directly" : NULL, e[i].owned && st->specialized);
		print_bool(PRINT_ANY, "dispatcher", st->dispatcher ?
			   ", behind a libxdp dispatcher: the entry is the generic program" : NULL,
			   st->dispatcher);
		if (st->prog_id && !e[i].owned)
			print_text(", not this instance's");
		else if (st->prog_id && !st->specialized && !st->dispatcher)
			print_text(", entry");
		if (st->prog_id)
			print_text(")");
		print_nl();
		close_json_object();
	}
	close_json_array();
	free(e);
}

/* ---- show program ---------------------------------------------------------------- */

struct listing_ctx {
	struct xfsm_instance *inst;
	bool	kernel_ids;	/* references are kernel map ids, not xfsm_map_id */
};

static void map_name(void *ctx, __u8 src_reg, __s32 imm, char *buf, size_t len)
{
	const struct listing_ctx *lc = ctx;
	int id;

	(void)src_reg;
	if (!lc->kernel_ids) {
		if (imm >= 0 && imm < XFSM_M__MAX)
			snprintf(buf, len, "map[%s]", xfsm_map_names[imm]);
		else
			snprintf(buf, len, "map[?]");
		return;
	}
	/* the kernel's translation names maps by id: the instance's by name */
	for (id = 0; id < XFSM_M__MAX; id++) {
		if (lc->inst->map_fd[id] >= 0 && lc->inst->map_id[id] == (__u32)imm) {
			snprintf(buf, len, "map[%s]", xfsm_map_names[id]);
			return;
		}
	}
	snprintf(buf, len, "map[id %d]", imm);
}

static void print_listing(struct listing_ctx *lc, const struct bpf_insn *insn, size_t n,
			  const struct xfsm_emit_note *note, size_t n_note)
{
	size_t pc = 0, k = 0;
	char text[160];
	unsigned int used;

	open_json_array("insns");
	while ((used = xfsm_disasm(insn, n, pc, text, sizeof(text), map_name, lc))) {
		open_json_object(NULL);
		print_uint(PRINT_JSON, "pc", NULL, pc);
		if (k < n_note && note[k].insn <= pc) {
			open_json_array("notes");
			for (; k < n_note && note[k].insn <= pc; k++) {
				open_json_object(NULL);
				print_uint(PRINT_JSON, "depth", NULL, note[k].depth);
				print_string(PRINT_JSON, "text", NULL, note[k].text);
				print_text("%*s; %s\n", 2 * (int)note[k].depth, "", note[k].text);
				close_json_object();
			}
			close_json_array();
		}
		print_string(PRINT_JSON, "text", NULL, text);
		print_text("%6zu: %s\n", pc, text);
		close_json_object();
		pc += used;
	}
	close_json_array();
}

int do_show_program(struct args *a)
{
	struct listing_ctx lc = {};
	struct xfsm_instance *inst;
	struct xfsm_dp_record r;
	struct bpf_insn *xl = NULL;
	size_t n_xl = 0;
	__u32 slot;
	int err;

	err = arg_end(a);
	if (err)
		return err;
	err = open_instance(&inst);
	if (err)
		return err;
	lc.inst = inst;
	err = xfsm_dp_running(inst, &slot, &r, true);
	if (err) {
		p_err("cannot read which program runs the application: %s", strerror(-err));
		goto out;
	}
	open_json_object(NULL);
	open_json_object("datapath");
	datapath_fields(&r);
	print_nl();
	close_json_object();
	print_uint(PRINT_JSON, "slot", NULL, slot);
	if (!r.specialized) {
		print_string(PRINT_JSON, "source", NULL, "none");
		print_text("the generic datapath runs slot %u: no specialized program to show\n", slot);
		open_json_array("insns");
		close_json_array();
	} else if (r.n_insn) {
		print_string(PRINT_JSON, "source", NULL, "generated");
		print_listing(&lc, r.insn, r.n_insn, r.note, r.n_note);
	} else {
		err = xfsm_dp_xlated(r.prog_id, &xl, &n_xl);
		if (err) {
			close_json_object();
			print_flush();
			p_err("program %u: cannot read its instructions from the kernel: %s",
			      r.prog_id, strerror(-err));
			goto out;
		}
		print_string(PRINT_JSON, "source", NULL, "kernel");
		print_text("(the listing was not kept: the kernel's translation, without notes)\n");
		lc.kernel_ids = true;
		print_listing(&lc, xl, n_xl, NULL, 0);
	}
	close_json_object();
	print_flush();
out:
	free(xl);
	xfsm_dp_record_free(&r);
	xfsm_instance_close(inst);
	return err;
}
