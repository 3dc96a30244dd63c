/*
 * retry — the pause before retrying a transaction Berkeley DB's deadlock
 * detector aborted.
 *
 * sg_retry_pause(): sleeps a random time of 1 us to attempt x unit_us
 *   microseconds (attempt >= 1: the number of the retry; nothing for 0).
 *   Two writers that collided and retry at once tend to collide again;
 *   random pauses that grow with the attempts take them out of step. Per
 *   thread random state (no lock, no shared rand()).
 */
#ifndef SG_RETRY_H
#define SG_RETRY_H

void sg_retry_pause(int attempt, unsigned unit_us);

#endif
