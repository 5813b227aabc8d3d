/*
 * json_driver.c -- differential-test driver for proto/json.
 *
 * Each argument is a file holding one JSON document.  It is tokenized with
 * json_parse() in counting mode (no token array: the status is the same as
 * with a large enough array, see json.h) and one line is printed per file:
 *
 *     PATH <TAB> VERDICT <TAB> -
 *
 * VERDICT is "accept" or "reject:<STATUS>@<OFFSET>".  The third column is
 * kept so every driver prints the same shape; JSON is compared on the
 * verdict only.  test/diff/json_ref.py prints the same from Python's json.
 *
 * Build: cc -std=c11 -O1 -I. -D_POSIX_C_SOURCE=200809L \
 *            test/diff/json_driver.c proto/json.c proto/utf8.c -o json_driver
 */
#include <stdio.h>
#include <stdlib.h>

#include "proto/json.h"

static const char *status_name(json_status_t st)
{
	switch (st) {
	case JSON_OK: return "OK";
	case JSON_ERR_EMPTY: return "EMPTY";
	case JSON_ERR_BOM: return "BOM";
	case JSON_ERR_EOF: return "EOF";
	case JSON_ERR_EXPECT_VALUE: return "EXPECT_VALUE";
	case JSON_ERR_EXPECT_KEY: return "EXPECT_KEY";
	case JSON_ERR_EXPECT_COLON: return "EXPECT_COLON";
	case JSON_ERR_EXPECT_COMMA: return "EXPECT_COMMA";
	case JSON_ERR_TRAILING_COMMA: return "TRAILING_COMMA";
	case JSON_ERR_TRAILING: return "TRAILING";
	case JSON_ERR_LITERAL: return "LITERAL";
	case JSON_ERR_NUMBER: return "NUMBER";
	case JSON_ERR_UNTERMINATED: return "UNTERMINATED";
	case JSON_ERR_CTRL: return "CTRL";
	case JSON_ERR_ESCAPE: return "ESCAPE";
	case JSON_ERR_SURROGATE: return "SURROGATE";
	case JSON_ERR_UTF8: return "UTF8";
	case JSON_ERR_DEPTH: return "DEPTH";
	case JSON_ERR_NOTOKENS: return "NOTOKENS";
	case JSON_ERR_TOOBIG: return "TOOBIG";
	default: return "OTHER";
	}
}

static int one_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	json_parser_t p;
	json_status_t st;

	if (fp == NULL) {
		perror(path);
		return 1;
	}
	for (;;) {
		size_t n;
		if (len == cap) {
			char *nb;
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				fclose(fp);
				free(buf);
				return 1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	fclose(fp);
	st = json_parse(&p, buf, len, NULL, 0);
	if (st == JSON_OK)
		printf("%s\taccept\t-\n", path);
	else
		printf("%s\treject:%s@%zu\t-\n", path, status_name(st), p.err_offset);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= one_file(argv[i]);
	return rc;
}
