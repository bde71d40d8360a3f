/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * monitor [STAGE] | status | stop: flow events as they happen, as
 * `conntrack -E` prints them.  The datapath writes them into the xfsm_events
 * ring buffer while xfsm_ctl.observe has XFSM_OBS_EVENTS (bpf/events.h);
 * the deletions user space makes (state del, flush) come from xfsmctl
 * itself, as the same record, through a datagram socket the monitor binds
 * in its instance's registry directory.  The registry also tells who
 * listens: one monitor per instance (the ring has one consumer position),
 * which clears the bit when it leaves; a killed monitor's socket, which
 * refuses datagrams, is removed by the next monitor start or `monitor
 * stop`, which clear the bit it left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "xfsmctl.h"

#define MONITOR_RUN_DIR	"/run/xfsm/monitor"
#define MONITOR_MAX	64	/* monitors listed by status */

/* ---- The registry of listening monitors --------------------------------- */

/* The instance's registry: named by its control map's id, which every way
 * of opening the instance (pins, interface, program) finds alike. */
static int reg_dir(const struct xfsm_instance *inst, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%u", MONITOR_RUN_DIR, inst->map_id[XFSM_M_CTL]) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[256];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

/* The registry directory, created if need be, locked: joining, leaving
 * and clearing the bit are one step each. */
static int reg_lock(const char *dir)
{
	int fd, err = mkdir_p(dir);

	if (err) {
		p_err("cannot create the monitor registry %s: %s", dir, strerror(-err));
		return err;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		p_err("cannot open the monitor registry %s: %s", dir, strerror(-err));
		return err;
	}
	while (flock(fd, LOCK_EX)) {
		if (errno == EINTR)
			continue;
		err = -errno;
		close(fd);
		p_err("cannot lock the monitor registry %s: %s", dir, strerror(-err));
		return err;
	}
	return fd;
}

static int sock_addr(const char *dir, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, name) >=
	    sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* Remove a monitor's socket file, and only that: the registry is shared
 * by name, and a file of another kind there is not a monitor's. */
static void unlink_sock(const char *path)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
}

/* Is the monitor bound at sa alive?  A socket file whose process died
 * refuses a connection. */
static bool sock_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return true;	/* cannot tell: keep it */
	alive = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) || errno != ECONNREFUSED;
	close(fd);
	return alive;
}

/* The live monitors of the registry (their pids into pids[], at most max),
 * the sockets of dead ones removed.  Returns how many live, or -errno. */
static int reg_scan(const char *dir, long *pids, int max, int *n_stale)
{
	struct sockaddr_un sa;
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (n_stale)
		*n_stale = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		struct stat st;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end ||
		    sock_addr(dir, de->d_name, &sa) || lstat(sa.sun_path, &st) ||
		    !S_ISSOCK(st.st_mode))
			continue;
		if (!sock_alive(&sa)) {
			unlink_sock(sa.sun_path);
			if (n_stale)
				(*n_stale)++;
			continue;
		}
		if (n < max && pids)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}

void monitor_notify(struct xfsm_instance *inst, const struct xfsm_event *ev)
{
	struct xfsm_ctl ctl;
	struct sockaddr_un sa;
	struct dirent *de;
	char dir[128];
	int fd;
	DIR *d;

	if (xfsm_ctl_get(inst, &ctl) || !(ctl.observe & XFSM_OBS_EVENTS) ||
	    reg_dir(inst, dir, sizeof(dir)))
		return;
	d = opendir(dir);
	if (!d)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	while (fd >= 0 && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || sock_addr(dir, de->d_name, &sa))
			continue;
		/* best effort, as the datapath's own events: a monitor that
		 * does not keep up misses it */
		sendto(fd, ev, sizeof(*ev), MSG_DONTWAIT, (const struct sockaddr *)&sa, sizeof(sa));
	}
	if (fd >= 0)
		close(fd);
	closedir(d);
}

/* ---- Printing ------------------------------------------------------------ */

struct pending_event {
	struct xfsm_event e;
	__u64	seq;		/* order read: ties keep it */
};

struct monitor {
	struct xfsm_instance *inst;
	struct running r;
	struct flow_printer fp;
	int	stage;		/* -1: every stage */
	__s64	mono_to_real;	/* add to CLOCK_MONOTONIC ns for the wall clock */
	__u64	events, lost, lost_base, lost_shown;
	__u64	max_events;	/* -c: stop after this many (0: no limit) */
	/* Read, not yet printed: the datapath's (ring) and xfsmctl's (socket),
	 * printed in the order they happened (flush_pending()). */
	struct pending_event *pend;
	size_t	n_pend, cap_pend;
	__u64	seq;
	bool	started;	/* listened: a summary is due */
	bool	out_closed;
};

static const char *const ev_names[XFSM_EV__MAX] = {
	[XFSM_EV_NEW]		= "new",
	[XFSM_EV_UPDATE]	= "update",
	[XFSM_EV_IDLE]		= "idle_expire",
	[XFSM_EV_HARD]		= "hard_expire",
	[XFSM_EV_FULL]		= "table_full",
	[XFSM_EV_DELETE]	= "delete",
	[XFSM_EV_FLUSH]		= "flush",
};

/* conntrack -E's tags */
static const char *const ev_tags[XFSM_EV__MAX] = {
	[XFSM_EV_NEW]		= "[NEW]",
	[XFSM_EV_UPDATE]	= "[UPDATE]",
	[XFSM_EV_IDLE]		= "[IDLE]",
	[XFSM_EV_HARD]		= "[HARD]",
	[XFSM_EV_FULL]		= "[FULL]",
	[XFSM_EV_DELETE]	= "[DELETE]",
	[XFSM_EV_FLUSH]		= "[FLUSH]",
};

static __s64 clock_offset(void)
{
	struct timespec m, r;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((__s64)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

/* The time: JSON "ts" in seconds since the epoch, text HH:MM:SS.uuuuuu. */
static void print_time(const struct monitor *m, __u64 mono_ns)
{
	__s64 ns = (__s64)mono_ns + m->mono_to_real;
	time_t sec = (time_t)(ns / 1000000000LL);
	struct tm tm;
	char buf[32];

	print_float(PRINT_JSON, "ts", NULL, (double)ns / 1e9);
	print_uint(PRINT_JSON, "mono_ns", NULL, mono_ns);
	localtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	print_text("%s.%06lld ", buf, (long long)(ns % 1000000000LL) / 1000);
}

/* The running rule a datapath rule id (its statistics index) belongs to. */
static const char *rule_name(const struct running *r, __u32 id, char *buf, size_t len)
{
	for (size_t i = 0; i < r->img.idents.n; i++) {
		const struct xfsm_stat_ident *e = &r->img.idents.v[i];
		const struct xfsm_rule_names *rn;

		if (e->kind != XFSM_SID_RULE || e->index != id)
			continue;
		rn = r->nm ? xfsm_lang_rule_by_id(r->nm, e->pos) : NULL;
		snprintf(buf, len, "%s", rn ? rn->name : e->name[0] ? e->name : "?");
		return buf;
	}
	snprintf(buf, len, "#%u", id);
	return buf;
}

static void print_state(const struct monitor *m, const char *key, const char *fmt,
			unsigned int stage, __u32 state)
{
	char buf[32];

	print_string(PRINT_ANY, key, fmt,
		     xfsm_lang_state_name(m->r.nm, stage, state, buf, sizeof(buf)));
}

static void print_event(struct monitor *m, const struct xfsm_event *e)
{
	unsigned int s = e->key.stage;
	char buf[64];

	if (e->type == 0 || e->type >= XFSM_EV__MAX)
		return;
	if (m->stage >= 0 && s != (unsigned int)m->stage &&
	    !(e->type == XFSM_EV_FLUSH && s == XFSM_EV_ALL_STAGES))
		return;
	if (m->max_events && m->events >= m->max_events)
		return;
	m->events++;
	open_json_object(NULL);
	print_time(m, e->ts_ns);
	print_string(PRINT_ANY, "event", NULL, ev_names[e->type]);
	print_text("%-9s", ev_tags[e->type]);
	if (e->type == XFSM_EV_FLUSH) {
		if (s == XFSM_EV_ALL_STAGES) {
			print_null("stage");
			print_text("all stages");
		} else {
			print_string(PRINT_ANY, "stage", "%s",
				     s < m->r.img.app.n_stages ?
				     stage_name(m->r.nm, s, buf, sizeof(buf)) : "?");
		}
		print_uint(PRINT_ANY, "count", ": %u flow(s) deleted (state flush)", e->count);
		goto end;
	}
	print_flow_stage_key(&m->fp, &m->r, &e->key);
	switch (e->type) {
	case XFSM_EV_NEW:
		print_state(m, "state", "  state %s", s, e->to);
		break;
	case XFSM_EV_UPDATE:
		print_state(m, "from", "  state %s", s, e->from);
		print_state(m, "to", " -> %s", s, e->to);
		print_string(PRINT_ANY, "rule", "  rule %s", rule_name(&m->r, e->rule_id, buf,
									 sizeof(buf)));
		break;
	case XFSM_EV_IDLE:
	case XFSM_EV_HARD:
		print_state(m, "from", "  state %s", s, e->from);
		print_state(m, "to", " -> %s", s, e->to);
		print_text("  %s timeout", e->type == XFSM_EV_IDLE ? "idle" : "hard");
		/* noticed at a packet's lookup, possibly long after */
		if (e->deadline_ns && e->deadline_ns <= e->ts_ns)
			print_seconds(PRINT_ANY, "expired_s", ", expired %.3fs before",
				      (long long)(e->ts_ns - e->deadline_ns));
		break;
	case XFSM_EV_FULL:
		print_text("  table full: flow not created");
		break;
	case XFSM_EV_DELETE:
		print_state(m, "state", "  state %s (state del)", s, e->from);
		break;
	}
end:
	print_nl();
	close_json_object();
	print_flush();
	fflush(stdout);
	if (ferror(stdout))
		m->out_closed = true;
}

/*
 * Two sources, one order.  The datapath's events come through the ring,
 * read every 100 ms (bpf/events.h); those of xfsmctl (state del, flush)
 * through the monitor's socket, which wakes it at once.  Printed as read,
 * a delete could come out after the events of packets that came later
 * but waited in the ring (a monitor slow to run, on a loaded machine).
 * So both are queued and printed by their time (CLOCK_MONOTONIC on both
 * sides), each once it is PEND_HOLD_NS old: a writer takes its timestamp
 * a moment before the event can be read, and an event read later may
 * still be older than one read now.
 */
#define PEND_HOLD_NS	50000000ULL

static void queue_event(struct monitor *m, const struct xfsm_event *e)
{
	struct pending_event *grown;

	if (m->n_pend == m->cap_pend) {
		size_t cap = m->cap_pend ? 2 * m->cap_pend : 64;

		grown = realloc(m->pend, cap * sizeof(*grown));
		if (!grown) {
			print_event(m, e);	/* in the order read, then */
			return;
		}
		m->pend = grown;
		m->cap_pend = cap;
	}
	m->pend[m->n_pend].e = *e;
	m->pend[m->n_pend++].seq = m->seq++;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct pending_event *x = a, *y = b;

	if (x->e.ts_ns != y->e.ts_ns)
		return x->e.ts_ns < y->e.ts_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print the queued events old enough (all of them with `all`), oldest
 * first; keep the others. */
static void flush_pending(struct monitor *m, bool all)
{
	__u64 now = xfsm_now_ns();
	size_t i = 0;

	qsort(m->pend, m->n_pend, sizeof(*m->pend), pending_cmp);
	while (i < m->n_pend && (all || m->pend[i].e.ts_ns + PEND_HOLD_NS <= now) &&
	       !(m->max_events && m->events >= m->max_events))
		print_event(m, &m->pend[i++].e);
	if (m->max_events && m->events >= m->max_events)
		i = m->n_pend;		/* -c: the rest is not shown */
	memmove(m->pend, m->pend + i, (m->n_pend - i) * sizeof(*m->pend));
	m->n_pend -= i;
}

static int on_ring_event(void *ctx, void *data, size_t size)
{
	struct xfsm_event e = { 0 };

	memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
	queue_event(ctx, &e);
	return 0;
}

static __u64 lost_now(struct xfsm_instance *inst)
{
	struct xfsm_stats st;

	return xfsm_read_stats(inst, &st) ? 0 : st.exc_events_lost;
}

/* Events the datapath could not write since the monitor started (for any
 * monitor of the instance: they share the ring), reported as they grow. */
static void check_lost(struct monitor *m)
{
	__u64 now = lost_now(m->inst);

	m->lost = now >= m->lost_base ? now - m->lost_base : 0;
	if (m->lost == m->lost_shown)
		return;
	open_json_object(NULL);
	print_time(m, xfsm_now_ns());
	print_string(PRINT_JSON, "event", NULL, "lost");
	print_text("%-9s", "[LOST]");
	print_uint(PRINT_ANY, "lost", "%llu event(s) lost so far: the ring was full",
		   (unsigned long long)m->lost);
	print_nl();
	close_json_object();
	print_flush();
	fflush(stdout);
	m->lost_shown = m->lost;
}

/* A new application: names from it. */
static void check_generation(struct monitor *m)
{
	struct xfsm_ctl ctl;

	if (xfsm_ctl_get(m->inst, &ctl) || ctl.generation == m->r.generation)
		return;
	flow_printer_reset(&m->fp);
	running_free(&m->r);
	if (running_load(m->inst, &m->r, false))
		memset(&m->r, 0, sizeof(m->r));
}

/* ---- The command ------------------------------------------------------------ */

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static void drain_sock(struct monitor *m, int fd)
{
	struct xfsm_event e;
	ssize_t n;

	while ((n = recv(fd, &e, sizeof(e), MSG_DONTWAIT)) > 0)
		if ((size_t)n == sizeof(e))
			queue_event(m, &e);
}

/* Leave the registry; the last monitor to leave clears the bit. */
static void reg_leave(struct xfsm_instance *inst, const char *dir, int sock,
		      const struct sockaddr_un *sa)
{
	int lock = reg_lock(dir);

	close(sock);
	unlink_sock(sa->sun_path);
	if (reg_scan(dir, NULL, 0, NULL) == 0)
		xfsm_ctl_set_observe(inst, XFSM_OBS_EVENTS, false);
	if (lock >= 0)
		close(lock);
}

static int monitor_run(struct monitor *m)
{
	struct ring_buffer *rb = NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	struct sigaction sa_stop = { .sa_handler = on_stop };
	struct sockaddr_un sa;
	char dir[128], name[24];
	int err, lock, sock = -1, ep = -1;
	__u64 next_tick;

	if (m->inst->map_fd[XFSM_M_EVENTS] < 0) {
		p_err("instance %s has no flow event ring (%s): the offload profile has none, and a datapath loaded by an older xfsm-loader neither; reload it",
		      m->inst->name, XFSM_MAP_EVENTS);
		return -EOPNOTSUPP;
	}
	rb = ring_buffer__new(m->inst->map_fd[XFSM_M_EVENTS], on_ring_event, m, NULL);
	if (!rb) {
		err = -errno;
		p_err("cannot read the flow event ring %s: %s", XFSM_MAP_EVENTS, strerror(-err));
		return err;
	}
	err = reg_dir(m->inst, dir, sizeof(dir));
	if (!err)
		err = sock_addr(dir, (snprintf(name, sizeof(name), "%ld", (long)getpid()), name),
				&sa);
	if (err) {
		p_err("monitor registry path too long");
		goto out_rb;
	}
	lock = reg_lock(dir);
	if (lock < 0) {
		err = lock;
		goto out_rb;
	}
	/* One reader per ring: a BPF ring buffer has one consumer position,
	 * which two readers would advance past each other's records.  (The
	 * scan removes the sockets of killed monitors.) */
	{
		long pid;

		if (reg_scan(dir, &pid, 1, NULL) > 0) {
			p_err("the flow events of instance %s are already monitored by pid %ld (one monitor per instance: the event ring has one reader)",
			      m->inst->name, pid);
			close(lock);
			err = -EBUSY;
			goto out_rb;
		}
	}
	unlink_sock(sa.sun_path);	/* a dead process of the same pid */
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		p_err("cannot bind %s: %s", sa.sun_path, strerror(-err));
		if (sock >= 0)
			close(sock);
		close(lock);
		goto out_rb;
	}
	m->lost_base = m->lost_shown = lost_now(m->inst);
	err = xfsm_ctl_set_observe(m->inst, XFSM_OBS_EVENTS, true);
	close(lock);
	if (err) {
		p_err("cannot turn flow events on: %s", strerror(-err));
		goto out_leave;
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = ring_buffer__epoll_fd(rb);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
		err = -errno;
		p_err("epoll: %s", strerror(-err));
		goto out_leave;
	}
	ev.data.fd = sock;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev)) {
		err = -errno;
		p_err("epoll: %s", strerror(-err));
		goto out_leave;
	}
	sigaction(SIGINT, &sa_stop, NULL);
	sigaction(SIGTERM, &sa_stop, NULL);
	sigaction(SIGHUP, &sa_stop, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed output ends the monitor, cleanly */
	m->mono_to_real = clock_offset();
	/* readiness, for scripts: events from here on are seen */
	fprintf(stderr, "xfsmctl: monitoring flow events of instance %s%s%s (Ctrl-C to stop)\n",
		m->inst->name, m->stage >= 0 ? ", stage " : "",
		m->stage >= 0 ? stage_name(m->r.nm, (unsigned int)m->stage, name, sizeof(name)) : "");
	fflush(stderr);
	m->started = true;
	next_tick = xfsm_now_ns() + 1000000000ULL;
	while (!stop_sig && !m->out_closed &&
	       !(m->max_events && m->events >= m->max_events)) {
		struct epoll_event got[2];
		/* The datapath wakes the reader only for a burst
		 * (bpf/events.h): the ring is read every 100 ms. */
		int n = epoll_wait(ep, got, 2, 100);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			p_err("epoll_wait: %s", strerror(-err));
			break;
		}
		ring_buffer__consume(rb);
		drain_sock(m, sock);
		flush_pending(m, false);
		if (xfsm_now_ns() >= next_tick) {
			check_lost(m);
			check_generation(m);
			next_tick = xfsm_now_ns() + 1000000000ULL;
		}
	}
	ring_buffer__consume(rb);
	drain_sock(m, sock);
	flush_pending(m, true);
	check_lost(m);
out_leave:
	reg_leave(m->inst, dir, sock, &sa);
	if (ep >= 0)
		close(ep);
out_rb:
	ring_buffer__free(rb);
	return err;
}

static int monitor_status(struct xfsm_instance *inst, bool stop)
{
	static const char *const obs_names[] = { "trace", "capture", "monitor" };
	long pids[MONITOR_MAX];
	struct xfsm_ctl ctl;
	int n, stale, lock = -1, err;
	char dir[128];

	err = reg_dir(inst, dir, sizeof(dir));
	if (err)
		return err;
	if (stop) {
		lock = reg_lock(dir);
		if (lock < 0)
			return lock;
	}
	n = reg_scan(dir, pids, MONITOR_MAX, &stale);
	if (n < 0) {
		err = n;
		p_err("cannot read the monitor registry %s: %s", dir, strerror(-err));
		goto out;
	}
	/* no monitor listens: a killed one's bit is cleared */
	if (stop && n == 0) {
		err = xfsm_ctl_set_observe(inst, XFSM_OBS_EVENTS, false);
		if (err) {
			p_err("cannot turn flow events off: %s", strerror(-err));
			goto out;
		}
	}
	err = xfsm_ctl_get(inst, &ctl);
	if (err) {
		p_err("cannot read %s: %s", XFSM_MAP_CTL, strerror(-err));
		goto out;
	}
	open_json_object(NULL);
	print_uint(PRINT_JSON, "observe", NULL, ctl.observe);
	open_json_array("observers");
	print_text("observers:");
	for (unsigned int i = 0; i < 3; i++)
		if (ctl.observe & (1U << i))
			print_string(PRINT_ANY, NULL, " %s", obs_names[i]);
	if (!(ctl.observe & 7))
		print_text(" none");
	close_json_array();
	print_nl();
	print_bool(PRINT_JSON, "events", NULL, ctl.observe & XFSM_OBS_EVENTS);
	print_text("flow events: %s\n", ctl.observe & XFSM_OBS_EVENTS ? "on" : "off");
	open_json_array("monitors");
	print_text("monitors: %d listening", n);
	for (int i = 0; i < n && i < MONITOR_MAX; i++)
		print_int(PRINT_ANY, NULL, i ? ", %lld" : " (pid %lld", pids[i]);
	if (n)
		print_text(")");
	close_json_array();
	print_nl();
	print_int(PRINT_ANY, "stale_removed", stale ? "removed %lld registration(s) of killed monitors\n" : NULL, stale);
	if (stop && n)
		print_text("flow events left on: %d monitor(s) still listening\n", n);
	close_json_object();
	print_flush();
out:
	if (lock >= 0)
		close(lock);
	return err;
}

const char monitor_notes[] =
	"Prints flow events as they happen, one line each (-j: JSON lines):\n"
	"new, update (from, to, rule), idle_expire and hard_expire (from, to:\n"
	"the rollback state), table_full (a new flow not stored), delete and\n"
	"flush (made with 'xfsmctl state del/flush'), lost (the ring was full).\n"
	"Expiry is lazy: it is seen at the next lookup of the flow, so the event\n"
	"comes with that packet and says how long before the timeout expired.\n"
	"The kernel reports no LRU eviction: a flow the LRU table evicts has no\n"
	"event.  STAGE shows one stage's events ('stage NAME' for a stage named\n"
	"status or stop); -c COUNT exits after COUNT events.\n"
	"One monitor per instance: a second one is refused.  While it runs the\n"
	"datapath writes events; when it exits it turns them off.  'monitor\n"
	"status' shows the observers and the monitor listening; 'monitor stop'\n"
	"turns events off after a killed monitor (SIGKILL), as the next\n"
	"monitor's start and exit do.\n";

int do_monitor(struct args *a)
{
	struct monitor m = { .stage = -1 };
	const char *w, *stage = NULL;
	int err, mode = 0;	/* 1: status, 2: stop */

	if (arg_kw(a, "status")) {
		mode = 1;
	} else if (arg_kw(a, "stop")) {
		mode = 2;
	} else {
		while ((w = arg_take(a))) {
			if (!strcmp(w, "-c") || !strcmp(w, "--count")) {
				const char *v = arg_next(a, "COUNT after -c");

				if (!v || arg_u64("-c", v, 1, ~0ULL, &m.max_events))
					return -EINVAL;
			} else if (*w == '-') {
				return usage_err(a, "unknown option '%s' (expected -c COUNT)", w);
			} else if (stage) {
				return usage_err(a, "unexpected argument '%s' (one STAGE)", w);
			} else if (!strcmp(w, "stage")) {
				stage = arg_next(a, "the STAGE after 'stage'");
				if (!stage)
					return -EINVAL;
			} else {
				stage = w;
			}
		}
	}
	if (arg_end(a))
		return -EINVAL;
	err = open_instance(&m.inst);
	if (err)
		return err;
	xfsm_dp_release(m.inst);	/* see lib/xfsm_datapath.h */
	if (mode) {
		err = monitor_status(m.inst, mode == 2);
		goto out;
	}
	err = running_load(m.inst, &m.r, false);
	if (err)
		goto out;
	if (stage) {
		m.stage = xfsm_lang_stage_by_name(m.r.nm, stage);
		if (m.stage < 0) {
			err = usage_err(a, "unknown stage '%s' (see 'xfsmctl show stages')", stage);
			goto out_r;
		}
	}
	err = monitor_run(&m);
	if (!m.started)
		goto out_r;
	/* the summary: on stderr in text, a last JSON line with -j */
	open_json_object(NULL);
	open_json_object("summary");
	print_uint(PRINT_JSON, "events", NULL, m.events);
	print_uint(PRINT_JSON, "lost", NULL, m.lost);
	close_json_object();
	close_json_object();
	print_flush();
	if (!is_json() && !err)
		fprintf(stderr, "xfsmctl: %llu flow event(s) shown, %llu lost\n",
			(unsigned long long)m.events, (unsigned long long)m.lost);
out_r:
	free(m.pend);
	flow_printer_reset(&m.fp);
	running_free(&m.r);
out:
	xfsm_instance_close(m.inst);
	return err;
}
