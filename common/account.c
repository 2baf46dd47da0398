/*
 * account.c - format rules for account fields (see account.h). Guessable passwords are
 * cracklib's verdict (Debian's libcrack2 and its dictionary: words, common passwords,
 * the user's own name, too few different characters), with one exception: its check for
 * "simplistic/systematic" strings also flags long random strings from password managers
 * (about 1 in 80 random 20-hex-digit ones), so it counts only below CRACK_SYSTEMATIC_MIN.
 * cracklib reads bytes and knows only ASCII words: of a password that is mostly other
 * scripts it judges the few ASCII letters left (or the UTF-8 bytes), so its verdict counts
 * only for passwords with at least CRACK_ASCII_MIN ASCII characters or no others.
 */
#include "account.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <crack.h>

#include "arena.h"
#include "bounds.h"
#include "log.h"

#define CRACK_SYSTEMATIC_MIN 12 /* characters from which "systematic" alone is no verdict */
#define CRACK_ASCII_MIN      MIN_PASSWORD /* ASCII characters cracklib needs to judge */

/* Names that could pass for the service, its staff or a route: nobody may register them. */
static const char *const reserved[] = {
    "abuse",      "about",    "account",   "admin",     "administrator", "all",      "anonymous",
    "api",        "app",      "assets",    "auth",      "channel",       "channels", "comments",
    "dashboard",  "everyone", "feed",      "guest",     "health",        "help",     "here",
    "hostmaster", "info",     "login",     "logout",    "mail",          "media",    "me",
    "metrics",    "mod",      "moderator", "new",       "no-reply",      "nobody",   "noreply",
    "null",       "official", "owner",     "playlists", "postmaster",    "posts",    "register",
    "root",       "search",   "security",  "settings",  "signin",        "signup",   "staff",
    "static",     "stremora", "support",   "system",    "team",          "trending", "undefined",
    "upload",     "uploads",  "users",     "videos",    "watch",         "web",      "webhooks",
    "webmaster",  "www",
};

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
account_username_is_reserved(struct str s)
{
    size_t i;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (str_eq_cstr(s, reserved[i])) {
            return true;
        }
    }
    return false;
}

const char *
account_password_weakness(struct arena *a, struct str pw, const char *username)
{
    const char *verdict;
    size_t ascii = 0, i;
    char *p;

    if ((p = str_cstr(a, pw)) == NULL) {
        return "it holds a NUL byte";
    }
    for (i = 0; i < pw.len; i++) {
        ascii += (unsigned char)pw.p[i] < 0x80;
    }
    if (ascii < pw.len && ascii < CRACK_ASCII_MIN) {
        return NULL;
    }
    verdict = FascistCheckUser(p, GetDefaultCracklibDict(), username, NULL);
    if (verdict == NULL) {
        return NULL;
    }
    if (strstr(verdict, "error loading dictionary") != NULL) {
        log_ev(LOG_ERROR, "cracklib_unavailable", "%s: passwords are not checked", verdict);
        return NULL;
    }
    if (strstr(verdict, "simplistic/systematic") != NULL &&
        str_utf8_len(pw) >= CRACK_SYSTEMATIC_MIN) {
        return NULL;
    }
    return verdict;
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
    return str_is_text(s, STR_NO_FORMAT) && str_trim(s).len > 0;
}
