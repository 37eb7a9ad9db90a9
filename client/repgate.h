/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librepgate: the producer and consumer library of repgate (DESIGN §4.9).
 *
 * A client is a process of the replicated system — a workflow engine's
 * history shard, say — on any host of a region. It reaches a gateway of its
 * region over one kernel UDP socket, speaking the same protocol (RGP) the
 * gateways speak between regions, with the same protocol core inside: acks,
 * retransmission, credit, resume after any restart. A producer publishes the
 * ordered records of its streams; a consumer in a replica region receives
 * them in order, exactly once per consumer incarnation, and says what it
 * made durable.
 *
 * Event loop. Everything happens inside rg_client_poll(): it reads what
 * arrived, runs the timers, sends what may leave, and calls the callbacks.
 * Wait for rg_client_fd() to be readable or for rg_client_next_deadline_ns(),
 * whichever comes first, then call rg_client_poll(rg_client_now_ns()); so
 * the client fits epoll, libuv or Go's netpoller. rg_client_run() is that
 * loop over poll(2), for programs that have no loop of their own.
 *
 * Threads. A client is not thread safe: call every function of one client
 * from one thread at a time (or under one lock). Callbacks run on that
 * thread, inside rg_client_poll(), rg_client_run() or
 * rg_client_publish_wait(). Inside deliver and stream_applied, only
 * rg_client_applied() may be called (it takes effect when deliver returns);
 * the other callbacks may call anything but rg_client_poll(),
 * rg_client_run() and rg_client_publish_wait() (those say -EDEADLK) and
 * rg_client_destroy() (never). Different clients are independent.
 *
 * Producer. rg_client_open() a stream; the replay callback then names the
 * seq to publish from (the consumer's applied watermark + 1: 1 for a new
 * stream), and again after any hop restarted or the stream moved. Publish
 * from there in order; the library copies each record and keeps it until
 * the next hop has it; the applied callback says how far the consumer made
 * the stream durable, and the producer may trim its own log up to there.
 *
 * Consumer. rg_client_subscribe() a stream with the applied watermark it
 * made durable (0: from the start), or rg_client_subscribe_ns() a whole
 * namespace (the stream_applied callback says where each of its streams
 * stands). deliver gets every record after that watermark, in seq order,
 * once; rg_client_applied() tells the gateway what is durable now. After a
 * crash, subscribe again from the durable watermark: what was delivered but
 * not applied comes again.
 *
 * Gateways. The config lists the region's gateways. The client serves its
 * streams through the first one that answers, in list order; when the
 * accrual failure detector judges it dead, every stream and subscription
 * moves to another live one and resumes from applied.
 *
 * Security. With key_file set, every packet to and from the gateways is
 * sealed (AES-256-GCM; keys from X25519 between this client's private key
 * and each gateway's public key, per direction and per pair of
 * incarnations: docs/protocol.md §3a), and a packet that does not open is
 * dropped (drops_rx). Every gateway's pubkey is then required, and the
 * gateways must run with security.mode = "aead" and list this client's
 * public key. With key_file "" the client is plaintext (CRC32C), for
 * gateways with security.mode = "none"; the two modes never talk (each
 * drops the other's packets, and the client says UNREACHABLE). A wrong key
 * looks the same: nothing opens, so nothing arrives. The private key is read
 * once, in rg_client_create(); its secrets live in the client and are wiped
 * by rg_client_destroy().
 *
 * Errors: every function returns 0 (or a count) on success and a negative
 * errno-style code on failure, as listed at each; rg_client_strerror() names
 * them. Nothing is changed when a call fails.
 */
#ifndef REPGATE_CLIENT_H
#define REPGATE_CLIENT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RG_CLIENT_VERSION      "0.1.0"
#define RG_CLIENT_GATEWAYS_MAX 8
#define RG_CLIENT_RECORD_MAX   (1u << 20) /* the largest record: 1 MiB */
#define RG_CLIENT_ADDR_BYTES   64
#define RG_CLIENT_PATH_BYTES   256
#define RG_CLIENT_PUBKEY_CHARS 44 /* a 32-byte X25519 public key in base64, with its '=' */

/*
 * The namespace is not active in this region, or is handing over (publish in
 * the active region): reserved for the namespace directory (DESIGN §4.7); no
 * call returns it yet.
 */
#define RG_CLIENT_ENOTACTIVE (-EROFS)

struct rg_client;

struct rg_client_gateway {
	uint16_t id;                     /* the gateway's id (its profile's gateway.id) */
	char addr[RG_CLIENT_ADDR_BYTES]; /* IPv4, dotted: "10.1.0.2" */
	uint16_t port;                   /* its UDP port (port.udp_port) */
	/*
	 * Its public key in base64 (`repgatectl pubkey` of its security.key),
	 * NUL-terminated; required for every gateway when key_file is set, and
	 * "" when it is not.
	 */
	char pubkey[RG_CLIENT_PUBKEY_CHARS + 1];
};

struct rg_client_config {
	uint16_t id;          /* this client's id: the gateway's profile lists it (clients.[].id) */
	uint64_t incarnation; /* 0: from the clock, so a restarted client has a larger one */
	struct rg_client_gateway gateways[RG_CLIENT_GATEWAYS_MAX];
	uint16_t ngateways;
	char bind_addr[RG_CLIENT_ADDR_BYTES]; /* "" = any */
	uint16_t bind_port;                   /* 0 = any */
	uint32_t streams_max;        /* streams opened plus streams received (default 1024) */
	uint32_t stream_records_max; /* a stream's records held until the gateway has them (1024) */
	uint32_t records_max;        /* the same over every stream (65536) */
	uint64_t bytes_max; /* bytes of records held and of records being put together (64 MiB) */
	uint32_t window_records; /* consumer: records a stream may be ahead (256, power of two) */
	uint32_t pkt_bytes_max;  /* largest datagram sent (1472: a 1500-byte MTU) */
	uint64_t connect_timeout_ns; /* no gateway answered within this: unreachable (5 s) */
	uint64_t dead_after_ns;      /* the serving gateway silent this long is dead (1.5 s) */
	/*
	 * This client's private key file ("" = plaintext): one line of base64
	 * as `repgatectl keygen` writes it, a regular file (not a symlink) of
	 * mode 0600 or 0400. See "Security" above.
	 */
	char key_file[RG_CLIENT_PATH_BYTES];
};

/* Fills cfg with the defaults above, no gateways, id 0 (which must be set). */
void rg_client_config_default(struct rg_client_config *cfg);

enum rg_client_event_type {
	RG_CLIENT_EV_CONNECTED = 1, /* a gateway serves this client now (gateway) */
	RG_CLIENT_EV_MOVED,         /* the serving gateway died: streams moved (gateway = new) */
	RG_CLIENT_EV_UNREACHABLE,   /* no gateway answers (since connect_timeout_ns or all dead) */
	RG_CLIENT_EV_SUBSCRIBED,    /* a subscription was taken (key) */
	RG_CLIENT_EV_REFUSED,       /* a subscription was refused (key, status: see below) */
};

/* A subscription's refusal (RG_CLIENT_EV_REFUSED .status). */
enum rg_client_refusal {
	RG_CLIENT_REFUSED_BUSY = 1,    /* another consumer holds the stream at this gateway */
	RG_CLIENT_REFUSED_FULL,        /* the gateway's subscription table is full */
	RG_CLIENT_REFUSED_NOT_ALLOWED, /* this client may not subscribe at this gateway */
	RG_CLIENT_REFUSED_UNKNOWN,     /* the gateway knows no such stream or namespace */
};

struct rg_client_event {
	enum rg_client_event_type type;
	uint16_t gateway;
	int namespace_sub; /* SUBSCRIBED, REFUSED: 1 for a namespace (key = ns << 32) */
	uint64_t key;
	int status; /* REFUSED: enum rg_client_refusal */
};

struct rg_client_cb {
	/* Producer: publish stream again from seq `from` (everything before is applied or held). */
	void (*replay)(void *ctx, uint64_t stream, uint64_t from);
	/* Producer: the consumer made every seq <= applied durable: the log may be trimmed. */
	void (*applied)(void *ctx, uint64_t stream, uint64_t applied);
	/*
	 * Consumer: one record, in order. data is valid during the call only.
	 * Returns 0, or -EAGAIN when it cannot take it now: the same record
	 * comes again in a later rg_client_poll() (and the stream's credit stops
	 * meanwhile, which slows the producer: backpressure).
	 */
	int (*deliver)(void *ctx, uint64_t stream, uint64_t seq, uint32_t version, const void *data,
		       uint32_t len);
	/*
	 * Consumer, namespace subscriptions: stream of a subscribed namespace
	 * arrives for the first time; set *applied to its durable watermark (0:
	 * from the start) and return 0, or return -errno to leave it waiting
	 * (it is not delivered; the gateway's send stream stays open). NULL: 0.
	 */
	int (*stream_applied)(void *ctx, uint64_t stream, uint64_t *applied);
	void (*event)(void *ctx, const struct rg_client_event *ev);
	void *ctx;
};

/*
 * Creates a client and its socket, and says hello to its gateways. 0;
 * -EINVAL (a bad config: no gateway, id 0, an address that does not parse,
 * a size out of range; a callback set that fits no role is fine; and with
 * key_file set: a key file that holds no private key, is not a regular
 * file, a gateway without a pubkey or with one that is not a public key;
 * without key_file: a gateway with a pubkey); -EPERM (the key file's mode
 * lets others than its owner read or write it: chmod 600); the key file's
 * open -errno (-ENOENT, -EACCES, -ELOOP for a symlink); -EIO (libcrypto
 * failed); -ENOMEM; or the socket's -errno (-EADDRINUSE for a bind_port in
 * use). rg_client_config_check() says why in words.
 */
int rg_client_create(const struct rg_client_config *cfg, const struct rg_client_cb *cb,
		     struct rg_client **out);
/*
 * What rg_client_create() would say of cfg, short of the socket: 0, or its
 * error code with a message in err (errlen bytes, NUL-terminated; the key
 * file and the gateway it is about are named). Reads the key file (and
 * wipes what it read). For messages: a caller that got an error from
 * rg_client_create() asks this why.
 */
int rg_client_config_check(const struct rg_client_config *cfg, char *err, size_t errlen);
/* Closes the socket and frees everything (say rg_client_close() first for a clean stop). */
void rg_client_destroy(struct rg_client *c);
/* Tells the gateways this client is going (CLOSE); keep polling a moment for it to leave. */
void rg_client_close(struct rg_client *c);

/* The socket to wait on for reading. */
int rg_client_fd(const struct rg_client *c);
/* When rg_client_poll() must run next (rg_client_now_ns() clock); UINT64_MAX: never. */
uint64_t rg_client_next_deadline_ns(struct rg_client *c);
/* The clock the client runs on: CLOCK_MONOTONIC in ns. */
uint64_t rg_client_now_ns(void);
/*
 * Reads what arrived, runs the timers, sends, calls the callbacks. Never
 * blocks. 0, or the socket's -errno (the client stays usable).
 */
int rg_client_poll(struct rg_client *c, uint64_t now_ns);
/* Polls as events come for timeout_ns (0: once, without waiting). 0 or -errno. */
int rg_client_run(struct rg_client *c, uint64_t timeout_ns);

/*
 * Producer: starts stream (a nonzero id; its namespace is the high 32 bits).
 * It opens at the serving gateway (or when one answers); the replay callback
 * names its first seq. 0; -EINVAL (id 0); -EEXIST; -ENOSPC (streams_max).
 */
int rg_client_open(struct rg_client *c, uint64_t stream);
/*
 * Producer: hands over record seq of stream (copied: data may be reused at
 * once). 0; -EAGAIN: backpressure (the stream's queue, records_max or
 * bytes_max is full): poll, then try again; -ENOTCONN: the stream is
 * resyncing: wait for the replay callback, which says where to publish from;
 * -EINVAL: seq is not the next one, len > 1 MiB, or data NULL with len > 0;
 * -ENOENT: the stream was not opened; -EDEADLK: called inside deliver;
 * RG_CLIENT_ENOTACTIVE (reserved).
 */
int rg_client_publish(struct rg_client *c, uint64_t stream, uint64_t seq, uint32_t version,
		      const void *data, uint32_t len);
/*
 * rg_client_publish(), polling the client while it says -EAGAIN, for at most
 * timeout_ns: then -ETIMEDOUT. Any other result is returned at once; so is
 * -ENOTCONN when the stream's replay callback ran during the wait (seq may
 * be stale: publish from where it said).
 */
int rg_client_publish_wait(struct rg_client *c, uint64_t stream, uint64_t seq, uint32_t version,
			   const void *data, uint32_t len, uint64_t timeout_ns);

/*
 * Consumer: receive stream from after applied (what this consumer made
 * durable; 0 for everything). A stream the gateway offered before the app
 * asked (it resumes what an earlier incarnation of this client received)
 * waits until then, and is taken here. 0; -EINVAL (id 0, or applied
 * UINT64_MAX); -EEXIST (already subscribed); -ENOSPC.
 */
int rg_client_subscribe(struct rg_client *c, uint64_t stream, uint64_t applied);
/* Consumer: every stream of namespace ns (nonzero). 0, -EINVAL, -EEXIST, -ENOSPC. */
int rg_client_subscribe_ns(struct rg_client *c, uint32_t ns);
/*
 * Consumer: every seq <= seq of stream is durable; the gateway may tell the
 * producer. 0; -ENOENT (not a stream this client receives); -EINVAL (seq
 * past what was delivered). May be called inside deliver.
 */
int rg_client_applied(struct rg_client *c, uint64_t stream, uint64_t seq);

/* The gateway serving this client now, 0 for none yet. */
uint16_t rg_client_gateway(const struct rg_client *c);

/* What the client did, for progress lines and metrics. */
struct rg_client_stats {
	uint64_t published; /* records taken by rg_client_publish */
	uint64_t published_bytes;
	uint64_t acked;     /* records the gateway has (released by the library) */
	uint64_t applied;   /* producer: sum over streams of the applied watermarks */
	uint64_t delivered; /* consumer: records handed to deliver (and taken) */
	uint64_t delivered_bytes;
	uint64_t refused;      /* deliver said -EAGAIN */
	uint64_t held_records; /* records held now (until the gateway has them) */
	uint64_t held_bytes;   /* bytes held now: records and reassembly */
	uint64_t packets_tx, packets_rx, bytes_tx, bytes_rx;
	uint64_t rtx_frames;  /* frames sent again after a loss */
	uint64_t drops_rx;    /* datagrams the protocol refused (malformed, stale, ...) */
	uint64_t send_errors; /* datagrams the socket would not take */
	uint64_t gso_sends;   /* sends that carried several datagrams (UDP GSO) */
	uint64_t moves;       /* failovers to another gateway */
	uint64_t rtt_ns;      /* smoothed RTT to the serving gateway */
};
void rg_client_stats(const struct rg_client *c, struct rg_client_stats *out);

/* A name for a code these functions return ("EAGAIN", "ENOTACTIVE", ...). */
const char *rg_client_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* REPGATE_CLIENT_H */
