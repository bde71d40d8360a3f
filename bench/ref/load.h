/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Loading a hand-written reference (bench/ref/NAME.bpf.o) the way its
 * engineer would: `const volatile` settings written into .rodata and map
 * sizes chosen before the load.  Shared, as static functions, by
 * bench/micro.c, bench/refload.c and selftests/test_ref.c.
 */
#ifndef XFSM_BENCH_REF_LOAD_H
#define XFSM_BENCH_REF_LOAD_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "xfsm/abi.h"	/* XFSM_PROGS_ATTACH_TYPE */

/* A setting: a `const volatile __u32` by name, or a map's max_entries
 * (name starting with '#', e.g. "#conns"). */
struct ref_setting {
	const char	*name;
	__u32		value;
};

/* Write `value` into the .rodata variable `name` of an opened object. */
static int ref_set_rodata(struct bpf_object *obj, const char *name, __u32 value)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var;
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const void *init;
	struct btf *btf;
	size_t size;
	void *buf;
	int id, i, err;

	btf = bpf_object__btf(obj);
	if (!map || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->size != sizeof(value))
			return -EINVAL;
		init = bpf_map__initial_value(map, &size);
		if (!init || vs->offset + sizeof(value) > size)
			return -EINVAL;
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, init, size);
		memcpy((char *)buf + vs->offset, &value, sizeof(value));
		err = bpf_map__set_initial_value(map, buf, size);
		free(buf);
		return err;
	}
	return -ENOENT;
}

/* Open `path`, apply the settings (n of them), load.  Returns the object
 * and its first program's fd in *prog_fd, or NULL with errno set.  Every
 * program gets the expected attach type xfsm's datapath is loaded with:
 * the flow driver (bench/flowdrv.bpf.c) tail-calls xfsm or a reference,
 * and the kernel lets a program array hold only programs of its first
 * user's attach type. */
static struct bpf_object *ref_load(const char *path, const struct ref_setting *set,
				   unsigned int n, int *prog_fd)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	unsigned int i;
	int err = 0;

	if (!obj)
		return NULL;
	for (i = 0; i < n && !err; i++) {
		if (set[i].name[0] == '#') {
			map = bpf_object__find_map_by_name(obj, set[i].name + 1);
			err = map ? bpf_map__set_max_entries(map, set[i].value) : -ENOENT;
		} else {
			err = ref_set_rodata(obj, set[i].name, set[i].value);
		}
	}
	bpf_object__for_each_program(prog, obj)
		if (!err)
			err = bpf_program__set_expected_attach_type(prog, XFSM_PROGS_ATTACH_TYPE);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		bpf_object__close(obj);
		errno = -err;
		return NULL;
	}
	*prog_fd = bpf_program__fd(bpf_object__next_program(obj, NULL));
	return obj;
}

#endif /* XFSM_BENCH_REF_LOAD_H */
