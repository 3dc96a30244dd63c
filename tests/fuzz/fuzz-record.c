/* fuzz-record — the on-disk record decoders must refuse, never overread:
 * tickets, messages, events, and raw.db's packed values (rawpack.h: an
 * accepted value has the length its header says; the input packed and
 * unpacked again is the same bytes). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "store/rawpack.h"
#include "store/record.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-record"
#include "replay.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sg_ticket t;
	struct sg_msgrec m;
	struct sg_event e;

	if (sg_rec_ticket_decode(data, size, &t) == 0) {
		struct sg_buf b = { 0 };
		sg_rec_ticket_encode(&b, &t);
		struct sg_ticket u;
		if (sg_rec_ticket_decode(b.data, b.len, &u) != 0)
			abort();   /* what we write we must read */
		sg_ticket_clear(&u);
		free(b.data);
		sg_ticket_clear(&t);
	}
	if (sg_rec_msg_decode(data, size, &m) == 0)
		sg_msgrec_clear(&m);
	if (sg_rec_event_decode(data, size, &e) == 0)
		sg_event_clear(&e);

	char *raw = NULL;
	size_t n = 0;
	struct sg_buf b = { 0 };
	sg_log_set_level(SG_LOG_FATAL);   /* refusals are logged: most inputs are refused */
	long long want = sg_raw_packed_len(data, size);
	if (sg_raw_unpack(data, size, 1, &raw, &n) == 0) {
		if (want < 0 || (size_t)want != n || raw[n] != '\0')
			abort();
	} else if (raw != NULL || n != 0) {
		abort();
	}
	free(raw);
	if (sg_raw_pack((const char *)data, size, &b) != 0 || sg_raw_unpack(b.data, b.len, 1, &raw, &n) != 0 ||
	    n != size || (size > 0 && memcmp(raw, data, size) != 0))
		abort();   /* what we pack we must unpack to the same bytes */
	free(raw);
	free(b.data);
	return 0;
}
