/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure parts of the command-line clients (apps/clients): the state
 * file's text, its atomic store, option values (stream ids, gateways) and the
 * framing of standard input into records. The tools themselves run as
 * processes in test_clients.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "keys.h"
#include "state.h"

/* ---- the state file ---- */

static size_t
sample(struct rg_cli_state *st, char *buf, size_t cap)
{
	st->n = 3;
	st->e[0] = (struct rg_cli_state_entry){ .stream = (5ull << 32) | 1, .applied = 1234 };
	st->e[1] = (struct rg_cli_state_entry){ .stream = (5ull << 32) | 2, .applied = 1 };
	st->e[2] = (struct rg_cli_state_entry){ .stream = UINT64_MAX, .applied = UINT64_MAX - 1 };
	return rg_cli_state_format(st, buf, cap);
}

static void
test_cli_state_round_trip(void **state)
{
	static struct rg_cli_state st, back;
	char buf[RG_CLI_STATE_BYTES_MAX], err[RG_CLI_STATE_ERR_BYTES];
	size_t len;

	(void)state;
	len = sample(&st, buf, sizeof(buf));
	assert_true(len > 0 && len < sizeof(buf));
	assert_memory_equal(buf, "repgate-sub state v1\nstream 0x0000000500000001 1234\n", 52);
	assert_int_equal(rg_cli_state_parse(buf, len, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	assert_memory_equal(back.e, st.e, sizeof(st.e[0]) * 3);
	back.n = 0; /* an empty state is a state too */
	len = rg_cli_state_format(&back, buf, sizeof(buf));
	assert_int_equal(rg_cli_state_parse(buf, len, &st, err, sizeof(err)), 0);
	assert_int_equal(st.n, 0);
}

#define ALL SIZE_MAX

/* Every way a state file can be wrong is refused, with the line and the reason. */
static void
test_cli_state_refuses_torn_and_garbage(void **state)
{
	static struct rg_cli_state st;
	char good[RG_CLI_STATE_BYTES_MAX], bad[RG_CLI_STATE_BYTES_MAX];
	char err[RG_CLI_STATE_ERR_BYTES];
	size_t len = sample(&st, good, sizeof(good));
	const struct {
		const char *what, *want;
		size_t keep;       /* bytes kept (ALL: the whole text) */
		ptrdiff_t flip_at; /* a byte changed (-1: none) */
		char to;
	} cases[] = {
		{ "empty", "empty", 0, -1, 0 },
		{ "cut in the header", "line 1", 10, -1, 0 },
		{ "cut after a stream line", "no end line", 52, -1, 0 },
		{ "cut inside a line", "torn", 60, -1, 0 },
		{ "no final newline", "torn", len - 1, -1, 0 },
		{ "an applied digit changed", "checksum", ALL, 50, '5' },
		{ "a stream digit changed", "checksum", ALL, 40, '7' },
		{ "a checksum digit changed", "checksum", ALL, (ptrdiff_t)len - 2, '0' },
		{ "garbage in a stream line", "line 2", ALL, 22, 'S' },
		{ "a NUL byte", "NUL", ALL, 30, '\0' },
	};
	unsigned checked = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].keep == ALL ? len : cases[i].keep;

		memcpy(bad, good, len);
		if (cases[i].flip_at >= 0) {
			if (bad[cases[i].flip_at] == cases[i].to)
				bad[cases[i].flip_at] = '9';
			else
				bad[cases[i].flip_at] = cases[i].to;
		}
		err[0] = '\0';
		st.n = 7;
		if (rg_cli_state_parse(bad, n, &st, err, sizeof(err)) != -EINVAL)
			fail_msg("%s: accepted", cases[i].what);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("%s: said \"%s\", want \"%s\"", cases[i].what, err, cases[i].want);
		assert_int_equal(st.n, 0);
		checked++;
	}
	assert_int_equal(checked, sizeof(cases) / sizeof(cases[0]));
}

static void
test_cli_state_refuses_bad_lines(void **state)
{
	static struct rg_cli_state st;
	const char *texts[] = {
		"repgate-sub state v2\nend 0 0000000000000000\n",
		"repgate-sub state v1\nstream 0x0000000500000001 0\n",  /* applied 0 */
		"repgate-sub state v1\nstream 0x0000000000000000 5\n",  /* stream 0 */
		"repgate-sub state v1\nstream 0x500000001 5\n",         /* not 16 digits */
		"repgate-sub state v1\nstream 0x0000000500000001 05\n", /* a leading zero */
		"repgate-sub state v1\nstream 0x0000000500000001 -5\n", /* a sign */
		"repgate-sub state v1\nstream 0x0000000500000001 99999999999999999999\n",
		"repgate-sub state v1\nstream 0x000000050000000A 5\n", /* upper case */
		"repgate-sub state v1\nend 1 0000000000000000\n",      /* count */
		"repgate-sub state v1\nend 0 00000000\n",              /* short hash */
	};
	char err[RG_CLI_STATE_ERR_BYTES];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (rg_cli_state_parse(texts[i], strlen(texts[i]), &st, err, sizeof(err)) !=
		    -EINVAL)
			fail_msg("accepted: %s", texts[i]);
}

static void
test_cli_state_duplicate_stream_refused(void **state)
{
	static struct rg_cli_state st, back;
	char buf[RG_CLI_STATE_BYTES_MAX], err[RG_CLI_STATE_ERR_BYTES];
	size_t len;

	(void)state;
	st.n = 2;
	st.e[0] = st.e[1] = (struct rg_cli_state_entry){ .stream = 9, .applied = 3 };
	len = rg_cli_state_format(&st, buf, sizeof(buf)); /* a valid checksum over a bad body */
	assert_int_equal(rg_cli_state_parse(buf, len, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
}

/* Store writes the new file whole and leaves no temp file; load reads it back; missing = empty. */
static void
test_cli_state_store_and_load(void **state)
{
	static struct rg_cli_state st, back;
	char dir[] = "/tmp/rg-test-cli-XXXXXX", path[64], buf[RG_CLI_STATE_BYTES_MAX];
	char err[RG_CLI_STATE_ERR_BYTES];
	struct dirent *d;
	unsigned files = 0;
	DIR *dd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	back.n = 5;
	assert_int_equal(rg_cli_state_load(path, &back, err, sizeof(err)), 0); /* missing */
	assert_int_equal(back.n, 0);
	sample(&st, buf, sizeof(buf));
	assert_int_equal(rg_cli_state_store(path, &st, err, sizeof(err)), 0);
	st.e[0].applied = 99999; /* stored again over the old one */
	assert_int_equal(rg_cli_state_store(path, &st, err, sizeof(err)), 0);
	assert_int_equal(rg_cli_state_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	assert_int_equal(back.e[0].applied, 99999);
	dd = opendir(dir);
	assert_non_null(dd);
	while ((d = readdir(dd)) != NULL) /* bounded: the directory has what we made */
		files += d->d_name[0] != '.';
	closedir(dd);
	assert_int_equal(files, 1); /* no FILE.tmp.PID left behind */
	unlink(path);
	rmdir(dir);
	snprintf(path, sizeof(path), "/nonexistent-dir-rg/state");
	assert_int_not_equal(rg_cli_state_store(path, &st, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent-dir-rg/state.tmp."));
}

/* ---- option values ---- */

static void
test_cli_parse_stream_ids(void **state)
{
	struct rg_cli_common c;
	const struct {
		const char *text;
		int ok;
		uint64_t want;
	} cases[] = {
		{ "1", 1, 1 },
		{ "21474836481", 1, (5ull << 32) | 1 },
		{ "0x500000001", 1, (5ull << 32) | 1 },
		{ "5:1", 1, (5ull << 32) | 1 },
		{ "0x5:0x1", 1, (5ull << 32) | 1 },
		{ "4294967295:4294967295", 1, UINT64_MAX },
		{ "7:0", 1, 7ull << 32 },
		{ "0:9", 1, 9 },
		{ "0", 0, 0 },
		{ "0:0", 0, 0 },
		{ "0x0", 0, 0 },
		{ "", 0, 0 },
		{ "abc", 0, 0 },
		{ "0x", 0, 0 },
		{ "-1", 0, 0 },
		{ "+1", 0, 0 },
		{ " 1", 0, 0 },
		{ "1 ", 0, 0 },
		{ "1:2:3", 0, 0 },
		{ ":1", 0, 0 },
		{ "1:", 0, 0 },
		{ "4294967296:1", 0, 0 },
		{ "1:4294967296", 0, 0 },
		{ "18446744073709551616", 0, 0 },
	};

	(void)state;
	rg_cli_common_init(&c, "test");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		int rc = rg_cli_parse_stream(&c, "--stream", cases[i].text, &v);

		if ((rc == 0) != cases[i].ok || (rc == 0 && v != cases[i].want))
			fail_msg("'%s': rc %d value %llx", cases[i].text, rc,
				 (unsigned long long)v);
	}
}

static void
test_cli_parse_gateways(void **state)
{
	struct rg_cli_common c;
	const char *bad[] = {
		"1@127.0.0.1",   "@127.0.0.1:9",    "0@127.0.0.1:9",    "65536@127.0.0.1:9",
		"1@:9",          "1@127.0.0.300:9", "1@127.0.0.1:0",    "1@127.0.0.1:x",
		"1@localhost:9", "1127.0.0.1:9",    "1@127.0.0.1:65536"
	};

	(void)state;
	rg_cli_common_init(&c, "test");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rg_cli_parse_gateway(&c, bad[i]) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(c.cfg.ngateways, 0);
	assert_int_equal(rg_cli_parse_gateway(&c, "3@10.1.0.2:7000"), 0);
	assert_int_equal(c.cfg.ngateways, 1);
	assert_int_equal(c.cfg.gateways[0].id, 3);
	assert_string_equal(c.cfg.gateways[0].addr, "10.1.0.2");
	assert_int_equal(c.cfg.gateways[0].port, 7000);
	assert_int_equal(rg_cli_parse_gateway(&c, "3@10.1.0.3:7000"), -EINVAL); /* id twice */
	for (int i = 1; i < RG_CLIENT_GATEWAYS_MAX; i++) {
		char text[32];

		snprintf(text, sizeof(text), "%d@127.0.0.1:%d", 10 + i, 100 + i);
		assert_int_equal(rg_cli_parse_gateway(&c, text), 0);
	}
	assert_int_equal(rg_cli_parse_gateway(&c, "99@127.0.0.1:9"), -EINVAL); /* 9 of 8 */
	c.cfg.id = 3;
	assert_int_equal(rg_cli_common_check(&c), -EINVAL); /* the client is a gateway */
	c.cfg.id = 4;
	assert_int_equal(rg_cli_common_check(&c), 0);
}

/* ID@ADDR:PORT,PUBKEY: the key is kept as given; a malformed one refuses the whole option. */
static void
test_cli_parse_gateway_pubkeys(void **state)
{
	struct rg_cli_common c;
	uint8_t priv[RG_KEY_BYTES], pub[RG_KEY_BYTES];
	char key[RG_KEY_B64_CHARS + 1], text[160], longer[RG_KEY_B64_CHARS + 2];

	(void)state;
	assert_int_equal(rg_key_generate(priv), 0);
	assert_int_equal(rg_key_public(priv, pub), 0);
	rg_key_to_b64(pub, key);
	snprintf(longer, sizeof(longer), "%sA", key);
	{
		const char *bad[] = {
			"1@127.0.0.1:9,",     /* no key */
			"1@127.0.0.1:9,abc=", /* too short */
			longer,               /* filled below */
			"1@127.0.0.1:9,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* 2 pads */
			"1@127.0.0.1:9,!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=", /* not base64 */
			"1@127.0.0.1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",   /* no port */
		};

		rg_cli_common_init(&c, "test");
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const char *t = bad[i];

			if (t == longer) {
				snprintf(text, sizeof(text), "1@127.0.0.1:9,%s", longer);
				t = text;
			}
			if (rg_cli_parse_gateway(&c, t) != -EINVAL)
				fail_msg("accepted '%s'", t);
		}
		assert_int_equal(c.cfg.ngateways, 0);
	}
	snprintf(text, sizeof(text), "3@10.1.0.2:7000,%s", key);
	assert_int_equal(rg_cli_parse_gateway(&c, text), 0);
	assert_int_equal(c.cfg.ngateways, 1);
	assert_int_equal(c.cfg.gateways[0].id, 3);
	assert_string_equal(c.cfg.gateways[0].addr, "10.1.0.2");
	assert_int_equal(c.cfg.gateways[0].port, 7000);
	assert_string_equal(c.cfg.gateways[0].pubkey, key);
	/* an address ending in a port whose digits run on past a comma is still refused */
	assert_int_equal(rg_cli_parse_gateway(&c, "4@10.1.0.2:70x0,abc"), -EINVAL);
	/* the key without --key: refused by the check (the option came first, --key may follow) */
	c.cfg.id = 5;
	assert_int_equal(rg_cli_common_check(&c), -EINVAL);
	assert_int_equal(rg_cli_common_option(&c, RG_CLI_OPT_KEY, "/etc/repgate/client.key"), 1);
	assert_string_equal(c.cfg.key_file, "/etc/repgate/client.key");
	assert_int_equal(rg_cli_common_check(&c), 0);
	/* with --key, a gateway without its key is refused */
	assert_int_equal(rg_cli_parse_gateway(&c, "4@10.1.0.3:7000"), 0);
	assert_string_equal(c.cfg.gateways[1].pubkey, "");
	assert_int_equal(rg_cli_common_check(&c), -EINVAL);
	assert_int_equal(rg_cli_keys_check("test", &c.cfg), -EINVAL);
	/* --key's own value: not empty, not longer than the config holds */
	{
		char path[RG_CLIENT_PATH_BYTES + 1];

		memset(path, 'k', sizeof(path) - 1);
		path[sizeof(path) - 1] = '\0';
		assert_int_equal(rg_cli_common_option(&c, RG_CLI_OPT_KEY, path), -EINVAL);
		assert_int_equal(rg_cli_common_option(&c, RG_CLI_OPT_KEY, ""), -EINVAL);
		assert_string_equal(c.cfg.key_file, "/etc/repgate/client.key"); /* unchanged */
	}
}

/* ---- standard input as records ---- */

/* Feeds text through a pipe into an input and collects up to max records; returns the count. */
static int
frame(enum rg_cli_format f, const void *text, size_t len, uint32_t *lens, int max, char *err)
{
	struct rg_cli_input in;
	int fds[2], n = 0, rc = 0;
	FILE *w;
	size_t off = 0;

	assert_int_equal(pipe(fds), 0);
	w = fdopen(fds[1], "w");
	assert_int_equal(rg_cli_input_init(&in, fds[0], f), 0);
	if (len == 0)
		fclose(w);
	/* Bounded: a record or a read each round, and the text is finite (writes in chunks). */
	for (; rc >= 0 && n < max;) {
		const uint8_t *data;
		uint32_t l;

		if (off < len) { /* keep the pipe below its capacity: 4 KiB at a time */
			size_t k = len - off < 4096 ? len - off : 4096;

			assert_int_equal(fwrite((const char *)text + off, 1, k, w), k);
			fflush(w);
			off += k;
			if (off == len)
				fclose(w);
		}
		rc = rg_cli_input_peek(&in, &data, &l);
		if (rc == 1) {
			lens[n++] = l;
			rg_cli_input_take(&in);
		} else if (rc == 0 && in.eof) {
			break;
		} else if (rc == 0) {
			assert_int_equal(rg_cli_input_read(&in), 0);
		}
	}
	if (off < len)
		fclose(w); /* refused before the end of the text */
	if (rc < 0)
		snprintf(err, 160, "%s", in.err);
	rg_cli_input_fini(&in);
	close(fds[0]);
	return rc < 0 ? -1 : n;
}

static void
test_cli_input_lines(void **state)
{
	uint32_t lens[16];
	char err[160] = "";
	static char big[(1u << 20) + 8];

	(void)state;
	assert_int_equal(frame(RG_CLI_LINES, "a\n\nbcd\n", 7, lens, 16, err), 3);
	assert_int_equal(lens[0], 1);
	assert_int_equal(lens[1], 0);
	assert_int_equal(lens[2], 3);
	assert_int_equal(frame(RG_CLI_LINES, "x\nlast", 6, lens, 16, err),
			 2); /* no final newline */
	assert_int_equal(lens[1], 4);
	assert_int_equal(frame(RG_CLI_LINES, "", 0, lens, 16, err), 0);
	assert_int_equal(frame(RG_CLI_LINES, "\n", 1, lens, 16, err), 1);
	assert_int_equal(lens[0], 0);
	memset(big, 'x', sizeof(big));
	big[1u << 20] = '\n'; /* a line of exactly 1 MiB is a record */
	assert_int_equal(frame(RG_CLI_LINES, big, (1u << 20) + 1, lens, 16, err), 1);
	assert_int_equal(lens[0], 1u << 20);
	big[0] = '\n'; /* one empty line, then a line one byte longer than 1 MiB */
	big[1u << 20] = 'x';
	big[(1u << 20) + 2] = '\n';
	assert_int_equal(frame(RG_CLI_LINES, big, (1u << 20) + 3, lens, 16, err), -1);
	assert_non_null(strstr(err, "byte offset 1 "));
}

static void
test_cli_input_binary(void **state)
{
	static uint8_t buf[(1u << 20) + 64];
	uint32_t lens[16];
	char err[160] = "";
	size_t n = 0;

	(void)state;
	memcpy(buf,
	       "\0\0\0\0"
	       "\3\0\0\0abc"
	       "\0\0\0\0",
	       15); /* empty, "abc", empty */
	assert_int_equal(frame(RG_CLI_BINARY, buf, 15, lens, 16, err), 3);
	assert_int_equal(lens[0], 0);
	assert_int_equal(lens[1], 3);
	assert_int_equal(lens[2], 0);
	assert_int_equal(frame(RG_CLI_BINARY, buf, 13, lens, 16, err), -1); /* inside a length */
	assert_non_null(strstr(err, "inside the length of the record at byte offset 11"));
	assert_int_equal(frame(RG_CLI_BINARY, buf, 9, lens, 16, err), -1); /* inside a record */
	assert_non_null(strstr(err, "inside the record at byte offset 4 (1 of its 3 bytes)"));
	buf[0] = 0, buf[1] = 0, buf[2] = 0x10, buf[3] = 0; /* 1 MiB exactly */
	n = 4 + (1u << 20);
	assert_int_equal(frame(RG_CLI_BINARY, buf, n, lens, 16, err), 1);
	assert_int_equal(lens[0], 1u << 20);
	memcpy(buf,
	       "\2\0\0\0hi"
	       "\1\0\x10\0",
	       10); /* then one that says 1 MiB + 1 */
	assert_int_equal(frame(RG_CLI_BINARY, buf, 10, lens, 16, err), -1);
	assert_non_null(strstr(err, "at byte offset 6 says it has 1048577 bytes"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_state_round_trip),
		cmocka_unit_test(test_cli_state_refuses_torn_and_garbage),
		cmocka_unit_test(test_cli_state_refuses_bad_lines),
		cmocka_unit_test(test_cli_state_duplicate_stream_refused),
		cmocka_unit_test(test_cli_state_store_and_load),
		cmocka_unit_test(test_cli_parse_stream_ids),
		cmocka_unit_test(test_cli_parse_gateways),
		cmocka_unit_test(test_cli_parse_gateway_pubkeys),
		cmocka_unit_test(test_cli_input_lines),
		cmocka_unit_test(test_cli_input_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
