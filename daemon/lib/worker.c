/*
 * worker — see worker.h.
 */
#include "config.h"
#include "lib/worker.h"

#include <time.h>

static void *
worker_main(void *arg)
{
	struct sg_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		pthread_mutex_unlock(&w->lock);
		int more = w->pass(w->arg);
		pthread_mutex_lock(&w->lock);
		if (w->stop)
			break;
		if (!w->kicked && !more) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += w->wait > 0 && w->wait < w->period ? w->wait : w->period;
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
		w->kicked = 0;
		w->wait = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int
sg_worker_start(struct sg_worker *w)
{
	w->stop = 0;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return -1;
	w->running = 1;
	return 0;
}

void
sg_worker_kick(struct sg_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->kicked = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void
sg_worker_stop(struct sg_worker *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->running = 0;
}
