/*
 * str.h - client bytes as pointer + length. Nothing that travels as a struct str is
 * assumed to be NUL-terminated; str_cstr() makes a C string for a library and refuses
 * bytes that hold a NUL.
 */
#ifndef STREMORA_STR_H
#define STREMORA_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

struct str {
    const char *p;
    size_t len;
};

#define STR_LIT(s) ((struct str){(s), sizeof(s) - 1})
#define STR_NULL   ((struct str){NULL, 0})

/* Returns s as a str; NULL gives the null str. */
struct str str_from(const char *s);
/* Returns a NUL-terminated copy of s in a, or NULL if s holds a NUL byte or a is full. */
char *str_cstr(struct arena *a, struct str s);
/* Byte equality; case-insensitive ASCII in str_ieq_cstr. */
bool str_eq(struct str a, struct str b);
bool str_eq_cstr(struct str a, const char *b);
bool str_ieq_cstr(struct str a, const char *b);
bool str_has_prefix(struct str s, const char *prefix);
/* Removes leading and trailing spaces and tabs. */
struct str str_trim(struct str s);
/* Splits s at the first c: *head gets what is before, the return value what is after
 * (the null str if c is absent, and then *head is all of s). */
struct str str_cut(struct str s, char c, struct str *head);
/* Reads all of s as a decimal integer in [min, max]. Returns 0, or -1 for anything else
 * (empty, sign, leading zeros beyond "0", non-digits, overflow, out of range). */
int str_to_u64(struct str s, uint64_t min, uint64_t max, uint64_t *out);
/* Returns true if s is valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
bool str_is_utf8(struct str s);
/* Returns the number of code points in s, which must be valid UTF-8. */
size_t str_utf8_len(struct str s);
/* Returns the 32-bit FNV-1a hash of s's bytes (tables, not security). */
uint32_t str_hash(struct str s);

#define STR_OID_HEX 24 /* hex digits of an ObjectId */
/* True if s is exactly 24 lowercase hex digits (an ObjectId as we write it). */
bool str_is_oid_hex(struct str s);
/* Returns a NUL-terminated copy of s in a with ASCII letters lowered, or NULL (NUL byte,
 * arena full). */
char *str_lower_cstr(struct arena *a, struct str s);

#define STR_MULTILINE 1u /* tab, LF and CR are allowed (descriptions, bodies) */
#define STR_NO_FORMAT 2u /* Unicode format characters are refused too (names) */
/* True if s is valid UTF-8 text for people: no C0 control (but tab, LF and CR with
 * STR_MULTILINE), no DEL, no C1 control, and with STR_NO_FORMAT no format character
 * (bidirectional overrides, zero-width characters, soft hyphen, tags). */
bool str_is_text(struct str s, unsigned flags);

#endif
