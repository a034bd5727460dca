/* Password checks away from the polling threads, and the backoff of
 * addresses that guess.
 *
 * Why: bcrypt takes a quarter of a second at cost 12 by design; run on a
 * listener's only polling thread, a few wrong passwords at once stall
 * every other client of that address. Here a request that needs a check
 * is suspended (libmicrohttpd keeps it aside), its credentials go to one
 * of AUTHPOOL_WORKERS threads, and the worker resumes it with the answer.
 * So at most that many checks run at once. Each client address has at
 * most one check queued or running, so one guesser cannot fill the queue
 * ahead of others; each wrong password makes its address wait twice as
 * long as the last before its next check (up to AUTHPOOL_BACKOFF_MAX_MS),
 * answered 429 with Retry-After meanwhile; a right one forgets it. */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/log.h"
#include "web/serverimpl.h"

#define AUTHPOOL_QUEUE_MAX      32
#define AUTHPOOL_BACKOFF_MIN_MS 1000
#define AUTHPOOL_BACKOFF_MAX_MS 60000

/* Compares in time that depends only on the lengths' maximum. */
static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
	unsigned char diff = la != lb;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)((i < la ? a[i] : 0) ^ (i < lb ? b[i] : 0));
	return diff == 0;
}

/* The entry of addr, made (in place of the longest quiet one that has no
 * check under way) when make is set; NULL when none. Lock held. */
static struct auth_backoff *entry(struct authpool *p, const struct conn_addr *addr, bool make)
{
	struct auth_backoff *free_one = NULL;

	for (size_t i = 0; i < AUTHPOOL_ADDRESSES; i++) {
		struct auth_backoff *b = &p->table[i];

		if (b->used && b->addr.family == addr->family &&
		    memcmp(b->addr.bytes, addr->bytes, sizeof(addr->bytes)) == 0)
			return b;
		if (!b->pending &&
		    (!free_one || !b->used || (free_one->used && b->seen_ms < free_one->seen_ms)))
			free_one = b;
	}
	if (!make || !free_one)
		return NULL;
	memset(free_one, 0, sizeof(*free_one));
	free_one->used = true;
	free_one->addr = *addr;
	return free_one;
}

unsigned authpool_retry_after(struct authpool *p, const struct conn_addr *addr, uint64_t now)
{
	struct auth_backoff *b;
	unsigned s = 0;

	pthread_mutex_lock(&p->lock);
	b = entry(p, addr, false);
	if (b && b->pending)
		s = 1;
	else if (b && b->until_ms > now)
		s = (unsigned)((b->until_ms - now + 999) / 1000);
	pthread_mutex_unlock(&p->lock);
	return s;
}

struct auth_job *authpool_reserve(struct authpool *p, const struct conn_addr *addr,
                                  const char *user, const char *pass, uint64_t now)
{
	struct auth_job *job = NULL;
	struct auth_backoff *b;

	if (strlen(user) >= sizeof(job->user) || strlen(pass) >= sizeof(job->pass))
		return NULL;
	pthread_mutex_lock(&p->lock);
	b = entry(p, addr, true);
	if (b && !b->pending && b->until_ms <= now && p->queued < AUTHPOOL_QUEUE_MAX &&
	    !p->stopping)
		job = calloc(1, sizeof(*job));
	if (job) {
		b->pending = true;
		b->seen_ms = now;
		p->queued++;
		job->addr = *addr;
		strcpy(job->user, user);
		strcpy(job->pass, pass);
	}
	pthread_mutex_unlock(&p->lock);
	return job;
}

void authpool_submit(struct authpool *p, struct auth_job *job, struct MHD_Connection *c)
{
	job->c = c;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void authpool_forgive(struct authpool *p, const struct conn_addr *addr)
{
	struct auth_backoff *b;

	pthread_mutex_lock(&p->lock);
	b = entry(p, addr, false);
	if (b) {
		b->failures = 0;
		b->until_ms = 0;
	}
	pthread_mutex_unlock(&p->lock);
}

bool authpool_finish(struct authpool *p, struct auth_job *job, uint64_t now)
{
	bool ok = job->ok;
	struct auth_backoff *b;

	pthread_mutex_lock(&p->lock);
	b = entry(p, &job->addr, false);
	if (b) {
		b->pending = false;
		b->seen_ms = now;
		if (ok) {
			b->failures = 0;
			b->until_ms = 0;
		} else {
			uint64_t wait = AUTHPOOL_BACKOFF_MIN_MS;

			for (unsigned i = 0; i < b->failures && wait < AUTHPOOL_BACKOFF_MAX_MS; i++)
				wait *= 2;
			if (wait > AUTHPOOL_BACKOFF_MAX_MS)
				wait = AUTHPOOL_BACKOFF_MAX_MS;
			b->failures++;
			b->until_ms = now + wait;
		}
	}
	pthread_mutex_unlock(&p->lock);
	explicit_bzero(job, sizeof(*job));
	free(job);
	return ok;
}

/* One check: bcrypt runs for a wrong user too, so that timing does not
 * tell users apart. */
static bool check(struct authpool *p, const char *user, const char *pass)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	char want_user[CONFIG_TEXT_MAX], hash[CONFIG_TEXT_MAX];
	bool ok = false;

	pthread_mutex_lock(&p->lock);
	memcpy(want_user, p->user, sizeof(want_user));
	memcpy(hash, p->hash, sizeof(hash));
	pthread_mutex_unlock(&p->lock);
	if (data) {
		const char *hashed = crypt_r(pass, hash, data);
		bool user_ok = equal_ct(user, want_user);
		bool pass_ok = hashed && hashed[0] != '*' && equal_ct(hashed, hash);

		ok = user_ok & pass_ok;
		explicit_bzero(data, sizeof(*data));
		free(data);
	}
	return ok;
}

static void *worker(void *arg)
{
	struct authpool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct auth_job *job;
		struct MHD_Connection *c;

		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		job = p->head;
		if (!job)
			break; /* stopping, and nothing left */
		p->head = job->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		/* Denied unchecked when stopping: the daemons are going. */
		job->ok = !p->stopping && check(p, job->user, job->pass);
		explicit_bzero(job->pass, sizeof(job->pass));
		c = job->c;
		/* The job is the request's again from here on. */
		MHD_resume_connection(c);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void authpool_apply(struct authpool *p, const struct config *cfg)
{
	pthread_mutex_lock(&p->lock);
	memcpy(p->user, cfg->http_auth_user, sizeof(p->user));
	memcpy(p->hash, cfg->http_auth_bcrypt, sizeof(p->hash));
	pthread_mutex_unlock(&p->lock);
}

int authpool_start(struct authpool *p, const struct config *cfg)
{
	int r = 0;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	p->initialized = true;
	authpool_apply(p, cfg);
	for (size_t i = 0; i < AUTHPOOL_WORKERS && r == 0; i++) {
		r = pthread_create(&p->workers[i], NULL, worker, p);
		if (r == 0)
			p->n_workers++;
	}
	return -r;
}

void authpool_stop(struct authpool *p)
{
	if (!p->initialized)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->n_workers; i++)
		pthread_join(p->workers[i], NULL);
	p->n_workers = 0;
}

void authpool_free(struct authpool *p)
{
	if (!p->initialized)
		return;
	authpool_stop(p);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	explicit_bzero(p->hash, sizeof(p->hash));
	p->initialized = false;
}
