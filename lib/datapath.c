// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Each application slot's datapath record (lib/xfsm_datapath.h): what the
 * switch installed for the slot, kept in xfsm_ids next to the slot's
 * statistics identities, as one byte string cut into chunks:
 *
 *	header	magic, version, length, generation, mode, specialized,
 *		program id, instruction counts, timings, why
 *	insns	the listing's instructions (struct bpf_insn)
 *	notes	the generator's notes (struct xfsm_emit_note)
 *
 * It is written while the slot is not the running one (before the switch,
 * like everything of the slot), so the running slot's record is whole.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xfsm_datapath.h"
#include "apply_internal.h"

#define DP_MAGIC	0x50445358U	/* "XSDP" */
#define DP_VERSION	1

struct dp_hdr {
	__u32	magic;
	__u32	version;
	__u32	bytes;		/* header, instructions and notes */
	__u32	generation;
	__u32	mode;
	__u32	specialized;
	__u32	prog_id;
	__u32	n_insns;	/* generated */
	__u32	n_insn;		/* kept in the listing (0 or n_insns) */
	__u32	n_note;
	__u64	generate_ns;
	__u64	load_ns;
	char	why[256];
};

_Static_assert(sizeof(struct dp_hdr) == 56 + 256, "dp_hdr has no padding");

static const char *const dp_names[] = {
	[XFSM_DP_AUTO] = "auto",
	[XFSM_DP_GENERIC] = "generic",
	[XFSM_DP_SPECIALIZED] = "specialized",
};

const char *xfsm_datapath_name(__u32 mode)
{
	return mode < sizeof(dp_names) / sizeof(dp_names[0]) ? dp_names[mode] : NULL;
}

int xfsm_datapath_parse(const char *word, __u32 *mode)
{
	for (__u32 m = 0; m < sizeof(dp_names) / sizeof(dp_names[0]); m++) {
		if (word && !strcmp(word, dp_names[m])) {
			*mode = m;
			return 0;
		}
	}
	return -EINVAL;
}

/* The listing as it is kept: map fds of this process become the
 * instance's map ids (xfsm_map_id), which mean something to a reader. */
static void listing_insns(struct xfsm_instance *inst, const struct xfsm_emit *e,
			  struct bpf_insn *out)
{
	size_t i;

	memcpy(out, e->insn, e->n * sizeof(*out));
	for (i = 0; i + 1 < e->n; i++) {
		struct bpf_insn *in = &out[i];
		int id;

		if (in->code != (BPF_LD | BPF_DW | BPF_IMM))
			continue;
		if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE) {
			for (id = 0; id < XFSM_M__MAX; id++)
				if (inst->map_fd[id] >= 0 && inst->map_fd[id] == in->imm)
					break;
			in->imm = id < XFSM_M__MAX ? id : -1;
		}
		i++;		/* the second half */
	}
}

static int encode(struct xfsm_instance *inst, const struct xfsm_dp_record *r,
		  const struct xfsm_emit *e, char **out, size_t *out_len)
{
	bool listing = e && e->n && e->n <= XFSM_DP_LISTING_MAX;
	size_t n_insn = listing ? e->n : 0, n_note = listing ? e->n_note : 0;
	size_t len = sizeof(struct dp_hdr) + n_insn * sizeof(struct bpf_insn) +
		     n_note * sizeof(struct xfsm_emit_note);
	struct dp_hdr *h;
	char *buf;

	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	h = (struct dp_hdr *)buf;
	h->magic = DP_MAGIC;
	h->version = DP_VERSION;
	h->bytes = len;
	h->generation = r->generation;
	h->mode = r->mode;
	h->specialized = r->specialized;
	h->prog_id = r->prog_id;
	h->n_insns = r->n_insns;
	h->n_insn = n_insn;
	h->n_note = n_note;
	h->generate_ns = r->generate_ns;
	h->load_ns = r->load_ns;
	snprintf(h->why, sizeof(h->why), "%s", r->why);
	if (listing) {
		listing_insns(inst, e, (struct bpf_insn *)(buf + sizeof(*h)));
		memcpy(buf + sizeof(*h) + n_insn * sizeof(struct bpf_insn), e->note,
		       n_note * sizeof(struct xfsm_emit_note));
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int xfsm_dp_record_write(struct xfsm_instance *inst, __u32 slot,
			 const struct xfsm_dp_record *r, const struct xfsm_emit *e)
{
	size_t len;
	char *buf;
	int err;

	if (inst->map_fd[XFSM_M_IDS] < 0 || slot >= XFSM_APP_SLOTS)
		return -ENOENT;
	err = encode(inst, r, e, &buf, &len);
	if (err)
		return err;
	err = xfsm_ids_blob_write(inst, XFSM_IDS_DATAPATH + slot, buf, len);
	free(buf);
	if (err && e) {
		/* The identities may have filled xfsm_ids: the record without
		 * its listing (show program then reads the kernel's). */
		err = encode(inst, r, NULL, &buf, &len);
		if (!err) {
			err = xfsm_ids_blob_write(inst, XFSM_IDS_DATAPATH + slot, buf, len);
			free(buf);
		}
	}
	return err;
}

void xfsm_dp_record_free(struct xfsm_dp_record *r)
{
	if (!r)
		return;
	free(r->insn);
	free(r->note);
	r->insn = NULL;
	r->note = NULL;
	r->n_insn = r->n_note = 0;
}

int xfsm_dp_record_read(struct xfsm_instance *inst, __u32 slot, struct xfsm_dp_record *r,
			bool listing)
{
	const char *insn, *note;
	struct dp_hdr h;
	size_t len;
	char *buf;
	int err;

	memset(r, 0, sizeof(*r));
	if (slot >= XFSM_APP_SLOTS)
		return -ENOENT;
	err = xfsm_ids_blob_read(inst, XFSM_IDS_DATAPATH + slot, DP_MAGIC,
				 offsetof(struct dp_hdr, bytes), sizeof(h), &buf, &len);
	if (err)
		return err;
	memcpy(&h, buf, sizeof(h));
	if (h.version != DP_VERSION || h.n_insn > XFSM_DP_LISTING_MAX ||
	    h.n_note > XFSM_DP_LISTING_MAX ||
	    len != sizeof(h) + (size_t)h.n_insn * sizeof(struct bpf_insn) +
		   (size_t)h.n_note * sizeof(struct xfsm_emit_note)) {
		err = -EPROTO;
		goto out;
	}
	r->generation = h.generation;
	r->mode = h.mode;
	r->specialized = h.specialized;
	r->prog_id = h.prog_id;
	r->n_insns = h.n_insns;
	r->generate_ns = h.generate_ns;
	r->load_ns = h.load_ns;
	memcpy(r->why, h.why, sizeof(r->why));
	r->why[sizeof(r->why) - 1] = 0;
	if (!listing || !h.n_insn)
		goto out;
	insn = buf + sizeof(h);
	note = insn + h.n_insn * sizeof(struct bpf_insn);
	r->insn = malloc(h.n_insn * sizeof(*r->insn));
	r->note = malloc((h.n_note ? h.n_note : 1) * sizeof(*r->note));
	if (!r->insn || !r->note) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(r->insn, insn, h.n_insn * sizeof(*r->insn));
	memcpy(r->note, note, h.n_note * sizeof(*r->note));
	r->n_insn = h.n_insn;
	r->n_note = h.n_note;
	for (size_t i = 0; i < r->n_note; i++)
		r->note[i].text[sizeof(r->note[i].text) - 1] = 0;
out:
	if (err)
		xfsm_dp_record_free(r);
	free(buf);
	return err;
}

/* The id of the program in xfsm_progs[slot], 0 when the entry is empty. */
static int progs_entry(struct xfsm_instance *inst, __u32 slot, __u32 *id)
{
	*id = 0;
	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_PROGS], &slot, id))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int xfsm_dp_running(struct xfsm_instance *inst, __u32 *slot, struct xfsm_dp_record *r,
		    bool listing)
{
	struct xfsm_ctl ctl;
	struct xfsm_app app;
	__u32 id;
	int err;

	memset(r, 0, sizeof(*r));
	err = xfsm_ctl_get(inst, &ctl);
	if (err)
		return err;
	if (ctl.active >= XFSM_APP_SLOTS)
		return -EPROTO;
	*slot = ctl.active;
	if (inst->map_fd[XFSM_M_PROGS] < 0) {
		snprintf(r->why, sizeof(r->why), "%s",
			 inst->build.offload ?
			 "the offload profile runs the generic datapath only" :
			 "the datapath has no " XFSM_MAP_PROGS " map (loaded by an older xfsm-loader: reload it to specialize)");
		r->generation = ctl.generation;
		return 0;
	}
	if (bpf_map_lookup_elem(inst->map_fd[XFSM_M_APPS], slot, &app))
		return -errno;
	err = xfsm_dp_record_read(inst, *slot, r, listing);
	if (!err && r->generation != app.generation)
		err = -ESTALE;
	if (err) {
		xfsm_dp_record_free(r);
		memset(r, 0, sizeof(*r));
		r->generation = app.generation;
		snprintf(r->why, sizeof(r->why),
			 err == -ENOENT || err == -ESTALE ?
			 "the running application was installed without a datapath record (before specialization, or by an older xfsmctl)" :
			 "the running application's datapath record is unreadable");
	}
	/* What the kernel runs is the last word: an entry the record does not
	 * describe is reported, not hidden. */
	err = progs_entry(inst, *slot, &id);
	if (err) {
		xfsm_dp_record_free(r);
		return err;
	}
	if (r->specialized && id != r->prog_id) {
		r->specialized = false;
		snprintf(r->why, sizeof(r->why),
			 id ? "xfsm_progs[%u] holds program %u, not the one generated for this application (%u)" :
			      "xfsm_progs[%u] is empty: the generated program was removed", *slot, id,
			 r->prog_id);
		xfsm_dp_record_free(r);
		r->prog_id = id;
	} else if (!r->specialized && id) {
		snprintf(r->why, sizeof(r->why),
			 "xfsm_progs[%u] holds program %u although the application was switched to the generic datapath",
			 *slot, id);
		r->prog_id = id;
		r->specialized = true;
	}
	return 0;
}

void xfsm_dp_release(struct xfsm_instance *inst)
{
	if (!inst || inst->map_fd[XFSM_M_PROGS] < 0)
		return;
	if (inst->owns_fds)
		close(inst->map_fd[XFSM_M_PROGS]);
	inst->map_fd[XFSM_M_PROGS] = -1;
}

int xfsm_dp_xlated(__u32 prog_id, struct bpf_insn **insn, size_t *n)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), bytes;
	int fd, err = 0;

	*insn = NULL;
	*n = 0;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	bytes = info.xlated_prog_len;
	if (!bytes) {
		err = -EPERM;	/* the kernel does not show it (kptr_restrict) */
		goto out;
	}
	*insn = calloc(1, bytes);
	if (!*insn) {
		err = -ENOMEM;
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = bytes;
	info.xlated_prog_insns = (__u64)(unsigned long)*insn;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		free(*insn);
		*insn = NULL;
		goto out;
	}
	*n = bytes / sizeof(**insn);
out:
	close(fd);
	return err;
}
