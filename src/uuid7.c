/*
 * uuid7.c: sandbox and connection ids, UUID version 7 (RFC 9562).
 *
 * 48 bits of Unix milliseconds, then 12 bits of sub-millisecond fraction
 * (RFC 9562 method 3), then 62 random bits.  The 60-bit timestamp never
 * repeats or goes back within a backend: when the clock has not moved past
 * the last id (same tick, or the clock stepped back) the last value plus one
 * is used, so ordering by id is creation order.
 */
#include "copass.h"

#include <time.h>

static uint64 last_timestamp = 0;	/* ms << 12 | fraction of the last id */

void
copass_uuid7(pg_uuid_t *out)
{
	struct timespec now;
	uint64		timestamp;

	clock_gettime(CLOCK_REALTIME, &now);
	timestamp = ((uint64) now.tv_sec * 1000 + now.tv_nsec / 1000000) << 12 |
		(uint64) (now.tv_nsec % 1000000) * 4096 / 1000000;
	if (timestamp <= last_timestamp)
		timestamp = last_timestamp + 1;
	last_timestamp = timestamp;

	if (!pg_strong_random(&out->data[8], 8))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random sandbox id")));

	for (int i = 0; i < 6; i++)
		out->data[i] = (unsigned char) (timestamp >> (12 + 8 * (5 - i)));
	out->data[6] = 0x70 | (unsigned char) ((timestamp >> 8) & 0x0F);
	out->data[7] = (unsigned char) (timestamp & 0xFF);
	out->data[8] = 0x80 | (out->data[8] & 0x3F);
}
