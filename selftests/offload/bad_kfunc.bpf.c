/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Kfunc calls: kernel functions do not exist on the NIC. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

SEC("xdp")
int bad_prog(struct xdp_md *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
