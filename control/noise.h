/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Noise IK handshake (Noise Protocol Framework rev. 34, §7.5), as
 * Noise_IK_25519_AESGCM_SHA256: the handshake the security issue's session
 * keys are to come from (DESIGN §4.12; docs/protocol.md §5c). On
 * libcrypto: X25519, SHA-256, HMAC-SHA256, AES-256-GCM.
 *
 *   <- s                 the initiator knows the responder's static key
 *   ...
 *   -> e, es, s, ss      INIT: 32 + 48 + payload + 16 bytes
 *   <- e, ee, se         RESP: 32 + payload + 16 bytes
 *
 * What it gives: mutual authentication by the static keys; forward secrecy
 * (the transport keys hang on the two ephemerals, wiped at split); the
 * initiator's identity hidden from a passive observer (its static key
 * travels encrypted). What it does not: replay protection of INIT (a
 * replayed INIT makes the responder answer again, and the answer is
 * useless to anyone without the initiator's keys); the caller rejects
 * replays by what the INIT payload carries (an incarnation and a counter)
 * and rate-limits handshakes.
 *
 * The core's session keys come from these handshakes, one per lane
 * (keys.h, dataplane/proto/session.h, docs/protocol.md §5c).
 *
 * Threads: a handshake state is one thread's. Every function wipes the
 * secrets it no longer needs; rg_noise_wipe wipes the rest.
 */
#ifndef RG_CONTROL_NOISE_H
#define RG_CONTROL_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define RG_NOISE_KEY_BYTES  32
#define RG_NOISE_HASH_BYTES 32
#define RG_NOISE_TAG_BYTES  16
/* Message sizes for a payload of p bytes. */
#define RG_NOISE_INIT_BYTES(p) (32 + 32 + 16 + (p) + 16)
#define RG_NOISE_RESP_BYTES(p) (32 + (p) + 16)
/* The largest payload either message takes here. */
#define RG_NOISE_PAYLOAD_MAX 256

enum rg_noise_step {
	RG_NOISE_NONE = 0,       /* no handshake (a zeroed state) */
	RG_NOISE_WRITE_INIT = 1, /* initiator, before INIT */
	RG_NOISE_READ_INIT,      /* responder, before INIT */
	RG_NOISE_READ_RESP,      /* initiator, INIT sent */
	RG_NOISE_WRITE_RESP,     /* responder, INIT read */
	RG_NOISE_SPLIT,          /* both messages done: rg_noise_split */
	RG_NOISE_FAILED,         /* a message failed: wiped, unusable */
};

struct rg_noise {
	enum rg_noise_step step;
	int initiator;
	uint8_t ck[RG_NOISE_HASH_BYTES], h[RG_NOISE_HASH_BYTES];
	uint8_t k[RG_NOISE_KEY_BYTES];
	uint64_t n;
	int has_k;
	uint8_t s[32], s_pub[32]; /* this side's static key */
	uint8_t e[32], e_pub[32]; /* this side's ephemeral */
	uint8_t rs[32], re[32];   /* the other side's static and ephemeral public keys */
};

/*
 * Starts a handshake. s: this side's static private key; rs: the
 * responder's static public key (initiator only); prologue: bytes both
 * sides must agree on, bound into the hash (may be empty). e: an ephemeral
 * private key to use (the test vectors), or NULL for a fresh random one.
 * 0, -EINVAL (a key X25519 refuses) or -EIO.
 */
int rg_noise_initiator(struct rg_noise *hs, const uint8_t s[32], const uint8_t rs[32],
		       const uint8_t *prologue, size_t prologue_len, const uint8_t *e);
int rg_noise_responder(struct rg_noise *hs, const uint8_t s[32], const uint8_t *prologue,
		       size_t prologue_len, const uint8_t *e);

/*
 * The messages. write: builds the message carrying payload into out (room
 * for RG_NOISE_INIT_BYTES / RG_NOISE_RESP_BYTES of it); returns its length.
 * read: checks msg and writes its payload to payload (room for
 * RG_NOISE_PAYLOAD_MAX); returns the payload's length. After read_init,
 * hs->rs is the initiator's static public key: the caller decides whether
 * it is allowed before it answers. -EINVAL: a payload too long or a call
 * out of turn; -EBADMSG: a message that does not check (the state is then
 * FAILED and wiped); -EIO: the library failed.
 */
int rg_noise_write_init(struct rg_noise *hs, const uint8_t *payload, size_t len, uint8_t *out);
int rg_noise_read_init(struct rg_noise *hs, const uint8_t *msg, size_t len, uint8_t *payload);
int rg_noise_write_resp(struct rg_noise *hs, const uint8_t *payload, size_t len, uint8_t *out);
int rg_noise_read_resp(struct rg_noise *hs, const uint8_t *msg, size_t len, uint8_t *payload);

/*
 * The transport keys, once both messages are done: tx seals what this side
 * sends, rx opens what it receives (the initiator's tx is the responder's
 * rx). hash: the handshake hash (channel binding), may be NULL. Wipes the
 * state. 0, -EINVAL (not both messages yet) or -EIO.
 */
int rg_noise_split(struct rg_noise *hs, uint8_t tx[RG_NOISE_KEY_BYTES],
		   uint8_t rx[RG_NOISE_KEY_BYTES], uint8_t hash[RG_NOISE_HASH_BYTES]);

/* Wipes every secret of hs (any step). */
void rg_noise_wipe(struct rg_noise *hs);

/*
 * Noise's AESGCM cipher functions (§12.4): nonce = 32 zero bits and n big
 * endian, ad authenticated; out gets len + 16 bytes (encrypt) or len - 16
 * (decrypt). For the transport messages of the test vectors and for
 * callers that want the Noise framing. encrypt: 0 or -EIO; decrypt: 0,
 * -EBADMSG or -EIO.
 */
int rg_noise_encrypt(const uint8_t k[RG_NOISE_KEY_BYTES], uint64_t n, const uint8_t *ad,
		     size_t ad_len, const uint8_t *in, size_t len, uint8_t *out);
int rg_noise_decrypt(const uint8_t k[RG_NOISE_KEY_BYTES], uint64_t n, const uint8_t *ad,
		     size_t ad_len, const uint8_t *in, size_t len, uint8_t *out);

#endif /* RG_CONTROL_NOISE_H */
