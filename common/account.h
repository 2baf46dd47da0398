/*
 * account.h - the format rules of account fields, shared by the API handlers and
 * stremoractl: username 3-30 of [a-z0-9_.-]; email a dot-atom local part (RFC 5322
 * section 3.2.3, no quoted forms) at a DNS name with a letters-only TLD; display names
 * without control or format characters (no bidirectional overrides, no zero-width ones);
 * passwords that cracklib cannot guess. Lengths in code points are checked by js_fields.
 */
#ifndef STREMORA_ACCOUNT_H
#define STREMORA_ACCOUNT_H

#include <stdbool.h>

#include "str.h"

struct arena;

/* True if s is 3-30 bytes of [a-z0-9_.-]. */
bool account_valid_username(struct str s);
/* True if s is a name kept for the service (admin, root, support, route words...). */
bool account_username_is_reserved(struct str s);
/* Returns NULL for a password hard to guess, else cracklib's reason (static text). A
 * missing dictionary is logged and lets every password through. */
const char *account_password_weakness(struct arena *a, struct str pw, const char *username);
/* True if s is a syntactically valid email address of at most MAX_EMAIL bytes. */
bool account_valid_email(struct str s);
/* True if s holds no control or format character and is not only blanks. */
bool account_valid_display_name(struct str s);

#endif
