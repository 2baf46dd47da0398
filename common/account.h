/*
 * account.h - the format rules of account fields, shared by the API handlers and
 * stremoractl: username 3-30 of [a-z0-9_.-]; email a dot-atom local part (RFC 5322
 * section 3.2.3, no quoted forms) at a DNS name with a letters-only TLD; display names
 * without control characters. Lengths in code points are checked by js_fields.
 */
#ifndef STREMORA_ACCOUNT_H
#define STREMORA_ACCOUNT_H

#include <stdbool.h>

#include "str.h"

/* True if s is 3-30 bytes of [a-z0-9_.-]. */
bool account_valid_username(struct str s);
/* True if s is a syntactically valid email address of at most MAX_EMAIL bytes. */
bool account_valid_email(struct str s);
/* True if s holds no control character and is not only blanks. */
bool account_valid_display_name(struct str s);

#endif
