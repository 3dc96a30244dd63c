/* fuzz-record — the on-disk record decoders must refuse, never overread. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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
	return 0;
}
