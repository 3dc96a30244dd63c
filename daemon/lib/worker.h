/*
 * worker — a background thread that makes a pass every period seconds,
 * or at once when kicked, until stopped: the outbound worker and the
 * ticket timers are two of them.
 *
 * pass(arg) returns 1 when there is more to do at once (no wait), else 0;
 * it may set w->wait to wake sooner than the period once (a timer due in
 * a few seconds).
 * sg_worker_start(): 0, or -1 when the thread cannot be made.
 * sg_worker_kick(): wake it for a pass now (cheap; from any thread).
 * sg_worker_stop(): ask it to stop after the pass in progress and join;
 *   safe when never started and when called twice.
 * The struct belongs to the caller and must outlive the thread; zero it
 * (or use SG_WORKER_INIT) before the first start.
 */
#ifndef SG_WORKER_H
#define SG_WORKER_H

#include <pthread.h>

struct sg_worker {
	int (*pass)(void *arg);
	void *arg;
	int period;                 /* seconds between passes */
	int wait;                   /* set by pass: wait this many seconds (1..period) before the next, once */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop, kicked, running;
};

#define SG_WORKER_INIT(fn, a, secs) \
	{ .pass = (fn), .arg = (a), .period = (secs), .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER }

int sg_worker_start(struct sg_worker *w);
void sg_worker_kick(struct sg_worker *w);
void sg_worker_stop(struct sg_worker *w);

#endif
