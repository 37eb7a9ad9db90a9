/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identity keys and the AEAD the protocol core is given (DESIGN §4.12,
 * docs/protocol.md §3a, §5c), on OpenSSL's libcrypto (X25519, SHA-256) and
 * AES-256-GCM on ipsec-mb or libcrypto. The gateway and librepgate both
 * link it; it has no DPDK and no threads of its own.
 *
 * A keyring holds this side's static private key, each peer's public key,
 * its Noise IK handshakes in progress (noise.h: per lane, one of ours and
 * one INIT read), and one AES-256-GCM context per key slot of the core
 * (struct rg_aead). The keys
 * of a slot come only from a finished handshake (rg_keyring_hs_answer /
 * hs_finish): fresh per handshake, so each session has forward secrecy
 * (its keys hang on two ephemerals wiped when it finished), the
 * initiator's identity crosses the wire encrypted, and rekeying is a new
 * handshake. Which slot holds which session, and when to rekey, is the
 * core's (dataplane/proto/session.h).
 *
 * Threads: a keyring is used by one thread (the worker, the client's loop)
 * after setup; setup (create, add_peer) happens before the core runs.
 */
#ifndef RG_CONTROL_KEYS_H
#define RG_CONTROL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "noise.h"

#define RG_KEY_BYTES     32
#define RG_KEY_B64_CHARS 44 /* base64 of 32 bytes, with its one '=' */

struct rg_keyring;

/* A new random private key (X25519, clamped by the library). 0 or -EIO. */
int rg_key_generate(uint8_t priv[RG_KEY_BYTES]);
/* The public key of priv. 0 or -EIO. */
int rg_key_public(const uint8_t priv[RG_KEY_BYTES], uint8_t pub[RG_KEY_BYTES]);
/* key ⇄ base64 text (44 characters and a NUL); parse refuses anything else: 0 or -EINVAL. */
void rg_key_to_b64(const uint8_t key[RG_KEY_BYTES], char out[RG_KEY_B64_CHARS + 1]);
int rg_key_from_b64(const char *text, uint8_t key[RG_KEY_BYTES]);

/*
 * Reads a private key file: one line of base64 (what `repgatectl keygen`
 * writes). Refused unless it is a regular file that only its owner may read
 * or write (mode 0600 or 0400). 0, or -errno with a message naming the file
 * in err.
 */
int rg_key_load_file(const char *path, uint8_t priv[RG_KEY_BYTES], char *err, size_t errlen);

/* Which code runs AES-256-GCM; the wire is the same either way. */
enum rg_aead_impl {
	RG_AEAD_AUTO,     /* ipsec-mb where built in and this CPU runs it, else OpenSSL */
	RG_AEAD_OPENSSL,  /* libcrypto's EVP AES-256-GCM */
	RG_AEAD_IPSEC_MB, /* Intel's ipsec-mb (built in with RG_HAVE_IPSEC_MB) */
};

/*
 * A keyring for a core of peers_max peers and lanes_max lanes: the key slots
 * of its sessions (RG_AEAD_SLOTS(lanes_max), core.h) and one handshake in
 * progress per lane, with the fastest AES-256-GCM built in (RG_AEAD_AUTO).
 * One keyring serves one thread: its slots are that core's. Returns 0,
 * -EINVAL (lanes_max 0 or above 65535), -ENOMEM or -EIO.
 */
int rg_keyring_create(const uint8_t priv[RG_KEY_BYTES], uint16_t peers_max, uint32_t lanes_max,
		      struct rg_keyring **out);
/* The same with the AES-256-GCM code chosen: also -ENOTSUP (not built in, or not this CPU). */
int rg_keyring_create_impl(const uint8_t priv[RG_KEY_BYTES], uint16_t peers_max, uint32_t lanes_max,
			   enum rg_aead_impl impl, struct rg_keyring **out);
/* Puts a raw key in slot (tests, benchmarks; the core's keys come from handshakes): 0, -EINVAL. */
int rg_keyring_set_key(struct rg_keyring *k, uint32_t slot, const uint8_t key[RG_KEY_BYTES]);
/* What runs the cipher, for logs: "AES-256-GCM on ...". */
const char *rg_keyring_impl_name(const struct rg_keyring *k);
/* The peer gw's public key: 0, -EEXIST, -ENOSPC, or -EINVAL (a key X25519 refuses). */
int rg_keyring_add_peer(struct rg_keyring *k, uint16_t gw, const uint8_t pub[RG_KEY_BYTES]);
/*
 * Noise IK handshakes per lane (noise.h), the keys of a finished one put in
 * two slots: tx_slot seals what this side sends, rx_slot opens what it
 * receives. The peer is named by its gateway id (rg_keyring_add_peer); a
 * lane holds one handshake of ours in progress (a new initiate replaces it)
 * and one INIT read and not answered yet (a new read_init replaces it), so
 * INITs crossing on the wire both finish. Payloads are at most RG_NOISE_PAYLOAD_MAX bytes;
 * out has room for RG_NOISE_INIT_BYTES / RG_NOISE_RESP_BYTES of them.
 *
 * initiate: writes an INIT to gw; returns its length.
 * read_init: reads an INIT said to come from gw and writes its payload;
 *   returns the payload's length; -EACCES when it checks but the sender's
 *   identity is not gw's (another listed peer, or a stranger).
 * answer: the RESP to the INIT just read, the session's keys installed;
 *   returns the RESP's length.
 * finish: reads the RESP to this lane's INIT to gw, installs the keys and
 *   writes its payload; returns the payload's length. A RESP that does not
 *   check leaves the INIT pending (a forged one cannot cancel the real one).
 * Errors: -EINVAL (lane or slot out of range, or nothing pending that the
 * call could go on with), -ENOENT (gw not a peer), -EBADMSG (the message
 * does not check), -EIO (the library).
 */
int rg_keyring_hs_initiate(struct rg_keyring *k, uint32_t lane, uint16_t gw,
			   const uint8_t *prologue, size_t prologue_len, const uint8_t *payload,
			   size_t len, uint8_t *out);
int rg_keyring_hs_read_init(struct rg_keyring *k, uint32_t lane, uint16_t gw,
			    const uint8_t *prologue, size_t prologue_len, const uint8_t *msg,
			    size_t len, uint8_t *payload);
int rg_keyring_hs_answer(struct rg_keyring *k, uint32_t lane, uint32_t tx_slot, uint32_t rx_slot,
			 const uint8_t *payload, size_t len, uint8_t *out);
int rg_keyring_hs_finish(struct rg_keyring *k, uint32_t lane, uint16_t gw, uint32_t tx_slot,
			 uint32_t rx_slot, const uint8_t *msg, size_t len, uint8_t *payload);
/* Replaces slot's key with a random one nobody has (an expired session): 0, -EINVAL, -EIO. */
int rg_keyring_forget(struct rg_keyring *k, uint32_t slot);
/* Wipes every secret and frees. NULL is fine. */
void rg_keyring_destroy(struct rg_keyring *k);
/* The AEAD for rg_core_config.aead; the keyring must outlive the core. */
struct rg_aead rg_keyring_aead(struct rg_keyring *k);

#endif /* RG_CONTROL_KEYS_H */
