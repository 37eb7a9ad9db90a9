/* SPDX-License-Identifier: Apache-2.0 */
/* repgate-sub's state file (state.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

#define HEADER "repgate-sub state v1\n"

static uint64_t
fnv1a64(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

size_t
rg_cli_state_format(const struct rg_cli_state *st, char *buf, size_t cap)
{
	size_t n = 0;
	int w;

	w = snprintf(buf, cap, "%s", HEADER);
	n = w > 0 ? (size_t)w : 0;
	for (uint32_t i = 0; i < st->n && n < cap; i++) {
		w = snprintf(buf + n, cap - n, "stream 0x%016" PRIx64 " %" PRIu64 "\n",
			     st->e[i].stream, st->e[i].applied);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < cap) {
		w = snprintf(buf + n, cap - n, "end %" PRIu32 " %016" PRIx64 "\n", st->n,
			     fnv1a64(buf, n));
		n += w > 0 ? (size_t)w : 0;
	}
	return n < cap ? n : cap;
}

/* Exactly `digits` hex digits (0: any number, at least one) or decimal; the end in *end. */
static int
number(const char *p, const char *lim, int hex, int digits, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	int n = 0;

	/* Bounded by lim (a line). */
	for (; p < lim; p++, n++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (hex && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (hex ? 16u : 10u))
			return -ERANGE;
		v = v * (hex ? 16u : 10u) + (uint64_t)d;
	}
	if (n == 0 || (digits > 0 && n != digits) || (!hex && n > 1 && p[-n] == '0'))
		return -EINVAL;
	*out = v;
	*end = p;
	return 0;
}

/* "stream 0x<16 hex> <decimal>" from p to nl. */
static int
parse_stream_line(const char *p, const char *nl, struct rg_cli_state_entry *e, const char **why)
{
	const char *q;

	if (nl - p < 10 || memcmp(p, "stream 0x", 9) != 0) {
		*why =
		    "not a stream line (\"stream 0x<16 hex digits> <applied>\") nor the end line";
		return -EINVAL;
	}
	if (number(p + 9, nl, 1, 16, &e->stream, &q) != 0 || q >= nl || *q != ' ') {
		*why = "the stream id is not 0x and 16 lowercase hex digits";
		return -EINVAL;
	}
	if (number(q + 1, nl, 0, 0, &e->applied, &q) != 0 || q != nl) {
		*why = "the applied watermark is not a decimal number";
		return -EINVAL;
	}
	if (e->stream == 0 || e->applied == 0) {
		*why = e->stream == 0 ? "stream 0 is not a stream" : "an applied watermark of 0";
		return -EINVAL;
	}
	return 0;
}

/* "end <count> <16 hex>" from p to nl, checked against the lines and the bytes before it. */
static int
parse_end_line(const char *text, const char *p, const char *nl, uint32_t n, const char **why)
{
	uint64_t count, hash;
	const char *q;

	if (number(p + 4, nl, 0, 0, &count, &q) != 0 || q >= nl || *q != ' ' ||
	    number(q + 1, nl, 1, 16, &hash, &q) != 0 || q != nl) {
		*why = "the end line is not \"end <count> <16 hex digits>\"";
		return -EINVAL;
	}
	if (count != n) {
		*why = "the end line's count differs from the stream lines (lines lost or added)";
		return -EINVAL;
	}
	if (hash != fnv1a64(text, (size_t)(p - text))) {
		*why = "the checksum does not match: the file was changed or is torn";
		return -EINVAL;
	}
	return 0;
}

static int
dup_stream(const struct rg_cli_state *st, uint64_t id)
{
	for (uint32_t i = 0; i < st->n; i++) /* bounded by RG_CLI_STATE_STREAMS_MAX */
		if (st->e[i].stream == id)
			return 1;
	return 0;
}

/* The lines after the header, up to the end line: 0, or -EINVAL with *line and *why. */
static int
parse_body(const char *text, size_t len, struct rg_cli_state *st, unsigned *line, const char **why)
{
	const char *p = text + strlen(HEADER), *lim = text + len;

	/* Bounded: each round takes a line of the text (at most its length). */
	for (*line = 2; p < lim; (*line)++) {
		const char *nl = memchr(p, '\n', (size_t)(lim - p));
		struct rg_cli_state_entry e;

		if (nl == NULL) {
			*why = "the last line has no newline: the file is torn (cut short)";
			return -EINVAL;
		}
		if (nl - p >= 4 && memcmp(p, "end ", 4) == 0) {
			if (parse_end_line(text, p, nl, st->n, why) != 0)
				return -EINVAL;
			if (nl + 1 != lim) {
				*why = "something follows the end line";
				return -EINVAL;
			}
			return 0;
		}
		if (parse_stream_line(p, nl, &e, why) != 0)
			return -EINVAL;
		if (dup_stream(st, e.stream)) {
			*why = "a stream is listed twice";
			return -EINVAL;
		}
		if (st->n >= RG_CLI_STATE_STREAMS_MAX) {
			*why = "more streams than repgate-sub keeps (1024)";
			return -EINVAL;
		}
		st->e[st->n++] = e;
		p = nl + 1;
	}
	*why = "no end line: the file is torn (cut short)";
	return -EINVAL;
}

int
rg_cli_state_parse(const char *text, size_t len, struct rg_cli_state *st, char *err, size_t errlen)
{
	const char *why = NULL;
	unsigned line = 1;

	st->n = 0;
	if (len < strlen(HEADER) || memcmp(text, HEADER, strlen(HEADER)) != 0) {
		snprintf(err, errlen,
			 "line 1: not a repgate-sub state file (it must begin \"repgate-sub "
			 "state v1\")%s",
			 len == 0 ? ": the file is empty (torn)" : "");
		return -EINVAL;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "the file holds NUL bytes: garbage, not a state file");
		return -EINVAL;
	}
	if (parse_body(text, len, st, &line, &why) != 0) {
		snprintf(err, errlen, "line %u: %s", line, why);
		st->n = 0;
		return -EINVAL;
	}
	return 0;
}

int
rg_cli_state_load(const char *path, struct rg_cli_state *st, char *err, size_t errlen)
{
	static char text[RG_CLI_STATE_BYTES_MAX + 1];
	size_t len = 0;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	st->n = 0;
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot open it: %s", strerror(errno));
		return rc;
	}
	len = fread(text, 1, sizeof(text), f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "cannot read it: %s", strerror(errno));
	} else if (len == sizeof(text)) {
		rc = -EINVAL;
		snprintf(err, errlen, "larger than any state file (%d bytes): not a state file",
			 RG_CLI_STATE_BYTES_MAX);
	} else {
		rc = rg_cli_state_parse(text, len, st, err, errlen);
	}
	fclose(f);
	return rc;
}

/* Writes all of buf to a new file tmp and fsyncs it. 0 or -errno (err says the step). */
static int
write_tmp(const char *tmp, const char *buf, size_t len, char *err, size_t errlen)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return rc;
	}
	/* Bounded: each round writes at least a byte or fails. */
	while (done < len && rc == 0) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

static int
fsync_dir_of(const char *path, char *err, size_t errlen)
{
	char copy[PATH_MAX];
	const char *dir;
	int fd, rc = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot fsync the directory %s: %s", dir, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int
rg_cli_state_store(const char *path, const struct rg_cli_state *st, char *err, size_t errlen)
{
	static char buf[RG_CLI_STATE_BYTES_MAX];
	char tmp[PATH_MAX];
	size_t len = rg_cli_state_format(st, buf, sizeof(buf));
	int rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "the path is too long");
		return -ENAMETOOLONG;
	}
	rc = write_tmp(tmp, buf, len, err, errlen);
	if (rc != 0)
		return rc;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s over it: %s", tmp, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return fsync_dir_of(path, err, errlen);
}
