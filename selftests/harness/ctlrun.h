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

#include <stddef.h>

#include "bpf.h"

/* Pin every map of t (and its .rodata as xfsm_rodata) into a new
 * directory /sys/fs/bpf/xt<pid>-<tag>; dir receives its path. */
int xt_pin_instance(struct xt *t, const char *tag, char *dir, size_t len);
/* Remove the pins and the directory (only files this harness made). */
void xt_unpin_instance(const char *dir);

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

/* Run the same and kill it after usec microseconds (if it still runs);
 * returns 0 or -errno, *status as above. */
int xt_ctl_kill_after(const char *dir, char *const args[], unsigned int usec, int *status);

#endif /* XT_CTLRUN_H */
