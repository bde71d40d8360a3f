/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * refload: load a hand-written reference (bench/ref/NAME.bpf.o) with its
 * settings and pin its program, so that `make bench` can attach it with
 * `ip link set dev IF xdpdrv pinned PIN` and switch between it and xfsm
 * without loading either again.  The maps live as long as the pin.
 *
 *   refload OBJ PIN [VAR=VALUE | #MAP=ENTRIES]...
 *
 * VAR is a `const volatile __u32` of the program (e.g. inside_ifindex),
 * #MAP a map whose size to set (e.g. #conns=2097152).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "ref/load.h"
#include "xfsm_num.h"

#define MAX_SETTINGS	8

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	return l == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
}

int main(int argc, char **argv)
{
	struct ref_setting set[MAX_SETTINGS];
	struct bpf_object *obj;
	char *eq, msg[128];
	__u32 val;
	int i, n = 0, fd, err;

	if (argc < 3 || argc - 3 > MAX_SETTINGS) {
		fprintf(stderr, "usage: %s OBJ PIN [VAR=VALUE | #MAP=ENTRIES]... (at most %d)\n",
			argv[0], MAX_SETTINGS);
		return 2;
	}
	for (i = 3; i < argc; i++) {
		eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			fprintf(stderr, "refload: %s: expected NAME=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		if (xfsm_parse_u32(eq + 1, 0, UINT32_MAX, &val, msg, sizeof(msg))) {
			fprintf(stderr, "refload: %s: %s\n", argv[i], msg);
			return 2;
		}
		set[n].value = val;
		set[n++].name = argv[i];
	}
	libbpf_set_print(quiet);
	obj = ref_load(argv[1], set, n, &fd);
	if (!obj) {
		fprintf(stderr, "refload: cannot load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_program__pin(bpf_object__next_program(obj, NULL), argv[2]);
	if (err)
		fprintf(stderr, "refload: cannot pin %s: %s\n", argv[2], strerror(-err));
	bpf_object__close(obj);
	return err ? 1 : 0;
}
