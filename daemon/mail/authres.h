/*
 * authres — reading Authentication-Results (RFC 8601) to prove an author.
 *
 * sg_authres_pass(): 1 when value (one Authentication-Results field body)
 *   comes from one of the trusted authserv-ids and reports dkim=pass with
 *   header.d equal to domain, or dmarc=pass with header.from equal to
 *   domain; else 0. Comments in parentheses are ignored, names compare
 *   case-insensitively, a version after the authserv-id is allowed.
 *   Pure and bounded by the value's length. Only fields added by a host
 *   the admin trusts mean anything: the MTA must remove forged ones
 *   (OpenDKIM/OpenDMARC do for their own authserv-id).
 */
#ifndef SG_AUTHRES_H
#define SG_AUTHRES_H

#include "lib/strlist.h"

int sg_authres_pass(const char *value, const struct sg_strlist *trusted, const char *domain);

#endif
