/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * xfsmctl as another process on the suite's datapath: pinning the loaded
 * instance where `xfsmctl --pin-dir` finds it, running a command to its
 * end, and killing one at a chosen moment: after some microseconds, or
 * just before its N-th bpf() system call (a seccomp user-notification
 * filter stops every bpf() call of the process until this process lets it
 * run, so the count is exact whatever the machine's load).
 */
#ifndef XT_CTLRUN_H
#define XT_CTLRUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "bpf.h"

/* Pin every map of t (and its .rodata as xfsm_rodata) into a new
 * directory /sys/fs/bpf/xt<pid>-<tag>; dir receives its path. */
int xt_pin_instance(struct xt *t, const char *tag, char *dir, size_t len);
/* Remove the pins and the directory (only files this harness made). */
void xt_unpin_instance(const char *dir);

/*
 * A suite's setting for xfsmctl: the suite's datapath (T, native profile)
 * pinned, and a temporary directory for the files its commands read.
 * xt_ctl_env_open() is meant for an unchecked fixture; on failure
 * pin_dir is empty.
 */
struct xt_ctl_env {
	char	pin_dir[PATH_MAX];
	char	tmp_dir[64];
};

void xt_ctl_env_open(struct xt_ctl_env *e, const char *tag);
void xt_ctl_env_close(struct xt_ctl_env *e);
/* Write `text` into file `name` of the temporary directory; its path goes
 * to path (len bytes).  False on failure. */
bool xt_ctl_env_file(struct xt_ctl_env *e, const char *name, const char *text,
		     char *path, size_t len);

/* Run `xfsmctl --pin-dir DIR ARGS...` (args NULL-terminated) to its end.
 * Returns its exit status (-errno when it could not run); out (may be
 * NULL) receives its standard output and error. */
int xt_ctl(const char *dir, char *out, size_t outlen, char *const args[]);

/*
 * Run the same, and kill it with SIGKILL just before its kill_at-th bpf()
 * call (1: before the first; 0: never).  Returns the number of bpf() calls
 * it made (the one it was killed in front of included), or -errno; *status
 * gets its wait status.
 */
int xt_ctl_kill_at_bpf(const char *dir, char *const args[], unsigned int kill_at,
		       int *status);

/* Run the same to its end, counting its bpf() calls by command (cmds[c]:
 * calls with enum bpf_cmd c; commands past XT_BPF_CMDS are not counted).
 * Returns the number of calls or -errno, *status as above.  Its output
 * is not kept. */
#define XT_BPF_CMDS	64
int xt_ctl_bpf_cmds(const char *dir, char *const args[], unsigned int cmds[XT_BPF_CMDS],
		    int *status);

/* Run the same and kill it after usec microseconds (if it still runs);
 * returns 0 or -errno, *status as above. */
int xt_ctl_kill_after(const char *dir, char *const args[], unsigned int usec, int *status);

/* This process (and what it forks or execs) is killed (SIGSYS) by its
 * next call of system call nr, for good: a test's child proves a path
 * never makes it.  0 or a negative errno. */
int xt_forbid_syscall(long nr);

#endif /* XT_CTLRUN_H */
