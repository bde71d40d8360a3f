// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * What one write to a cache line both CPUs share costs a loop of N
 * dependent additions, without BPF: one thread on CPU 0, then one each on
 * CPUs 0 and 1, ns per iteration (best of 5 runs of 2M iterations).
 *
 *   gcc -O2 -o shared_line shared_line.c -lpthread
 *   chrt -f 50 ./shared_line OP N [separate]
 *   OP: xadd (lock add), rmw (plain load, add, store), store, read,
 *       mfence, xadd-lfence (lfence after the add), lfence-xadd, none;
 *   separate: each thread on its own line (no sharing).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum op { XADD, RMW, STORE, READ, MFENCE, XADD_LFENCE, LFENCE_XADD, NONE };
static const char *const op_names[] = { "xadd", "rmw", "store", "read", "mfence",
					"xadd-lfence", "lfence-xadd", "none" };

static const long iters = 2000000;
static enum op op;
static int nalu, separate;
static volatile unsigned long line[32] __attribute__((aligned(128)));
static pthread_barrier_t start;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void *loop(void *arg)
{
	long cpu = (long)arg, i;
	volatile unsigned long *p = &line[separate ? cpu * 16 : 0];
	unsigned long x = 0;
	cpu_set_t set;
	int k;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(&start);
	for (i = 0; i < iters; i++) {
		switch (op) {
		case XADD:
			__atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
			break;
		case RMW:
			*p = *p + 1;
			break;
		case STORE:
			*p = i;
			break;
		case READ:
			(void)*p;
			break;
		case MFENCE:
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			break;
		case XADD_LFENCE:
			__atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
			asm volatile("lfence" ::: "memory");
			break;
		case LFENCE_XADD:
			asm volatile("lfence" ::: "memory");
			__atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
			break;
		case NONE:
			break;
		}
		for (k = 0; k < nalu; k++)
			asm volatile("add $1, %0" : "+r"(x));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int ncpu, r;

	if (argc < 3)
		goto usage;
	for (op = 0; op <= NONE && strcmp(argv[1], op_names[op]); op++)
		;
	if (op > NONE)
		goto usage;
	nalu = atoi(argv[2]);
	separate = argc > 3;
	for (ncpu = 1; ncpu <= 2; ncpu++) {
		double best = 1e18;

		for (r = 0; r < 5; r++) {
			pthread_t t[2];
			double t0, d;
			long c;

			pthread_barrier_init(&start, NULL, ncpu);
			t0 = now_ns();
			for (c = 0; c < ncpu; c++)
				pthread_create(&t[c], NULL, loop, (void *)c);
			for (c = 0; c < ncpu; c++)
				pthread_join(t[c], NULL);
			d = (now_ns() - t0) / iters;
			if (d < best)
				best = d;
			pthread_barrier_destroy(&start);
		}
		printf("%s, %d additions%s: %d CPU%s %.1f ns per iteration\n", op_names[op], nalu,
		       separate ? ", separate lines" : "", ncpu, ncpu > 1 ? "s" : "", best);
	}
	return 0;
usage:
	fprintf(stderr, "usage: %s xadd|rmw|store|read|mfence|xadd-lfence|lfence-xadd|none N [separate]\n",
		argv[0]);
	return 2;
}
