/*
 * pem_armour.c -- libFuzzer harness for proto/pem's armour reader
 * (pem_armour_next / pem_armour_decode), with BearSSL's PEM decoder as the
 * oracle: whenever ours reads the whole input without an error, BearSSL's
 * decoder must give the same blocks, in order, with the same labels and
 * the same bytes.  Ours may refuse what BearSSL accepts, never the other
 * way round, and never differ on what a block holds.
 */
#include "proto/pem.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXB 16

struct blocks {
	size_t n;
	char label[MAXB][PEM_LABEL_MAX + 1];
	uint8_t *bytes[MAXB];
	size_t len[MAXB], cap[MAXB];
};

static void add_bytes(void *ctx, const void *buf, size_t len)
{
	struct blocks *b = ctx;
	size_t i = b->n - 1;

	if (b->len[i] + len > b->cap[i]) {
		size_t ncap = (b->len[i] + len) * 2;
		uint8_t *p = realloc(b->bytes[i], ncap);
		if (p == NULL)
			abort();
		b->bytes[i] = p;
		b->cap[i] = ncap;
	}
	memcpy(b->bytes[i] + b->len[i], buf, len);
	b->len[i] += len;
}

static void release(struct blocks *b)
{
	for (size_t i = 0; i < MAXB; i++)
		free(b->bytes[i]);
}

/* ours: 1 when every block was read and decoded, 0 on any error */
static int ours(const char *text, size_t len, struct blocks *b)
{
	size_t pos = 0;
	pem_armour_t blk;
	int r;

	while ((r = pem_armour_next(text, len, &pos, &blk)) == 1) {
		size_t cap = blk.body_len / 4 * 3, n;
		if (b->n == MAXB)
			return 0;
		b->n++;
		memcpy(b->label[b->n - 1], blk.label, blk.label_len);
		b->label[b->n - 1][blk.label_len] = '\0';
		b->bytes[b->n - 1] = malloc(cap + 1);
		if (b->bytes[b->n - 1] == NULL)
			abort();
		if (pem_armour_decode(&blk, b->bytes[b->n - 1], cap, &n) != 0)
			return 0;
		if (n > cap || blk.body + blk.body_len > text + len)
			abort();
		b->len[b->n - 1] = n;
	}
	if (r == 0 && pos != len)
		abort();
	return r == 0;
}

/* BearSSL's decoder over the text and a final newline; 1 when clean */
static int bearssl(const char *text, size_t len, struct blocks *b)
{
	br_pem_decoder_context pc;
	size_t pos = 0;
	int inobj = 0;

	br_pem_decoder_init(&pc);
	while (pos <= len) {
		const char *p = pos < len ? text + pos : "\n";
		size_t n = pos < len ? len - pos : 1;
		size_t k = br_pem_decoder_push(&pc, p, n);

		pos += k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ: {
			/* BearSSL keeps what follows the label up to the line end
			 * when that is not exactly "-----\n" (a CRLF banner gives
			 * "LABEL-----\r"): compare the label without it */
			const char *nm = br_pem_decoder_name(&pc);
			size_t nl = strlen(nm);
			while (nl > 0 && (nm[nl - 1] == '\r' || nm[nl - 1] == ' ' ||
			    nm[nl - 1] == '\t'))
				nl--;
			if (nl >= 5 && memcmp(nm + nl - 5, "-----", 5) == 0)
				nl -= 5;
			if (b->n == MAXB || nl > PEM_LABEL_MAX)
				return 0;
			b->n++;
			memcpy(b->label[b->n - 1], nm, nl);
			b->label[b->n - 1][nl] = '\0';
			br_pem_decoder_setdest(&pc, add_bytes, b);
			inobj = 1;
			break;
		}
		case BR_PEM_END_OBJ:
			inobj = 0;
			break;
		case BR_PEM_ERROR:
			return 0;
		default:
			if (k == 0)
				return 0;
		}
	}
	return !inobj;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blocks a, b;
	int ok;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	ok = ours((const char *)data, size, &a);
	if (ok) {
		if (!bearssl((const char *)data, size, &b) || a.n != b.n)
			abort();
		for (size_t i = 0; i < a.n; i++)
			if (strcmp(a.label[i], b.label[i]) != 0 || a.len[i] != b.len[i] ||
			    (a.len[i] > 0 && memcmp(a.bytes[i], b.bytes[i], a.len[i]) != 0))
				abort();
	}
	release(&a);
	release(&b);
	return 0;
}
