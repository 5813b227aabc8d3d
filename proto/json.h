/*
 * json.h -- strict RFC 8259 JSON tokenizer over a caller buffer.
 *
 * Zero-copy: tokens are byte offsets into the caller's document, which must
 * stay unchanged while the tokens are used.  No allocation, no recursion, no
 * global state: the nesting stack is a fixed array inside json_parser_t and
 * the token array belongs to the caller.  With a NULL token array the parser
 * only counts (like jsmn), so a caller may count first and then size its
 * array exactly.  The whole document must be in memory (not resumable).
 *
 * Strictness (any violation is an error; see docs/json.md):
 *   - exactly one value, with only JSON whitespace (space, tab, LF, CR)
 *     before and after it; an empty or whitespace-only input is
 *     JSON_ERR_EMPTY, a leading UTF-8 BOM is JSON_ERR_BOM;
 *   - no trailing commas, comments, single quotes, NaN/Infinity;
 *   - numbers exactly as RFC 8259 section 6: no leading zeros, no '+',
 *     no ".5" or "1." or "1e"; any length is accepted (see json_get_int);
 *   - strings: no raw bytes below 0x20, only the escapes \" \\ \/ \b \f \n
 *     \r \t \uXXXX, \u surrogates must form a high+low pair, raw bytes
 *     must be well-formed UTF-8 (no overlongs, no encoded surrogates);
 *     \u0000 is accepted (see json_unescape);
 *   - containers nest at most JSON_MAX_DEPTH deep ("[]" is depth 1);
 *   - duplicated object keys are accepted by the tokenizer; json_find_key
 *     and json_find_dup report them.
 *
 * Token layout (as jsmn): tokens appear in document order.  An object's
 * `size` is its number of keys; each key is a JSON_STRING token with
 * JSON_F_KEY set and size 1, immediately followed by its value.  An
 * array's `size` is its number of elements.  Every token's `next` is the
 * index one past its last descendant (for a key: past its value), so
 * skipping any value is O(1): `i = toks[i].next`.
 */
#ifndef DMQTT_JSON_H
#define DMQTT_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Deepest container nesting accepted; deeper input gives JSON_ERR_DEPTH. */
#ifndef JSON_MAX_DEPTH
#define JSON_MAX_DEPTH 64
#endif
#if JSON_MAX_DEPTH < 1 || JSON_MAX_DEPTH > 65535
#error "JSON_MAX_DEPTH must be between 1 and 65535"
#endif

/* "No token" index (e.g. the key of an array element in json_iter_next). */
#define JSON_NONE UINT32_MAX

typedef enum json_status {
	JSON_OK = 0,
	/* json_parse: the document is malformed (err_offset says where) */
	JSON_ERR_EMPTY,          /* no value: empty or whitespace-only input */
	JSON_ERR_BOM,            /* input starts with a UTF-8 byte order mark */
	JSON_ERR_EOF,            /* input ends inside an array or object */
	JSON_ERR_EXPECT_VALUE,   /* a character that cannot start a value */
	JSON_ERR_EXPECT_KEY,     /* object member does not start with a string */
	JSON_ERR_EXPECT_COLON,   /* no ':' after an object key */
	JSON_ERR_EXPECT_COMMA,   /* no ',' or matching bracket after a value */
	JSON_ERR_TRAILING_COMMA, /* ',' directly before ']' or '}' */
	JSON_ERR_TRAILING,       /* something other than whitespace after the value */
	JSON_ERR_LITERAL,        /* a word that is not true, false or null */
	JSON_ERR_NUMBER,         /* malformed number (offset: first bad byte) */
	JSON_ERR_UNTERMINATED,   /* string without closing quote (offset: its opening quote) */
	JSON_ERR_CTRL,           /* raw control character (< 0x20) in a string */
	JSON_ERR_ESCAPE,         /* unknown escape or \u without 4 hex digits */
	JSON_ERR_SURROGATE,      /* \u surrogate not part of a high+low pair */
	JSON_ERR_UTF8,           /* ill-formed UTF-8 in a string */
	JSON_ERR_DEPTH,          /* nesting deeper than JSON_MAX_DEPTH */
	/* json_parse: a limit of the call, not of the document */
	JSON_ERR_NOTOKENS,       /* token array too small (count with NULL first) */
	JSON_ERR_TOOBIG,         /* document longer than JSON_MAX_LEN bytes */
	/* helpers */
	JSON_ERR_TYPE,           /* token has the wrong type for the helper */
	JSON_ERR_NOT_FOUND,      /* no such key */
	JSON_ERR_DUPLICATE,      /* a key appears more than once in an object */
	JSON_ERR_NOSPACE,        /* caller's output buffer too small */
	JSON_ERR_NUL,            /* string contains U+0000 (\u0000) */
	JSON_ERR_NOT_INTEGER,    /* number with fraction/exponent, or not a number */
	JSON_ERR_RANGE           /* integer outside the caller's [min, max] */
} json_status_t;

typedef enum json_type {
	JSON_OBJECT = 1,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL
} json_type_t;

/* Token flags */
#define JSON_F_ESCAPED 0x01u /* string: contains a backslash escape */
#define JSON_F_KEY     0x02u /* string: is an object key (size 1, value follows) */
#define JSON_F_NEG     0x04u /* number: starts with '-' */
#define JSON_F_FRAC    0x08u /* number: has a fraction part */
#define JSON_F_EXP     0x10u /* number: has an exponent part */

/* Offsets are 32-bit, so a document is at most this many bytes. */
#define JSON_MAX_LEN UINT32_MAX

typedef struct json_tok {
	/* Byte range [start, end) in the document.  Strings: the contents
	 * between the quotes (raw, still escaped).  Objects and arrays: from
	 * the opening bracket to one past the closing one. */
	uint32_t start, end;
	uint32_t size;  /* object: number of keys; array: elements; key: 1; else 0 */
	uint32_t next;  /* index one past this token's last descendant */
	uint8_t type;   /* json_type_t */
	uint8_t flags;  /* JSON_F_* */
} json_tok_t;

/*
 * Parser state.  The caller places it anywhere (about 350 bytes with the
 * default depth); json_parse initialises it, nothing else is needed.
 */
typedef struct json_parser {
	/* results */
	uint32_t ntok;      /* tokens filled (or counted when toks == NULL);
	                       on error: tokens started, including the value
	                       the error is in */
	size_t err_offset;  /* on error: byte offset of the offending byte
	                       (the input length when the input ended early) */
	size_t err_line;    /* on error: 1-based line (LF-terminated lines) */
	size_t err_col;     /* on error: 1-based column in code points */
	/* internal */
	uint32_t stack[JSON_MAX_DEPTH]; /* token index of each open container */
	uint8_t is_obj[JSON_MAX_DEPTH];
} json_parser_t;

/*
 * Tokenize js[0..len).  With toks != NULL, fill at most ntoks tokens and
 * return JSON_ERR_NOTOKENS (err_offset at the value that needed one more)
 * if they do not suffice.  With toks == NULL, validate the whole document
 * and count its tokens in p->ntok; the status is then the same as with a
 * large enough array.  js may be NULL only when len is 0.
 * On error the token contents are unspecified and p->err_* are set; on
 * success p->ntok tokens describe the document and toks[0] is its value.
 */
json_status_t json_parse(json_parser_t *p, const char *js, size_t len,
	json_tok_t *toks, size_t ntoks);

/* Static English text for a status (never NULL). */
const char *json_strerror(json_status_t st);

/* "object", "array", "string", "number", "true", "false", "null" or "?". */
const char *json_type_name(int type);

/*
 * 1-based line and column of byte `offset` of js[0..len) (clamped to len),
 * as json_parse reports them: lines end at LF (so CRLF counts once), the
 * column counts code points (UTF-8 lead bytes), a tab is one column.  For
 * errors the config finds after parsing (e.g. a value of the wrong type at
 * toks[i].start).
 */
void json_position(const char *js, size_t len, size_t offset,
	size_t *line, size_t *col);

/*
 * The helpers below take the document and the token array of a successful
 * json_parse over it (they trust the offsets and indices in it).
 */

/*
 * Find `key` (a NUL-terminated UTF-8 C string) among the keys of object
 * toks[obj], comparing the keys' unescaped values.  JSON_OK: *val is the
 * index of the value.  JSON_ERR_DUPLICATE: the key appears more than once;
 * *val is the value of its second occurrence (so an error can point at it).
 * JSON_ERR_NOT_FOUND, or JSON_ERR_TYPE if toks[obj] is not an object.
 * A key containing \u0000 never equals a C string.  O(members).
 */
json_status_t json_find_key(const char *js, const json_tok_t *toks,
	uint32_t obj, const char *key, uint32_t *val);

/*
 * Check object toks[obj] for duplicated keys (compared unescaped, so "a"
 * and "\u0061" are the same key).  JSON_OK when all keys differ;
 * JSON_ERR_DUPLICATE with *key = index of the first key token that repeats
 * an earlier one; JSON_ERR_TYPE if not an object.  O(members^2): meant for
 * configuration-sized objects, not for untrusted large ones.
 */
json_status_t json_find_dup(const char *js, const json_tok_t *toks,
	uint32_t obj, uint32_t *key);

/* 1 if t is a string token whose unescaped value equals the C string s. */
int json_streq(const char *js, const json_tok_t *t, const char *s);

/*
 * Unescape string token t into out[0..outsz) as UTF-8 followed by a NUL.
 * A buffer of (t->end - t->start + 1) bytes is always large enough.
 * *outlen (may be NULL) receives the unescaped length without the NUL.
 *   JSON_OK          out holds the value and a terminating NUL.
 *   JSON_ERR_NUL     the value contains U+0000: out and *outlen are still
 *                    complete (binary-safe callers may accept this), but
 *                    the value cannot be used as a C string.
 *   JSON_ERR_NOSPACE outsz too small; *outlen is the length needed
 *                    (plus 1 for the NUL); out[0] is NUL if outsz > 0.
 *   JSON_ERR_TYPE    t is not a string.
 */
json_status_t json_unescape(const char *js, const json_tok_t *t,
	char *out, size_t outsz, size_t *outlen);

/*
 * Integer value of token t, which is a number, or a string whose raw
 * contents are an integer in JSON syntax ("8883": user-config.json carries
 * numbers as strings; no escapes, sign only '-', no spaces).
 *   JSON_OK              *out = the value, min <= *out <= max.
 *   JSON_ERR_NOT_INTEGER a fraction or exponent ("1.0", "1e3"), or a string
 *                        that is not an integer.
 *   JSON_ERR_RANGE       outside [min, max], including beyond int64_t.
 *   JSON_ERR_TYPE        neither number nor string.
 * *out is written only on JSON_OK.
 */
json_status_t json_get_int(const char *js, const json_tok_t *t,
	int64_t min, int64_t max, int64_t *out);

/*
 * Iterate the members of an object or the elements of an array:
 *
 *     json_iter_t it = json_iter(toks, obj);
 *     uint32_t k, v;
 *     while (json_iter_next(&it, toks, &k, &v)) ...
 *
 * For objects k is the key token and v its value; for arrays k is
 * JSON_NONE.  Other token types iterate nothing.
 */
typedef struct json_iter {
	uint32_t cur, end;
	int is_obj;
} json_iter_t;

json_iter_t json_iter(const json_tok_t *toks, uint32_t container);
int json_iter_next(json_iter_t *it, const json_tok_t *toks,
	uint32_t *key, uint32_t *val);

#endif
