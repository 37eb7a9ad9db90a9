/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identity keys and the core's AEAD (keys.h). X25519 and the Noise IK handshakes (noise.c) on
 * libcrypto; AES-256-GCM on
 * Intel's ipsec-mb where it was built in (RG_HAVE_IPSEC_MB: its VAES/AVX-512 code is 2.5×
 * OpenSSL 3.0's on these hosts, see ring_seal), else on libcrypto too. Both are the same
 * AES-256-GCM (RFC 5116); test_keys seals with one and opens with the other.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#ifdef RG_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#endif

#include "keys.h"
#include "noise.h"

struct rg_keyring_peer {
	uint16_t gw;
	uint8_t pub[RG_KEY_BYTES];
};

/*
 * A lane's handshakes in progress (rg_keyring_hs_*): ours (initiator, until
 * its RESP) and the one we answer (responder, between read_init and answer),
 * apart, so INITs crossing on the wire both finish.
 */
struct rg_keyring_hs {
	struct rg_noise noise;
	uint16_t gw; /* with whom */
};

struct rg_keyring {
	uint8_t priv[RG_KEY_BYTES];
	uint16_t npeers, peers_max;
	struct rg_keyring_peer *peers;
	uint32_t nslots;
	uint32_t lanes_max;
	struct rg_keyring_hs *hs; /* 2 per lane: [2 li] ours, [2 li + 1] the one we answer */
	enum rg_aead_impl impl;
	EVP_CIPHER_CTX *
	    *slot; /* RG_AEAD_OPENSSL: AES-256-GCM, keyed; the nonce is set per packet */
	EVP_CIPHER *gcm;
#ifdef RG_HAVE_IPSEC_MB
	IMB_MGR *mb;                  /* RG_AEAD_IPSEC_MB: the function table for this CPU */
	struct gcm_key_data *mb_slot; /* expanded keys, 64-byte aligned */
#endif
};

int
rg_key_generate(uint8_t priv[RG_KEY_BYTES])
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t n = RG_KEY_BYTES;
	int rc = 0;

	if (pk == NULL)
		return -EIO;
	if (EVP_PKEY_get_raw_private_key(pk, priv, &n) != 1 || n != RG_KEY_BYTES)
		rc = -EIO;
	EVP_PKEY_free(pk);
	return rc;
}

int
rg_key_public(const uint8_t priv[RG_KEY_BYTES], uint8_t pub[RG_KEY_BYTES])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, RG_KEY_BYTES);
	size_t n = RG_KEY_BYTES;
	int rc = 0;

	if (pk == NULL)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(pk, pub, &n) != 1 || n != RG_KEY_BYTES)
		rc = -EIO;
	EVP_PKEY_free(pk);
	return rc;
}

void
rg_key_to_b64(const uint8_t key[RG_KEY_BYTES], char out[RG_KEY_B64_CHARS + 1])
{
	EVP_EncodeBlock((unsigned char *)out, key, RG_KEY_BYTES);
	out[RG_KEY_B64_CHARS] = '\0';
}

int
rg_key_from_b64(const char *text, uint8_t key[RG_KEY_BYTES])
{
	unsigned char raw[RG_KEY_BYTES + 3];

	if (strlen(text) != RG_KEY_B64_CHARS || text[RG_KEY_B64_CHARS - 1] != '=' ||
	    text[RG_KEY_B64_CHARS - 2] == '=')
		return -EINVAL;
	/* 44 characters with one '=' decode to 33 bytes, the last a pad zero. */
	if (EVP_DecodeBlock(raw, (const unsigned char *)text, RG_KEY_B64_CHARS) != 33)
		return -EINVAL;
	memcpy(key, raw, RG_KEY_BYTES);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int
rg_key_load_file(const char *path, uint8_t priv[RG_KEY_BYTES], char *err, size_t errlen)
{
	char line[128];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = -EINVAL;
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s: mode %04o lets others read a private key: chmod 600 it "
			 "(repgatectl keygen writes it so)",
			 path, (unsigned)(st.st_mode & 07777));
		rc = -EPERM;
		goto out;
	}
	n = read(fd, line, sizeof(line) - 1);
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto out;
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (rg_key_from_b64(line, priv) != 0) {
		snprintf(err, errlen,
			 "%s:1: not a private key (44 characters of base64, as "
			 "`repgatectl keygen` writes)",
			 path);
		rc = -EINVAL;
	}
out:
	OPENSSL_cleanse(line, sizeof(line));
	close(fd);
	return rc;
}

/* The OpenSSL slots: one keyed-once GCM context each, the cipher fetched once (OpenSSL 3). */
static int
openssl_slots(struct rg_keyring *k)
{
	k->slot = calloc(k->nslots, sizeof(k->slot[0]));
	if (k->slot == NULL)
		return -ENOMEM;
	k->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (k->gcm == NULL)
		return -EIO;
	for (uint32_t i = 0; i < k->nslots; i++) {
		k->slot[i] = EVP_CIPHER_CTX_new();
		if (k->slot[i] == NULL ||
		    EVP_CipherInit_ex(k->slot[i], k->gcm, NULL, NULL, NULL, -1) != 1)
			return -EIO;
	}
	return 0;
}

#ifdef RG_HAVE_IPSEC_MB
/* The ipsec-mb slots: expanded keys, and the manager for the best code this CPU runs. */
static int
ipsec_mb_slots(struct rg_keyring *k)
{
	IMB_ARCH arch;

	k->mb = alloc_mb_mgr(0);
	if (k->mb == NULL)
		return -ENOMEM;
	init_mb_mgr_auto(k->mb, &arch);
	if (imb_get_errno(k->mb) != 0)
		return -ENOTSUP;
	k->mb_slot = aligned_alloc(64, (k->nslots * sizeof(k->mb_slot[0]) + 63) & ~(size_t)63);
	if (k->mb_slot == NULL)
		return -ENOMEM;
	memset(k->mb_slot, 0, k->nslots * sizeof(k->mb_slot[0]));
	return 0;
}
#endif

int
rg_keyring_create_impl(const uint8_t priv[RG_KEY_BYTES], uint16_t peers_max, uint32_t lanes_max,
		       enum rg_aead_impl impl, struct rg_keyring **out)
{
	uint32_t slots = RG_AEAD_SLOTS(lanes_max);
	struct rg_keyring *k;
	int rc;

	if (lanes_max == 0 || lanes_max > UINT16_MAX)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	memcpy(k->priv, priv, RG_KEY_BYTES);
	k->peers_max = peers_max;
	k->nslots = slots;
	k->lanes_max = lanes_max;
	k->peers = calloc(peers_max, sizeof(k->peers[0]));
	k->hs = calloc(2 * (size_t)lanes_max, sizeof(k->hs[0]));
	if (k->peers == NULL || k->hs == NULL) {
		rg_keyring_destroy(k);
		return -ENOMEM;
	}
#ifdef RG_HAVE_IPSEC_MB
	k->impl = impl == RG_AEAD_OPENSSL ? RG_AEAD_OPENSSL : RG_AEAD_IPSEC_MB;
	rc = k->impl == RG_AEAD_IPSEC_MB ? ipsec_mb_slots(k) : openssl_slots(k);
	if (rc == -ENOTSUP && impl == RG_AEAD_AUTO) { /* this CPU: libcrypto's code instead */
		free_mb_mgr(k->mb);
		k->mb = NULL;
		k->impl = RG_AEAD_OPENSSL;
		rc = openssl_slots(k);
	}
#else
	if (impl == RG_AEAD_IPSEC_MB) {
		rg_keyring_destroy(k);
		return -ENOTSUP;
	}
	k->impl = RG_AEAD_OPENSSL;
	rc = openssl_slots(k);
#endif
	if (rc != 0) {
		rg_keyring_destroy(k);
		return rc;
	}
	*out = k;
	return 0;
}

int
rg_keyring_create(const uint8_t priv[RG_KEY_BYTES], uint16_t peers_max, uint32_t lanes_max,
		  struct rg_keyring **out)
{
	return rg_keyring_create_impl(priv, peers_max, lanes_max, RG_AEAD_AUTO, out);
}

const char *
rg_keyring_impl_name(const struct rg_keyring *k)
{
	return k->impl == RG_AEAD_IPSEC_MB ? "AES-256-GCM on intel-ipsec-mb"
					   : "AES-256-GCM on OpenSSL libcrypto";
}

int
rg_keyring_add_peer(struct rg_keyring *k, uint16_t gw, const uint8_t pub[RG_KEY_BYTES])
{
	EVP_PKEY *ours = NULL, *theirs = NULL;
	EVP_PKEY_CTX *dh = NULL;
	struct rg_keyring_peer *p;
	uint8_t secret[RG_KEY_BYTES]; /* only to refuse a key X25519 refuses; Noise makes its own */
	size_t n = RG_KEY_BYTES;
	int rc = -EINVAL;

	for (uint16_t i = 0; i < k->npeers; i++)
		if (k->peers[i].gw == gw)
			return -EEXIST;
	if (k->npeers == k->peers_max)
		return -ENOSPC;
	p = &k->peers[k->npeers];
	ours = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, k->priv, RG_KEY_BYTES);
	theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, RG_KEY_BYTES);
	if (ours == NULL || theirs == NULL)
		goto out;
	dh = EVP_PKEY_CTX_new(ours, NULL);
	/* derive fails on a low-order public key (an all-zero secret): refused. */
	if (dh == NULL || EVP_PKEY_derive_init(dh) != 1 ||
	    EVP_PKEY_derive_set_peer(dh, theirs) != 1 || EVP_PKEY_derive(dh, secret, &n) != 1 ||
	    n != RG_KEY_BYTES)
		goto out;
	p->gw = gw;
	memcpy(p->pub, pub, RG_KEY_BYTES);
	k->npeers++;
	rc = 0;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	EVP_PKEY_CTX_free(dh);
	EVP_PKEY_free(ours);
	EVP_PKEY_free(theirs);
	return rc;
}

void
rg_keyring_destroy(struct rg_keyring *k)
{
	if (k == NULL)
		return;
	if (k->slot != NULL)
		for (uint32_t i = 0; i < k->nslots; i++)
			EVP_CIPHER_CTX_free(k->slot[i]); /* wipes the key schedule */
#ifdef RG_HAVE_IPSEC_MB
	if (k->mb_slot != NULL) {
		OPENSSL_cleanse(k->mb_slot, k->nslots * sizeof(k->mb_slot[0]));
		free(k->mb_slot);
	}
	if (k->mb != NULL)
		free_mb_mgr(k->mb);
#endif
	if (k->peers != NULL)
		OPENSSL_cleanse(k->peers, sizeof(k->peers[0]) * k->peers_max);
	if (k->hs != NULL)
		OPENSSL_cleanse(k->hs, sizeof(k->hs[0]) * 2 * k->lanes_max);
	free(k->hs);
	OPENSSL_cleanse(k->priv, sizeof(k->priv));
	EVP_CIPHER_free(k->gcm);
	free(k->slot);
	free(k->peers);
	free(k);
}

static const struct rg_keyring_peer *
find(const struct rg_keyring *k, uint16_t gw)
{
	for (uint16_t i = 0; i < k->npeers; i++) /* bounded by peers_max; handshakes are rare */
		if (k->peers[i].gw == gw)
			return &k->peers[i];
	return NULL;
}

/* Keys slot with key (its AES-256-GCM schedule); 0 or -EIO. */
static int
install(struct rg_keyring *k, uint32_t slot, const uint8_t key[RG_KEY_BYTES])
{
#ifdef RG_HAVE_IPSEC_MB
	if (k->impl == RG_AEAD_IPSEC_MB) {
		IMB_AES256_GCM_PRE(k->mb, key, &k->mb_slot[slot]);
		return 0;
	}
#endif
	return EVP_CipherInit_ex(k->slot[slot], NULL, NULL, key, NULL, -1) == 1 ? 0 : -EIO;
}

int
rg_keyring_set_key(struct rg_keyring *k, uint32_t slot, const uint8_t key[RG_KEY_BYTES])
{
	return slot < k->nslots ? install(k, slot, key) : -EINVAL;
}

/*
 * Measured here (OpenSSL 3.0.19, AES-NI, no AVX-512 GCM path in 3.0; `meson test -C
 * build/release --suite perf micro-seal`, perf/bench/bench_seal.c): ≈ 0.23-0.26 ns/byte
 * (3.2-3.8 GB/s at 9 KB) plus 280-450 ns per packet for the nonce, the AAD and the tag:
 * ≈ 2.2-2.8 µs per 8960-byte packet, ≈ 270 ns per 1 KiB record; opening costs about the same.
 */
static void
ring_seal(void *ctx, uint32_t slot, const uint8_t nonce[RG_AEAD_NONCE_BYTES], const uint8_t *aad,
	  size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[RG_AEAD_TAG_BYTES])
{
	struct rg_keyring *k = ctx;
	EVP_CIPHER_CTX *x = k->slot[slot];
	int n;

	/* With a keyed AES-GCM context and a 12-byte nonce none of these can fail. */
	(void)EVP_EncryptInit_ex(x, NULL, NULL, NULL, nonce);
	(void)EVP_EncryptUpdate(x, NULL, &n, aad, (int)aad_len);
	(void)EVP_EncryptUpdate(x, buf, &n, buf, (int)len);
	(void)EVP_EncryptFinal_ex(x, buf + len, &n);
	(void)EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, RG_AEAD_TAG_BYTES, tag);
}

static int
ring_open(void *ctx, uint32_t slot, const uint8_t nonce[RG_AEAD_NONCE_BYTES], const uint8_t *aad,
	  size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[RG_AEAD_TAG_BYTES])
{
	struct rg_keyring *k = ctx;
	EVP_CIPHER_CTX *x = k->slot[slot];
	uint8_t t[RG_AEAD_TAG_BYTES];
	int n;

	memcpy(t, tag, sizeof(t));
	if (EVP_DecryptInit_ex(x, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(x, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(x, buf, &n, buf, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, RG_AEAD_TAG_BYTES, t) != 1 ||
	    EVP_DecryptFinal_ex(x, buf + len, &n) != 1)
		return -EBADMSG;
	return 0;
}

#ifdef RG_HAVE_IPSEC_MB
/*
 * Measured here (ipsec-mb 1.3, its AVX-512/VAES code; `meson test -C build/release --suite
 * perf micro-seal`): ≈ 0.1 ns/byte (10 GB/s at 9 KB) plus ≈ 50 ns per packet: ≈ 0.9 µs per
 * 8960-byte packet, 2.5× libcrypto's ring_seal above. In place (out == in) is allowed.
 */
static void
mb_seal(void *ctx, uint32_t slot, const uint8_t nonce[RG_AEAD_NONCE_BYTES], const uint8_t *aad,
	size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[RG_AEAD_TAG_BYTES])
{
	struct rg_keyring *k = ctx;
	struct gcm_context_data g;

	IMB_AES256_GCM_ENC(k->mb, &k->mb_slot[slot], &g, buf, buf, len, nonce, aad, aad_len, tag,
			   RG_AEAD_TAG_BYTES);
}

static int
mb_open(void *ctx, uint32_t slot, const uint8_t nonce[RG_AEAD_NONCE_BYTES], const uint8_t *aad,
	size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[RG_AEAD_TAG_BYTES])
{
	struct rg_keyring *k = ctx;
	struct gcm_context_data g;
	uint8_t t[RG_AEAD_TAG_BYTES];

	IMB_AES256_GCM_DEC(k->mb, &k->mb_slot[slot], &g, buf, buf, len, nonce, aad, aad_len, t,
			   RG_AEAD_TAG_BYTES);
	/* The plaintext is in buf already; a caller that sees -EBADMSG must not use it. */
	return CRYPTO_memcmp(t, tag, RG_AEAD_TAG_BYTES) == 0 ? 0 : -EBADMSG;
}
#endif

/* ---- the core's handshake callbacks (core.h struct rg_aead) over the above ---- */

static_assert(RG_HS_INIT_BYTES == RG_NOISE_INIT_BYTES(0), "INIT: Noise IK, empty payload");
static_assert(RG_HS_RESP_BYTES == RG_NOISE_RESP_BYTES(8), "RESP: Noise IK, an incarnation");
static_assert(RG_WIRE_HS_INIT_BYTES == RG_HS_INIT_BYTES &&
		  RG_WIRE_HS_RESP_BYTES == RG_HS_RESP_BYTES,
	      "the codec's handshake lengths");

static int
ring_hs_initiate(void *ctx, uint32_t li, uint16_t peer_gw, const uint8_t *prologue, uint8_t *out)
{
	return rg_keyring_hs_initiate(ctx, li, peer_gw, prologue, RG_HDR_BYTES, NULL, 0, out);
}

static int
ring_hs_read_init(void *ctx, uint32_t li, uint16_t peer_gw, const uint8_t *prologue,
		  const uint8_t *msg)
{
	uint8_t payload[RG_NOISE_PAYLOAD_MAX];
	int n = rg_keyring_hs_read_init(ctx, li, peer_gw, prologue, RG_HDR_BYTES, msg,
					RG_HS_INIT_BYTES, payload);

	return n == 0 ? 0 : n < 0 ? n : -EBADMSG;
}

static int
ring_hs_answer(void *ctx, uint32_t li, uint32_t tx_slot, uint32_t rx_slot, uint64_t our_inc,
	       uint8_t *out)
{
	uint8_t inc[8];

	rg_wire_put_le64(inc, our_inc);
	return rg_keyring_hs_answer(ctx, li, tx_slot, rx_slot, inc, sizeof(inc), out);
}

static int
ring_hs_finish(void *ctx, uint32_t li, uint16_t peer_gw, uint32_t tx_slot, uint32_t rx_slot,
	       const uint8_t *msg, uint64_t *peer_inc)
{
	uint8_t payload[RG_NOISE_PAYLOAD_MAX];
	int n = rg_keyring_hs_finish(ctx, li, peer_gw, tx_slot, rx_slot, msg, RG_HS_RESP_BYTES,
				     payload);

	if (n < 0)
		return n;
	if (n != 8) /* a RESP of ours always carries 8 bytes: a peer that does not is broken */
		return -EBADMSG;
	*peer_inc = rg_wire_get_le64(payload);
	return 0;
}

static void
ring_forget(void *ctx, uint32_t slot)
{
	(void)rg_keyring_forget(ctx, slot); /* in range by construction; a library failure leaves
					       the old key, which the session no longer names */
}

struct rg_aead
rg_keyring_aead(struct rg_keyring *k)
{
	struct rg_aead a = { .hs_initiate = ring_hs_initiate,
			     .hs_read_init = ring_hs_read_init,
			     .hs_answer = ring_hs_answer,
			     .hs_finish = ring_hs_finish,
			     .forget = ring_forget,
			     .seal = ring_seal,
			     .open = ring_open,
			     .ctx = k };
#ifdef RG_HAVE_IPSEC_MB
	if (k->impl == RG_AEAD_IPSEC_MB) {
		a.seal = mb_seal;
		a.open = mb_open;
	}
#endif
	return a;
}

/* ---- handshakes per lane (keys.h, noise.h; protocol.md §5c) ---- */

/* Splits a finished handshake into the two slots; wipes the lane's state either way. */
static int
install_split(struct rg_keyring *k, struct rg_keyring_hs *hs, uint32_t tx_slot, uint32_t rx_slot)
{
	uint8_t tx[RG_NOISE_KEY_BYTES], rx[RG_NOISE_KEY_BYTES];
	int rc = rg_noise_split(&hs->noise, tx, rx, NULL);

	if (rc == 0)
		rc = install(k, tx_slot, tx);
	if (rc == 0)
		rc = install(k, rx_slot, rx);
	OPENSSL_cleanse(tx, sizeof(tx));
	OPENSSL_cleanse(rx, sizeof(rx));
	rg_noise_wipe(&hs->noise);
	hs->noise.step = RG_NOISE_NONE;
	return rc;
}

int
rg_keyring_hs_initiate(struct rg_keyring *k, uint32_t lane, uint16_t gw, const uint8_t *prologue,
		       size_t prologue_len, const uint8_t *payload, size_t len, uint8_t *out)
{
	const struct rg_keyring_peer *p = find(k, gw);
	struct rg_keyring_hs *hs;
	int rc;

	if (lane >= k->lanes_max || len > RG_NOISE_PAYLOAD_MAX)
		return -EINVAL;
	if (p == NULL)
		return -ENOENT;
	hs = &k->hs[2 * lane];
	rc = rg_noise_initiator(&hs->noise, k->priv, p->pub, prologue, prologue_len, NULL);
	if (rc == 0)
		rc = rg_noise_write_init(&hs->noise, payload, len, out);
	if (rc < 0) {
		rg_noise_wipe(&hs->noise);
		hs->noise.step = RG_NOISE_NONE;
		return rc == -EBADMSG ? -EIO : rc;
	}
	hs->gw = gw;
	return rc;
}

int
rg_keyring_hs_read_init(struct rg_keyring *k, uint32_t lane, uint16_t gw, const uint8_t *prologue,
			size_t prologue_len, const uint8_t *msg, size_t len, uint8_t *payload)
{
	const struct rg_keyring_peer *p = find(k, gw);
	struct rg_keyring_hs *hs;
	int rc;

	if (lane >= k->lanes_max)
		return -EINVAL;
	if (p == NULL)
		return -ENOENT;
	hs = &k->hs[2 * lane + 1]; /* replaces an INIT read and not answered */
	rc = rg_noise_responder(&hs->noise, k->priv, prologue, prologue_len, NULL);
	if (rc == 0)
		rc = rg_noise_read_init(&hs->noise, msg, len, payload);
	if (rc >= 0 && CRYPTO_memcmp(hs->noise.rs, p->pub, RG_KEY_BYTES) != 0)
		rc = -EACCES; /* a good INIT, but from another identity than gw's */
	if (rc < 0) {
		rg_noise_wipe(&hs->noise);
		hs->noise.step = RG_NOISE_NONE;
		return rc;
	}
	hs->gw = gw;
	return rc;
}

int
rg_keyring_hs_answer(struct rg_keyring *k, uint32_t lane, uint32_t tx_slot, uint32_t rx_slot,
		     const uint8_t *payload, size_t len, uint8_t *out)
{
	struct rg_keyring_hs *hs;
	int n, rc;

	if (lane >= k->lanes_max || tx_slot >= k->nslots || rx_slot >= k->nslots ||
	    tx_slot == rx_slot)
		return -EINVAL;
	hs = &k->hs[2 * lane + 1];
	if (hs->noise.step != RG_NOISE_WRITE_RESP)
		return -EINVAL;
	n = rg_noise_write_resp(&hs->noise, payload, len, out);
	if (n < 0) {
		rg_noise_wipe(&hs->noise);
		hs->noise.step = RG_NOISE_NONE;
		return n;
	}
	rc = install_split(k, hs, tx_slot, rx_slot);
	return rc != 0 ? rc : n;
}

int
rg_keyring_hs_finish(struct rg_keyring *k, uint32_t lane, uint16_t gw, uint32_t tx_slot,
		     uint32_t rx_slot, const uint8_t *msg, size_t len, uint8_t *payload)
{
	struct rg_keyring_hs *hs;
	struct rg_noise try;
	int n, rc;

	if (lane >= k->lanes_max || tx_slot >= k->nslots || rx_slot >= k->nslots ||
	    tx_slot == rx_slot)
		return -EINVAL;
	hs = &k->hs[2 * lane];
	if (hs->noise.step != RG_NOISE_READ_RESP || hs->gw != gw)
		return -EINVAL; /* nothing of ours pending there: a stray or replayed RESP */
	try = hs->noise; /* a forged RESP must not cancel ours: the real one may still come */
	n = rg_noise_read_resp(&try, msg, len, payload);
	if (n < 0) {
		rg_noise_wipe(&try);
		return n;
	}
	hs->noise = try;
	rg_noise_wipe(&try);
	rc = install_split(k, hs, tx_slot, rx_slot);
	return rc != 0 ? rc : n;
}

int
rg_keyring_forget(struct rg_keyring *k, uint32_t slot)
{
	uint8_t key[RG_KEY_BYTES];
	int rc;

	if (slot >= k->nslots)
		return -EINVAL;
	if (RAND_priv_bytes(key, sizeof(key)) != 1)
		return -EIO;
	rc = install(k, slot, key); /* a key nobody has: nothing opens under the slot */
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
