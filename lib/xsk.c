/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * AF_XDP process ports (lib/xfsm_xsk.h).  One umem of NFRAMES frames per
 * socket; a stack of free frames feeds the fill ring and new transmits,
 * and completed transmits return to it.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "xfsm_xsk.h"

#define NFRAMES		4096
#define FRAME_SIZE	XSK_UMEM__DEFAULT_FRAME_SIZE
#define RING		XSK_RING_CONS__DEFAULT_NUM_DESCS

struct xfsm_xsk {
	struct xfsm_instance *inst;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	void	*area;
	__u64	free[NFRAMES];
	unsigned int nfree;
	unsigned int queue;
	unsigned int tx_pending;
	unsigned long rx_count, tx_count;
};

static __u64 frame_get(struct xfsm_xsk *x)
{
	return x->nfree ? x->free[--x->nfree] : ~0ULL;
}

static void frame_put(struct xfsm_xsk *x, __u64 addr)
{
	if (x->nfree < NFRAMES)
		x->free[x->nfree++] = addr - addr % FRAME_SIZE;
}

static void fill(struct xfsm_xsk *x)
{
	__u32 idx, n = xsk_prod_nb_free(&x->fq, x->nfree), i;

	if (n > x->nfree)
		n = x->nfree;
	if (!n || xsk_ring_prod__reserve(&x->fq, n, &idx) != n)
		return;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = frame_get(x);
	xsk_ring_prod__submit(&x->fq, n);
}

static void complete(struct xfsm_xsk *x)
{
	__u32 idx, n, i;

	if (!x->tx_pending)
		return;
	if (xsk_ring_prod__needs_wakeup(&x->tx))
		sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	n = xsk_ring_cons__peek(&x->cq, RING, &idx);
	for (i = 0; i < n; i++)
		frame_put(x, *xsk_ring_cons__comp_addr(&x->cq, idx + i));
	if (n) {
		xsk_ring_cons__release(&x->cq, n);
		x->tx_pending -= n;
		x->tx_count += n;
	}
}

int xfsm_xsk_open(struct xfsm_instance *inst, const char *ifname, unsigned int queue,
		  struct xfsm_xsk **out)
{
	struct xsk_socket_config cfg = {
		.rx_size = RING,
		.tx_size = RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct xfsm_xsk *x;
	__u32 k = queue;
	int fd, err, i;

	*out = NULL;
	if (!inst || inst->map_fd[XFSM_M_XSKS] < 0) {
		xfsm_log(XFSM_LOG_ERROR, "the instance has no %s map (offload profile or an older datapath)",
			 XFSM_MAP_XSKS);
		return -EOPNOTSUPP;
	}
	if (queue >= XFSM_MAX_XSK_QUEUES)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->inst = inst;
	x->queue = queue;
	x->area = mmap(NULL, (size_t)NFRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		err = -errno;
		free(x);
		return err;
	}
	err = xsk_umem__create(&x->umem, x->area, (__u64)NFRAMES * FRAME_SIZE, &x->fq, &x->cq, NULL);
	if (err)
		goto fail;
	err = xsk_socket__create(&x->xsk, ifname, queue, x->umem, &x->rx, &x->tx, &cfg);
	if (err) {
		xfsm_log(XFSM_LOG_ERROR, "cannot create an AF_XDP socket on %s queue %u: %s",
			 ifname, queue, strerror(-err));
		goto fail;
	}
	for (i = NFRAMES - 1; i >= 0; i--)
		frame_put(x, (__u64)i * FRAME_SIZE);
	fill(x);
	fd = xsk_socket__fd(x->xsk);
	if (bpf_map_update_elem(inst->map_fd[XFSM_M_XSKS], &k, &fd, BPF_ANY)) {
		err = -errno;
		xfsm_log(XFSM_LOG_ERROR, "cannot register the socket in %s[%u]: %s",
			 XFSM_MAP_XSKS, queue, strerror(-err));
		goto fail;
	}
	*out = x;
	return 0;
fail:
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	munmap(x->area, (size_t)NFRAMES * FRAME_SIZE);
	free(x);
	return err;
}

void xfsm_xsk_close(struct xfsm_xsk *x)
{
	__u32 k;

	if (!x)
		return;
	k = x->queue;
	bpf_map_delete_elem(x->inst->map_fd[XFSM_M_XSKS], &k);
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
	munmap(x->area, (size_t)NFRAMES * FRAME_SIZE);
	free(x);
}

int xfsm_xsk_fd(const struct xfsm_xsk *x)
{
	return xsk_socket__fd(x->xsk);
}

static int tx_frame(struct xfsm_xsk *x, __u64 addr, __u32 len)
{
	__u32 idx;

	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1)
		return -EAGAIN;
	xsk_ring_prod__tx_desc(&x->tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&x->tx, idx)->len = len;
	xsk_ring_prod__submit(&x->tx, 1);
	x->tx_pending++;
	sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
	return 0;
}

int xfsm_xsk_poll(struct xfsm_xsk *x, unsigned int max, int timeout_ms,
		  xfsm_xsk_cb cb, void *ctx)
{
	struct pollfd pfd = { .fd = xsk_socket__fd(x->xsk), .events = POLLIN };
	__u32 idx, n, i;

	complete(x);
	fill(x);
	n = xsk_ring_cons__peek(&x->rx, max, &idx);
	if (!n) {
		if (poll(&pfd, 1, timeout_ms) < 0)
			return -errno;
		n = xsk_ring_cons__peek(&x->rx, max, &idx);
		if (!n) {
			complete(x);
			return 0;
		}
	}
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		void *data = xsk_umem__get_data(x->area, d->addr);
		size_t len = d->len;

		x->rx_count++;
		if (cb && cb(data, &len, ctx) && len <= FRAME_SIZE &&
		    !tx_frame(x, d->addr, len))
			continue;
		frame_put(x, d->addr);
	}
	xsk_ring_cons__release(&x->rx, n);
	complete(x);
	fill(x);
	return n;
}

int xfsm_xsk_send(struct xfsm_xsk *x, const void *data, size_t len)
{
	__u64 addr;
	int err;

	complete(x);
	if (len > FRAME_SIZE)
		return -EMSGSIZE;
	addr = frame_get(x);
	if (addr == ~0ULL)
		return -ENOBUFS;
	memcpy(xsk_umem__get_data(x->area, addr), data, len);
	err = tx_frame(x, addr, len);
	if (err)
		frame_put(x, addr);
	return err;
}

void xfsm_xsk_counts(const struct xfsm_xsk *x, unsigned long *rx, unsigned long *tx)
{
	if (rx)
		*rx = x->rx_count;
	if (tx)
		*tx = x->tx_count;
}
