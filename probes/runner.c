#include "probes/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probes/array.h"
#include "probes/caps.h"

#define RUNNER_DEFAULT_TIMEOUT_MS 5000
#define RUNNER_DEFAULT_MAX_OUTPUT (1024 * 1024)
#define RUNNER_MAX_OUTPUT_LIMIT   (64 * 1024 * 1024)

/* The child sees only this: a C locale keeps number formats parseable
 * (nvidia-smi prints decimal commas under some locales). */
static char *const runner_env[] = {
    (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    (char *)"LC_ALL=C",
    NULL,
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: only system calls. Any failure is
 * written to err_pipe (which exec closes) and ends the child. */
static void child_exec(const char *const argv[], int in_fd, int out_fd, int err_fd, int err_pipe,
                       uint64_t keep_caps)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	char *const *args;
	sigset_t none;
	int stdin_fd, e;

	/* Its own process group, so that the deadline kills grandchildren
	 * too; default signal dispositions and an empty mask, whatever ours
	 * are. */
	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	stdin_fd = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
	if (stdin_fd < 0 || dup2(stdin_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 ||
	    dup2(err_pipe, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	/* Sockets and files of ours that lack O_CLOEXEC stay ours. */
	if (close_range(4, ~0U, 0) < 0)
		goto fail;
	/* No capability but those asked for (a ruleset dump's), and no way
	 * to gain one: nvidia-smi and sparkmon-fetch parse outside text. */
	e = caps_limit(keep_caps);
	if (e < 0) {
		errno = -e;
		goto fail;
	}
	/* execve's argv type predates const; it does not write to it. */
	memcpy(&args, &argv, sizeof(args));
	execve(argv[0], args, runner_env);
fail:
	e = errno;
	while (write(3, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

static int spawn_child(const char *const argv[], int in_fd, int out_fd, int err_fd,
                       uint64_t keep_caps, pid_t *ret)
{
	int status_pipe[2], e = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(status_pipe, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(status_pipe[0]);
		close(status_pipe[1]);
		return -e;
	}
	if (pid == 0)
		child_exec(argv, in_fd, out_fd, err_fd, status_pipe[1], keep_caps);
	close(status_pipe[1]);
	/* Nothing to read: exec closed the pipe. An errno: it failed. */
	do
		n = read(status_pipe[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(status_pipe[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -(e ? e : EIO);
	}
	*ret = pid;
	return 0;
}

/* Appends what is readable on fd to buf (up to cap); returns bytes read,
 * 0 at EOF, -1 when nothing was ready. Bytes past cap are read and counted
 * but dropped. */
static ssize_t drain(int fd, char *buf, size_t *len, size_t cap, size_t *seen)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? -1 : 0;
	if (n > 0) {
		size_t keep = cap > *len ? cap - *len : 0;

		if ((size_t)n < keep)
			keep = (size_t)n;
		memcpy(buf + *len, chunk, keep);
		*len += keep;
		*seen += (size_t)n;
	}
	return n;
}

struct pipes {
	int in;
	int out[2];
	int err[2];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A memory file holding data, its offset at the start, for a child's
 * stdin. Returns 0 with the descriptor in *ret, or a negative errno. */
static int input_file(const char *data, size_t len, int *ret)
{
	int fd = memfd_create("sparkmon-input", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			close(fd);
			return -e;
		}
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	*ret = fd;
	return 0;
}

/* Reads both pipes until EOF on both, the deadline, or the cap. */
static void collect(struct pipes *p, pid_t pid, long long deadline, size_t cap,
                    struct runner_result *res)
{
	size_t err_len = 0, out_seen = 0, err_seen = 0;

	while (p->out[0] >= 0 || p->err[0] >= 0) {
		struct pollfd fds[2] = {{p->out[0], POLLIN, 0}, {p->err[0], POLLIN, 0}};
		long long left = deadline - now_ms();
		int r;

		if (left <= 0) {
			res->timed_out = true;
			break;
		}
		r = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			break;
		if (fds[0].revents &&
		    drain(p->out[0], res->out, &res->out_len, cap, &out_seen) == 0)
			close_fd(&p->out[0]);
		if (fds[1].revents &&
		    drain(p->err[0], res->err, &err_len, sizeof(res->err) - 1, &err_seen) == 0)
			close_fd(&p->err[0]);
		if (out_seen > cap) {
			res->truncated = true;
			break;
		}
	}
	if (res->timed_out || res->truncated)
		kill(-pid, SIGKILL);
	res->out[res->out_len] = '\0';
	res->err[err_len] = '\0';
}

/* A killed child stuck in uninterruptible sleep (a wedged driver: the
 * reason nvidia-smi hangs at all) does not die until the kernel lets it.
 * The runner waits this long after SIGKILL, then keeps its pid to be
 * reaped by a later run, so that a probe never hangs on its own tool; a
 * run is refused while a child of its tag (by default, of its program) is
 * still there. */
#define RUNNER_KILL_GRACE_MS 1000

struct pending {
	pid_t pid;
	char tag[RUNNER_TAG_MAX];
	long long started_ms;
};

/* Children left behind, and room reserved for each running one: a child
 * is only started with a place to keep it, so none is ever lost. */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pending *pending;
static size_t n_pending, pending_cap, n_reserved;

static int pending_reserve(void)
{
	int r = 0;

	pthread_mutex_lock(&pending_lock);
	while (r == 0 && pending_cap < n_pending + n_reserved + 1)
		r = array_grow((void **)&pending, &pending_cap, pending_cap, sizeof(*pending), 8);
	if (r == 0)
		n_reserved++;
	pthread_mutex_unlock(&pending_lock);
	return r;
}

static void pending_release(void)
{
	pthread_mutex_lock(&pending_lock);
	n_reserved--;
	pthread_mutex_unlock(&pending_lock);
}

/* Moves a running child's reserved place to the list of those left behind. */
static void pending_add(pid_t pid, const char *tag, long long started_ms)
{
	struct pending *p;

	pthread_mutex_lock(&pending_lock);
	p = &pending[n_pending++];
	n_reserved--;
	p->pid = pid;
	snprintf(p->tag, sizeof(p->tag), "%s", tag);
	p->started_ms = started_ms;
	pthread_mutex_unlock(&pending_lock);
}

/* Reaps the children left behind by earlier runs that have died since.
 * Called with pending_lock held. */
static void pending_reap_locked(void)
{
	for (size_t i = 0; i < n_pending;) {
		if (waitpid(pending[i].pid, NULL, WNOHANG) != 0)
			pending[i] = pending[--n_pending]; /* reaped, or not ours any more */
		else
			i++;
	}
}

static void pending_reap(void)
{
	pthread_mutex_lock(&pending_lock);
	pending_reap_locked();
	pthread_mutex_unlock(&pending_lock);
}

int runner_pending(const char *tag, double *ret_age_seconds)
{
	int r = -ENOENT;

	pthread_mutex_lock(&pending_lock);
	pending_reap_locked();
	for (size_t i = 0; i < n_pending && r < 0; i++) {
		if (!tag || strncmp(pending[i].tag, tag, sizeof(pending[i].tag) - 1) == 0) {
			if (ret_age_seconds)
				*ret_age_seconds =
				    (double)(now_ms() - pending[i].started_ms) / 1000.0;
			r = 0;
		}
	}
	pthread_mutex_unlock(&pending_lock);
	return r;
}

/* Waits for the child; returns false when it did not die within the grace
 * after SIGKILL (it is then the caller's to keep). */
static bool reap(pid_t pid, long long deadline, struct runner_result *res)
{
	long long give_up = 0;
	int status;

	/* The pipes are closed but the child may still run (it closed its
	 * stdout early): wait for it under the same deadline. */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return true; /* not ours any more: nothing to keep */
		if (r == 0 && now_ms() >= deadline && !res->timed_out) {
			res->timed_out = true;
			kill(-pid, SIGKILL);
		}
		if (res->timed_out || res->truncated) {
			if (!give_up)
				give_up = now_ms() + RUNNER_KILL_GRACE_MS;
			if (now_ms() >= give_up)
				return false;
		}
		if (r == 0)
			usleep(res->timed_out ? 1000 : 2000);
	}
	if (WIFEXITED(status)) {
		res->exited = true;
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->signaled = true;
		res->signal = WTERMSIG(status);
	}
	return true;
}

int runner_run(const char *const argv[], const struct runner_options *opts,
               struct runner_result *ret)
{
	unsigned timeout = opts && opts->timeout_ms ? opts->timeout_ms : RUNNER_DEFAULT_TIMEOUT_MS;
	const char *tag = opts && opts->tag && opts->tag[0] ? opts->tag : argv ? argv[0] : NULL;
	size_t cap = opts && opts->max_output ? opts->max_output : RUNNER_DEFAULT_MAX_OUTPUT;
	struct pipes p = {-1, {-1, -1}, {-1, -1}};
	struct runner_result res;
	long long start = now_ms(), deadline = start + timeout;
	bool reserved = true;
	pid_t pid = 0;
	int r;

	memset(&res, 0, sizeof(res));
	/* The buffer is allocated whole, so the cap must be a real size. */
	if (cap > RUNNER_MAX_OUTPUT_LIMIT)
		cap = RUNNER_MAX_OUTPUT_LIMIT;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return -EINVAL;
	/* Reaps the dead ones first; one of this tag still there is busy. */
	pending_reap();
	if (runner_pending(tag, NULL) == 0)
		return -EBUSY;
	res.out = malloc(cap + 1);
	if (!res.out)
		return -ENOMEM;
	if (pending_reserve() < 0) {
		free(res.out);
		return -ENOMEM;
	}
	/* Only our read ends are non-blocking: a child whose stdout is
	 * non-blocking gets EAGAIN once the pipe is full, and most programs
	 * treat that as a write error and quit. */
	if (pipe2(p.out, O_CLOEXEC) < 0 || pipe2(p.err, O_CLOEXEC) < 0 ||
	    fcntl(p.out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(p.err[0], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	if (opts && opts->input) {
		r = input_file(opts->input, opts->input_len, &p.in);
		if (r < 0)
			goto out;
	}
	r = spawn_child(argv, p.in, p.out[1], p.err[1], opts ? opts->keep_caps : 0, &pid);
	close_fd(&p.in);
	close_fd(&p.out[1]);
	close_fd(&p.err[1]);
	if (r < 0)
		goto out;
	collect(&p, pid, deadline, cap, &res);
	close_fd(&p.out[0]);
	close_fd(&p.err[0]);
	if (reap(pid, deadline, &res))
		pending_release();
	else
		pending_add(pid, tag, start);
	reserved = false;
	res.duration_seconds = (double)(now_ms() - start) / 1000.0;
	*ret = res;
	res.out = NULL;
	r = 0;
out:
	if (reserved)
		pending_release();
	close_fd(&p.in);
	close_fd(&p.out[0]);
	close_fd(&p.out[1]);
	close_fd(&p.err[0]);
	close_fd(&p.err[1]);
	free(res.out);
	return r;
}

void runner_result_free(struct runner_result *res)
{
	if (!res)
		return;
	free(res->out);
	res->out = NULL;
}

void runner_describe(const struct runner_result *res, char *buf, size_t size)
{
	if (res->timed_out)
		snprintf(buf, size, "timed out after %.1f s", res->duration_seconds);
	else if (res->truncated)
		snprintf(buf, size, "output over %zu bytes", res->out_len);
	else if (res->signaled)
		snprintf(buf, size, "killed by signal %d", res->signal);
	else
		snprintf(buf, size, "exit code %d", res->exit_code);
}
