/* SPDX-License-Identifier: Apache-2.0 */
/*
 * repgate-sub's state file: the applied watermark of each stream it
 * received, stored only after the records up to it were written to standard
 * output and flushed, so a killed repgate-sub resumes right after what it
 * printed.
 *
 * Format (text, one item a line, every line ending in '\n'):
 *
 *   repgate-sub state v1
 *   stream 0x0000000500000001 1234
 *   stream 0x0000000500000002 17
 *   end 2 05e1529b3e316afd
 *
 * The first line names the format. Each stream line is a stream id (0x and
 * exactly 16 hex digits) and its applied watermark (decimal: every seq up to
 * it was printed and flushed); ids are distinct, the watermarks nonzero.
 * The last line counts the stream lines and ends with the 64-bit FNV-1a
 * hash, in 16 hex digits, of every byte before the "end" line. A file that
 * breaks any of this (cut short, edited, another file) is refused with the
 * line and the reason: repgate-sub never guesses where to resume. A missing
 * file means "from seq 1" (right for the first run of a stream only: the
 * gateways do not go back below what was applied, docs/clients.md).
 *
 * Stored atomically: written to FILE.tmp.PID in the same directory, fsynced,
 * renamed over FILE, and the directory fsynced, so FILE is always the old
 * state or the new one.
 */
#ifndef RG_APPS_CLIENTS_STATE_H
#define RG_APPS_CLIENTS_STATE_H

#include <stddef.h>
#include <stdint.h>

#define RG_CLI_STATE_STREAMS_MAX 1024 /* librepgate's default streams_max */
/* The largest state file: the header, every stream line, the end line. */
#define RG_CLI_STATE_BYTES_MAX (32 + RG_CLI_STATE_STREAMS_MAX * 48 + 48)
#define RG_CLI_STATE_ERR_BYTES 256

struct rg_cli_state_entry {
	uint64_t stream;
	uint64_t applied;
};

struct rg_cli_state {
	struct rg_cli_state_entry e[RG_CLI_STATE_STREAMS_MAX];
	uint32_t n;
};

/* The text of st into buf (RG_CLI_STATE_BYTES_MAX is enough); its length. */
size_t rg_cli_state_format(const struct rg_cli_state *st, char *buf, size_t cap);
/*
 * Parses a state file's text. 0, or -EINVAL with the line and the reason in
 * err ("line 3: ..."); st is then empty.
 */
int rg_cli_state_parse(const char *text, size_t len, struct rg_cli_state *st, char *err,
		       size_t errlen);
/* Reads path: 0 (a missing file: st empty); -EINVAL (not a state file: err says why); -errno. */
int rg_cli_state_load(const char *path, struct rg_cli_state *st, char *err, size_t errlen);
/* Stores st at path atomically (above). 0, or -errno with the step that failed in err. */
int rg_cli_state_store(const char *path, const struct rg_cli_state *st, char *err, size_t errlen);

#endif /* RG_APPS_CLIENTS_STATE_H */
