// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Scaling of several XDP programs updating one shared line, the way
 * bench/micro.c's scale_set() measures it (two SCHED_FIFO threads pinned to
 * CPUs 0 and 1, packets over wall time, the programs taking turns within
 * each round, the median of ROUNDS (9) rounds of REPEAT (1M) packets),
 * printed as ns per packet per CPU.  Arguments: BPF objects (the first
 * program is run, its maps created fresh) or id:N of a program this
 * session loaded itself (e.g. the one `xfsmctl apply` printed).
 *   gcc -O2 -o scale_runs scale_runs.c -lbpf -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static unsigned int repeat = 1000000, rounds = 9;
static unsigned char frame[64];

struct runner { pthread_t tid; int cpu, fd, err; pthread_barrier_t *start; double t0, t1; };

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *runner_main(void *arg)
{
	const struct sched_param sp = { .sched_priority = 50 };
	struct runner *r = arg;
	cpu_set_t set;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = 64, .repeat = repeat);

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (r->start)
		pthread_barrier_wait(r->start);
	r->t0 = now_us();
	if (bpf_prog_test_run_opts(r->fd, &o))
		r->err = -errno;
	r->t1 = now_us();
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int n = argc - 1, fd[64], i, k, s;
	double *o1, *o2;
	const char *env;

	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: %s OBJECT.o|id:N... (1 to 64)\n", argv[0]);
		return 2;
	}
	if ((env = getenv("ROUNDS")))
		rounds = atoi(env);
	if ((env = getenv("REPEAT")))
		repeat = atoi(env);
	/* Ethernet + IPv4 198.18.0.1 -> 198.19.255.1 UDP 40000 -> 9 */
	frame[12] = 8; frame[14] = 0x45; frame[17] = 50; frame[22] = 64; frame[23] = 17;
	frame[26] = 198; frame[27] = 18; frame[29] = 1;
	frame[30] = 198; frame[31] = 19; frame[32] = 255; frame[33] = 1;
	frame[34] = 40000 >> 8; frame[35] = 40000 & 255; frame[37] = 9; frame[39] = 30;
	for (i = 0; i < n; i++) {
		const char *a = argv[i + 1];
		if (!strncmp(a, "id:", 3)) {
			fd[i] = bpf_prog_get_fd_by_id(atoi(a + 3));
		} else {
			struct bpf_object *obj = bpf_object__open_file(a, NULL);
			struct bpf_program *p;
			if (!obj || bpf_object__load(obj)) { fprintf(stderr, "%s: load failed\n", a); return 1; }
			p = bpf_object__next_program(obj, NULL);
			fd[i] = bpf_program__fd(p);
		}
		if (fd[i] < 0) { fprintf(stderr, "%s: %s\n", a, strerror(errno)); return 1; }
	}
	o1 = calloc(n * rounds, sizeof(double));
	o2 = calloc(n * rounds, sizeof(double));
	for (k = 0; k < (int)rounds; k++)
		for (s = k % n; s < k % n + n; s++) {
			int q = s % n;
			struct runner r[2];
			pthread_barrier_t start;
			double span;

			r[0] = (struct runner){ .cpu = 0, .fd = fd[q] };
			pthread_create(&r[0].tid, NULL, runner_main, &r[0]);
			pthread_join(r[0].tid, NULL);
			o1[q * rounds + k] = (r[0].t1 - r[0].t0) * 1e3 / repeat;
			pthread_barrier_init(&start, NULL, 2);
			for (i = 0; i < 2; i++) {
				r[i] = (struct runner){ .cpu = i, .fd = fd[q], .start = &start };
				pthread_create(&r[i].tid, NULL, runner_main, &r[i]);
			}
			for (i = 0; i < 2; i++)
				pthread_join(r[i].tid, NULL);
			pthread_barrier_destroy(&start);
			if (r[0].err || r[1].err) { fprintf(stderr, "test run: %d\n", r[0].err ?: r[1].err); return 1; }
			span = (r[0].t1 > r[1].t1 ? r[0].t1 : r[1].t1) - (r[0].t0 < r[1].t0 ? r[0].t0 : r[1].t0);
			o2[q * rounds + k] = span * 1e3 / repeat;
		}
	printf("%-40s %8s %8s %8s %7s\n", "program", "1cpu ns", "2cpu ns", "added", "scaling");
	for (i = 0; i < n; i++) {
		double a = median(o1 + i * rounds, rounds), b = median(o2 + i * rounds, rounds);
		printf("%-40s %8.1f %8.1f %8.1f %6.2fx\n", argv[i + 1], a, b, b - a, 2 * a / b);
	}
	return 0;
}
