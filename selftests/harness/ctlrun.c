/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctlrun.h"
#include "suite.h"

#define PIN_ROOT	"/sys/fs/bpf"
#define RODATA_PIN	"xfsm_rodata"

#if defined(__x86_64__)
#define XT_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define XT_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#else
#error "ctlrun: add this architecture's AUDIT_ARCH_*"
#endif

/* ---- Pins ---------------------------------------------------------------------- */

static bool is_rodata(const char *name)
{
	size_t n = strlen(name);

	return n >= 7 && !strcmp(name + n - 7, ".rodata");
}

int xt_pin_instance(struct xt *t, const char *tag, char *dir, size_t len)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err = 0;

	if (!t->obj)
		return -EINVAL;
	snprintf(dir, len, "%s/xt%d-%s", PIN_ROOT, (int)getpid(), tag);
	xt_unpin_instance(dir);
	if (mkdir(dir, 0700))
		return -errno;
	bpf_object__for_each_map(map, t->obj) {
		const char *name = bpf_map__name(map);

		if (is_rodata(name))
			snprintf(path, sizeof(path), "%s/%s", dir, RODATA_PIN);
		else if (!strncmp(name, "xfsm_", 5))
			snprintf(path, sizeof(path), "%s/%s", dir, name);
		else
			continue;
		if (bpf_obj_pin(bpf_map__fd(map), path)) {
			err = -errno;
			break;
		}
	}
	if (err)
		xt_unpin_instance(dir);
	return err;
}

void xt_unpin_instance(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	/* Only what xt_pin_instance() makes: xfsm_* pins, in its directory. */
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "xfsm_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* ---- A suite's setting -------------------------------------------------------------- */

void xt_ctl_env_open(struct xt_ctl_env *e, const char *tag)
{
	memset(e, 0, sizeof(*e));
	suite_open_native();
	if (!T.obj)
		return;
	snprintf(e->tmp_dir, sizeof(e->tmp_dir), "/tmp/xt%d-%s-XXXXXX", (int)getpid(), tag);
	if (!mkdtemp(e->tmp_dir)) {
		e->tmp_dir[0] = 0;
		return;
	}
	if (xt_pin_instance(&T, tag, e->pin_dir, sizeof(e->pin_dir)))
		e->pin_dir[0] = 0;
}

void xt_ctl_env_close(struct xt_ctl_env *e)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (e->pin_dir[0])
		xt_unpin_instance(e->pin_dir);
	if (e->tmp_dir[0] && (d = opendir(e->tmp_dir))) {
		while ((de = readdir(d)))
			if (de->d_type == DT_REG) {
				snprintf(path, sizeof(path), "%s/%s", e->tmp_dir, de->d_name);
				unlink(path);
			}
		closedir(d);
		rmdir(e->tmp_dir);
	}
	suite_close();
}

bool xt_ctl_env_file(struct xt_ctl_env *e, const char *name, const char *text,
		     char *path, size_t len)
{
	FILE *f;
	bool ok;

	if (!e->tmp_dir[0] || (size_t)snprintf(path, len, "%s/%s", e->tmp_dir, name) >= len)
		return false;
	f = fopen(path, "w");
	ok = f && fputs(text, f) >= 0;
	if (f && fclose(f))
		ok = false;
	return ok;
}

/* ---- Running xfsmctl ---------------------------------------------------------------- */

static char **ctl_argv(const char *dir, char *const args[])
{
	static char exe[PATH_MAX];
	size_t n = 0, i;
	char **av;

	while (args[n])
		n++;
	av = calloc(n + 4, sizeof(*av));
	if (!av)
		return NULL;
	snprintf(exe, sizeof(exe), "%s/xfsmctl", xt_build_dir());
	av[0] = exe;
	av[1] = "--pin-dir";
	av[2] = (char *)dir;
	for (i = 0; i < n; i++)
		av[3 + i] = args[i];
	return av;
}

int xt_ctl(const char *dir, char *out, size_t outlen, char *const args[])
{
	char **av = ctl_argv(dir, args);
	int pfd[2], status;
	size_t got = 0;
	pid_t pid;

	if (!av)
		return -ENOMEM;
	if (pipe2(pfd, O_CLOEXEC)) {
		free(av);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		free(av);
		return -errno;
	}
	if (!pid) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execv(av[0], av);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char buf[4096];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		if (out && outlen && got < outlen - 1) {
			size_t k = (size_t)n < outlen - 1 - got ? (size_t)n : outlen - 1 - got;

			memcpy(out + got, buf, k);
			got += k;
		}
	}
	if (out && outlen)
		out[got] = '\0';
	close(pfd[0]);
	free(av);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void quiet_child(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
}

int xt_forbid_syscall(long nr)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, XT_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (__u32)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ? -errno : 0;
}

/* Every bpf() call of this process (and what it execs) waits for the
 * listener's answer. */
static int bpf_listener(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, XT_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
		       SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* Run xfsmctl with every bpf() call stopped until this process lets it
 * run: killed before call kill_at (0: never), each call's command counted
 * in cmds (may be NULL). */
static int ctl_watch_bpf(const char *dir, char *const args[], unsigned int kill_at,
			 int *status, unsigned int cmds[XT_BPF_CMDS])
{
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	char **av = ctl_argv(dir, args);
	int sv[2] = { -1, -1 }, lfd = -1, pfd = -1, calls = 0, err = 0;
	pid_t pid = -1;

	*status = 0;
	if (!av)
		return -ENOMEM;
	if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		goto out;
	}
	req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
	resp = calloc(1, sizes.seccomp_notif_resp > sizeof(*resp) ?
			 sizes.seccomp_notif_resp : sizeof(*resp));
	if (!req || !resp) {
		err = -ENOMEM;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (!pid) {
		int fd;

		quiet_child();
		fd = bpf_listener();
		if (fd < 0 || send_fd(sv[1], fd))
			_exit(126);
		close(fd);
		execv(av[0], av);
		_exit(127);
	}
	close(sv[1]);
	sv[1] = -1;
	lfd = recv_fd(sv[0]);
	/* The process's end: its pidfd becomes readable (Linux 6.1 signals
	 * nothing on the listener until the process is reaped). */
	pfd = syscall(__NR_pidfd_open, pid, 0);
	if (lfd < 0 || pfd < 0) {
		err = lfd < 0 ? -EIO : -errno;
		kill(pid, SIGKILL);
		goto wait;
	}
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = lfd, .events = POLLIN },
			{ .fd = pfd, .events = POLLIN },
		};
		int r = poll(p, 2, 120000);

		if (r <= 0) {
			err = r ? -errno : -ETIMEDOUT;
			kill(pid, SIGKILL);
			break;
		}
		if (!(p[0].revents & POLLIN)) {
			if (p[1].revents)
				break;	/* the process is gone */
			continue;
		}
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, req)) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			err = -errno;
			kill(pid, SIGKILL);
			break;
		}
		calls++;
		if (cmds && req->data.args[0] < XT_BPF_CMDS)
			cmds[req->data.args[0]]++;
		if (kill_at && (unsigned int)calls == kill_at) {
			kill(pid, SIGKILL);
			break;
		}
		memset(resp, 0, sizes.seccomp_notif_resp);
		resp->id = req->id;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, resp);	/* ENOENT: it died */
	}
wait:
	if (waitpid(pid, status, 0) < 0 && !err)
		err = -errno;
out:
	if (pfd >= 0)
		close(pfd);
	if (lfd >= 0)
		close(lfd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(req);
	free(resp);
	free(av);
	return err ? err : calls;
}

int xt_ctl_kill_at_bpf(const char *dir, char *const args[], unsigned int kill_at,
		       int *status)
{
	return ctl_watch_bpf(dir, args, kill_at, status, NULL);
}

int xt_ctl_bpf_cmds(const char *dir, char *const args[], unsigned int cmds[XT_BPF_CMDS],
		    int *status)
{
	memset(cmds, 0, XT_BPF_CMDS * sizeof(cmds[0]));
	return ctl_watch_bpf(dir, args, 0, status, cmds);
}

int xt_ctl_kill_after(const char *dir, char *const args[], unsigned int usec, int *status)
{
	char **av = ctl_argv(dir, args);
	struct timespec ts = { usec / 1000000, (long)(usec % 1000000) * 1000 };
	pid_t pid;

	*status = 0;
	if (!av)
		return -ENOMEM;
	pid = fork();
	if (pid < 0) {
		free(av);
		return -errno;
	}
	if (!pid) {
		quiet_child();
		execv(av[0], av);
		_exit(127);
	}
	free(av);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	kill(pid, SIGKILL);
	return waitpid(pid, status, 0) < 0 ? -errno : 0;
}
