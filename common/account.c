/*
 * account.c - format rules for account fields (see account.h).
 */
#include "account.h"

#include <ctype.h>
#include <string.h>

#include "bounds.h"

bool
account_valid_username(struct str s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            return false;
        }
    }
    return s.len >= MIN_USERNAME && s.len <= MAX_USERNAME;
}

/* A DNS name of at least two labels, letters/digits/hyphens, TLD of letters. */
static bool
domain_is_valid(struct str d)
{
    size_t i, label = 0, labels = 1, tld_alpha = 1;

    if (d.len == 0 || d.len > 253) {
        return false;
    }
    for (i = 0; i < d.len; i++) {
        char c = d.p[i];

        if (c == '.') {
            if (label == 0 || d.p[i - 1] == '-') {
                return false;
            }
            label = 0;
            labels++;
            tld_alpha = 1;
            continue;
        }
        if (!(isalnum((unsigned char)c) || c == '-') || (label == 0 && c == '-') || ++label > 63) {
            return false;
        }
        tld_alpha &= isalpha((unsigned char)c) ? 1u : 0u;
    }
    return label >= 2 && labels >= 2 && tld_alpha && d.p[d.len - 1] != '-';
}

bool
account_valid_email(struct str s)
{
    struct str local, domain;
    size_t i;

    if (s.len > MAX_EMAIL) {
        return false;
    }
    domain = str_cut(s, '@', &local);
    if (domain.p == NULL || local.len == 0 || local.len > MAX_EMAIL_LOCAL ||
        memchr(domain.p, '@', domain.len) != NULL) {
        return false;
    }
    /* The dot-atom of RFC 5322 section 3.2.3; quoted local parts are not accepted. */
    for (i = 0; i < local.len; i++) {
        char c = local.p[i];

        if (c == '.'
                ? (i == 0 || i + 1 == local.len || local.p[i - 1] == '.')
                : !(isalnum((unsigned char)c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c)))) {
            return false;
        }
    }
    return domain_is_valid(domain);
}

bool
account_valid_display_name(struct str s)
{
    size_t i;

    /* js_fields checked UTF-8 and length; refuse control characters. */
    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];

        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return str_trim(s).len > 0;
}
