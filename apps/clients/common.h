/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What repgate-pub and repgate-sub share (DESIGN §4.9, "Command-line
 * clients"): the exit codes, the options both take and their parsing, the
 * wait on the client's socket (and one more fd) with the signals that stop a
 * tool, the progress clock, and record framing on standard input.
 *
 * No DPDK: the tools link the static librepgate and libc only.
 *
 * Signals. rg_cli_signals_init() blocks SIGINT and SIGTERM and ignores
 * SIGPIPE; they are let in only inside rg_cli_wait()'s ppoll() and around
 * rg_cli_write_all(), so a stop is seen at one of those two places and never
 * tears a data structure. rg_cli_stop_signal says which one came (0: none).
 */
#ifndef RG_APPS_CLIENTS_COMMON_H
#define RG_APPS_CLIENTS_COMMON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "repgate.h"

/* Exit codes, the same for both tools (their --help lists them). */
enum rg_cli_exit {
	RG_CLI_EXIT_OK = 0,
	RG_CLI_EXIT_ERROR = 1,       /* I/O errors, protocol surprises, a stream that never opens */
	RG_CLI_EXIT_UNREACHABLE = 2, /* no gateway answered within --connect-timeout */
	RG_CLI_EXIT_REFUSED = 3,     /* repgate-sub: the gateway refused the subscription */
	RG_CLI_EXIT_USAGE = 64,      /* a bad command line (EX_USAGE) */
	RG_CLI_EXIT_SIGNAL = 128,    /* plus the signal: 130 for SIGINT, 143 for SIGTERM */
};

enum rg_cli_format {
	RG_CLI_LINES = 0, /* one record per line, the newline not part of it */
	RG_CLI_BINARY,    /* each record: a 4-byte little-endian length, then that many bytes */
};

#define RG_CLI_NS_PER_MS ((uint64_t)1000000)
#define RG_CLI_NS_PER_S  ((uint64_t)1000000000)
/* The longest a tool sleeps in one wait, so progress and timeouts stay on time (ns). */
#define RG_CLI_WAIT_NS_MAX (50 * RG_CLI_NS_PER_MS)

/* The options both tools take. */
struct rg_cli_common {
	const char *prog;
	struct rg_client_config cfg; /* id, gateways, connect timeout, key file */
	enum rg_cli_format format;
	uint64_t progress_ns; /* 0: no progress lines */
};

/* The signal that asked us to stop (SIGINT, SIGTERM), 0 while none did. */
extern volatile sig_atomic_t rg_cli_stop_signal;

/* Fills c with the defaults: lines, progress every second, connect timeout 5 s. */
void rg_cli_common_init(struct rg_cli_common *c, const char *prog);

/*
 * Parses a value. Each returns 0, or -EINVAL after printing
 * "PROG: --OPT: why" on stderr. Numbers are decimal or 0x-hex, nothing
 * trailing; seconds may have a fraction ("0.5").
 */
int rg_cli_parse_u64(const struct rg_cli_common *c, const char *opt, const char *text, uint64_t min,
		     uint64_t max, uint64_t *out);
int rg_cli_parse_seconds(const struct rg_cli_common *c, const char *opt, const char *text,
			 uint64_t *out_ns);
/* A stream id: decimal, 0x-hex, or NS:K (namespace NS high, K low 32 bits); never 0. */
int rg_cli_parse_stream(const struct rg_cli_common *c, const char *opt, const char *text,
			uint64_t *out);
/*
 * ID@ADDR:PORT[,PUBKEY], added to c->cfg.gateways (at most
 * RG_CLIENT_GATEWAYS_MAX, ids distinct). PUBKEY is the gateway's public key
 * in base64 (44 characters); whether it must be there depends on --key,
 * which may come later: rg_cli_keys_check() says.
 */
int rg_cli_parse_gateway(struct rg_cli_common *c, const char *text);
/* --key FILE: this client's private key file, into c->cfg.key_file (read by rg_client_create). */
int rg_cli_parse_key(struct rg_cli_common *c, const char *text);
/*
 * After parsing: with a key file every gateway has a PUBKEY, without one
 * none has. 0 or -EINVAL (said on stderr as "PROG: --gateway ...: why").
 */
int rg_cli_keys_check(const char *prog, const struct rg_client_config *cfg);
/* rg_client_create() said rc: "PROG: cannot start the client: CODE: why" on stderr. */
void rg_cli_create_error(const char *prog, const struct rg_client_config *cfg, int rc);
int rg_cli_parse_format(const struct rg_cli_common *c, const char *text);

/*
 * Handles one of the common options (getopt_long's code and optarg): 1 when
 * it was one and parsed, 0 when it is not a common option, -EINVAL when it
 * was one and its value is wrong (said on stderr).
 */
int rg_cli_common_option(struct rg_cli_common *c, int code, const char *arg);
/*
 * After parsing: --id and at least one --gateway are there, and differ; the
 * gateways' PUBKEYs agree with --key (rg_cli_keys_check). 0 or -EINVAL (said).
 */
int rg_cli_common_check(const struct rg_cli_common *c);
/* getopt_long codes of the common options, for the tools' option tables. */
enum {
	RG_CLI_OPT_ID = 0x100,
	RG_CLI_OPT_GATEWAY,
	RG_CLI_OPT_FORMAT,
	RG_CLI_OPT_CONNECT_TIMEOUT,
	RG_CLI_OPT_PROGRESS_MS,
	RG_CLI_OPT_KEY,
	RG_CLI_OPT_FIRST_OWN, /* the tools number theirs from here */
};

/* "1@10.0.0.1:7000, 2@10.0.0.2:7000": the gateways, for messages. */
void rg_cli_gateways_str(const struct rg_client_config *cfg, char *buf, size_t cap);
/* Why a tool gives up connecting: the timeout, the gateways tried, what to check. */
void rg_cli_unreachable_str(const struct rg_client_config *cfg, char *buf, size_t cap);
/* "0x0000000500000001 (5:1)". */
void rg_cli_stream_str(uint64_t stream, char *buf, size_t cap);
/* What a refusal means, in words. */
const char *rg_cli_refusal_str(int status);

/* Blocks SIGINT and SIGTERM (let in by rg_cli_wait and rg_cli_write_all), ignores SIGPIPE. */
int rg_cli_signals_init(void);
/* The exit code for the stop signal: 128 + its number. */
int rg_cli_signal_exit(void);
const char *rg_cli_signal_name(void);

/*
 * Waits until the client's socket is readable, its next deadline, fd2
 * (-1: none) is readable, a stop signal comes, or max_ns passed (at most
 * RG_CLI_WAIT_NS_MAX); never longer. Then polls the client once. *fd2_ready
 * says whether fd2 is readable (or at its end). Returns rg_client_poll's
 * result: 0, or the socket's -errno (the client stays usable).
 */
int rg_cli_wait(struct rg_client *cl, int fd2, uint64_t max_ns, int *fd2_ready);

/*
 * Writes len bytes to fd, with the stop signals let in: *written says how
 * many went out. 0; -EINTR when a stop signal came while a write was blocked
 * (a reader that does not read: the rest is not written); or write's -errno
 * (-EPIPE: the reader went away). A stop that came before does not stop it.
 */
int rg_cli_write_all(int fd, const void *buf, size_t len, size_t *written);

/* Progress: due every period_ns (0: never). */
struct rg_cli_tick {
	uint64_t period_ns, next_ns, last_ns;
	uint64_t last_count, last_bytes;
};
void rg_cli_tick_init(struct rg_cli_tick *t, uint64_t period_ns, uint64_t now_ns);
/* 1 when a progress line is due at now_ns; *rate and *bps are per second since the last. */
int rg_cli_tick_due(struct rg_cli_tick *t, uint64_t now_ns, uint64_t count, uint64_t bytes,
		    double *rate, double *bps);

/*
 * Standard input, cut into records (lines or binary). The buffer holds the
 * largest record (1 MiB) and its length prefix, and a read chunk; nothing is
 * read while a whole record waits in it, so what is read ahead of the
 * records taken is bounded by one chunk (plus the pipe's own buffer).
 */
struct rg_cli_input {
	int fd;
	enum rg_cli_format format;
	uint8_t *buf;
	size_t start, end, cap;
	uint64_t offset; /* stdin's byte offset of buf[start]: where the next record begins */
	int eof;
	char err[160]; /* why rg_cli_input_peek said -EINVAL */
};

int rg_cli_input_init(struct rg_cli_input *in, int fd, enum rg_cli_format format);
void rg_cli_input_fini(struct rg_cli_input *in);
/*
 * The next whole record, without taking it: 1 (*data, *len point into the
 * buffer until the next call that changes it); 0 when more must be read (or
 * at the end: in->eof and nothing is left); -EINVAL for input that is not
 * records (in->err says why and at which offset).
 */
int rg_cli_input_peek(struct rg_cli_input *in, const uint8_t **data, uint32_t *len);
/* Takes the record peek said. */
void rg_cli_input_take(struct rg_cli_input *in);
/* Reads once (the caller knows fd is readable). 0 (in->eof may be set now) or read's -errno. */
int rg_cli_input_read(struct rg_cli_input *in);

#endif /* RG_APPS_CLIENTS_COMMON_H */
