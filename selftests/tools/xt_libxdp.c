// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * xt_libxdp: put a program on an interface through libxdp, as xdp-loader
 * would, for the tests of xfsm sharing an interface (libxdp's
 * multi-program dispatcher).  Run in the interface's network namespace.
 *
 *   xt_libxdp attach IFACE OBJ PRIO skb|native
 *	attach OBJ's first program with run priority PRIO; prints
 *	"dispatcher" when libxdp runs it as a component of its dispatcher,
 *	"alone" when libxdp fell back to a plain attach
 *   xt_libxdp detach IFACE NAME
 *	detach the program NAME, a dispatcher component or alone
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

static int usage(void)
{
	fprintf(stderr, "usage: xt_libxdp attach IFACE OBJ PRIO skb|native\n"
			"       xt_libxdp detach IFACE NAME\n");
	return 2;
}

static int do_attach(int ifindex, const char *obj, const char *prio, const char *mode)
{
	enum xdp_attach_mode m = !strcmp(mode, "skb") ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	struct xdp_program *p = xdp_program__open_file(obj, NULL, NULL);
	struct xdp_multiprog *mp;
	char *end;
	long pr;
	int err;

	err = libxdp_get_error(p);
	if (err) {
		fprintf(stderr, "xt_libxdp: cannot open %s: %s\n", obj, strerror(-err));
		return 1;
	}
	pr = strtol(prio, &end, 10);
	if (*end || pr < 0 || pr > 1000) {
		fprintf(stderr, "xt_libxdp: bad priority '%s'\n", prio);
		return 2;
	}
	xdp_program__set_run_prio(p, pr);
	err = xdp_program__attach(p, ifindex, m, 0);
	if (err) {
		fprintf(stderr, "xt_libxdp: cannot attach %s: %s\n", obj, strerror(-err));
		return 1;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	printf("%s\n", !libxdp_get_error(mp) && mp && !xdp_multiprog__is_legacy(mp) ?
	       "dispatcher" : "alone");
	if (!libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	xdp_program__close(p);
	return 0;
}

static int do_detach(int ifindex, const char *name)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int err = libxdp_get_error(mp);

	if (err || !mp) {
		fprintf(stderr, "xt_libxdp: no XDP program on the interface\n");
		return 1;
	}
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (!p || strcmp(xdp_program__name(p), name))
			p = NULL;
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (!strcmp(xdp_program__name(p), name))
				break;
	}
	err = p ? xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0)
		: -ENOENT;
	xdp_multiprog__close(mp);
	if (err) {
		fprintf(stderr, "xt_libxdp: cannot detach %s: %s\n", name, strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ifindex;

	if (argc < 4)
		return usage();
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "xt_libxdp: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	libbpf_set_print(NULL);
	if (!strcmp(argv[1], "attach") && argc == 6)
		return do_attach(ifindex, argv[3], argv[4], argv[5]);
	if (!strcmp(argv[1], "detach") && argc == 4)
		return do_detach(ifindex, argv[3]);
	return usage();
}
