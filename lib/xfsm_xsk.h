/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * AF_XDP process ports: a user-space process receives the packets the
 * application sends it (action `output xsk`, XSKMAP redirect by receive
 * queue) and transmits packets back out of the interface.  Built on
 * libxdp's xsk API; the datapath's own program stays attached (libxdp's
 * program loading is inhibited and the socket goes into xfsm_xsks).
 */
#ifndef XFSM_XSK_H
#define XFSM_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include "libxfsm.h"

struct xfsm_xsk;

/* Open a socket on IFNAME queue QUEUE (copy mode) and register it in the
 * instance's xfsm_xsks[QUEUE]. */
int xfsm_xsk_open(struct xfsm_instance *inst, const char *ifname, unsigned int queue,
		  struct xfsm_xsk **out);
/* Unregister and close. */
void xfsm_xsk_close(struct xfsm_xsk *x);
int xfsm_xsk_fd(const struct xfsm_xsk *x);

/* Receive up to max packets; for each, cb(data, len, ctx) may change the
 * packet in place (up to its len) and return true to transmit it back out
 * of the interface, false to drop it.  Waits up to timeout_ms for the
 * first packet.  Returns the number received or a negative errno. */
typedef bool (*xfsm_xsk_cb)(void *data, size_t *len, void *ctx);
int xfsm_xsk_poll(struct xfsm_xsk *x, unsigned int max, int timeout_ms,
		  xfsm_xsk_cb cb, void *ctx);
/* Transmit a new packet (copied into a free frame). */
int xfsm_xsk_send(struct xfsm_xsk *x, const void *data, size_t len);
/* Packets received, transmitted (completed) so far. */
void xfsm_xsk_counts(const struct xfsm_xsk *x, unsigned long *rx, unsigned long *tx);

#endif /* XFSM_XSK_H */
