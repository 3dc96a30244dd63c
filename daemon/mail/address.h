/*
 * address — plain mail-address utilities (no parsing of display names:
 * GMime does that in message.c).
 *
 * sg_addr_normalize: strip surrounding blanks and <>, lower-case; returns
 *   a new string, or NULL when s is not a plausible local@domain address
 *   (empty parts, blanks or control characters inside, over 320 bytes).
 * sg_addr_is_robot: MAILER-DAEMON, postmaster, owner-*, *-request,
 *   noreply/no-reply/donotreply/do-not-reply local parts (any case).
 * sg_addr_domain: pointer into addr after the last '@', or NULL.
 */
#ifndef SG_ADDRESS_H
#define SG_ADDRESS_H

char *sg_addr_normalize(const char *s);
int sg_addr_is_robot(const char *addr);
const char *sg_addr_domain(const char *addr);

#endif
