/*
 * lograte — see lograte.h.
 */
#include "config.h"
#include "lib/lograte.h"

#include <pthread.h>
#include <stddef.h>

static struct {
	uint64_t hash;
	int64_t last;
	unsigned held;
} slots[SG_LOGRATE_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h | 1;   /* 0 marks an empty slot */
}

int
sg_lograte_allow(const char *key, int64_t now, int window, unsigned *suppressed)
{
	uint64_t h = fnv1a(key ? key : "");
	size_t i = (size_t)(h % SG_LOGRATE_SLOTS);
	int allow;

	pthread_mutex_lock(&lock);
	if (slots[i].hash != h || now - slots[i].last >= window) {
		/* a new key takes the slot; an old one's window is over */
		if (suppressed != NULL)
			*suppressed = slots[i].hash == h ? slots[i].held : 0;
		slots[i].hash = h;
		slots[i].last = now;
		slots[i].held = 0;
		allow = 1;
	} else {
		slots[i].held++;
		allow = 0;
	}
	pthread_mutex_unlock(&lock);
	return allow;
}
