/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Noise_IK_25519_AESGCM_SHA256 (noise.h), written from the Noise Protocol
 * Framework's text (rev. 34: §5 processing rules, §7.5 IK, §12.4 AESGCM).
 * Checked against the cacophony test vectors in tests/unit/test_noise.c.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "noise.h"

#define PROTOCOL_NAME "Noise_IK_25519_AESGCM_SHA256" /* 28 bytes: padded to HASHLEN */
#define DH_BYTES      32

static void
sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	unsigned int n = 32;

	/* Only allocation can fail here; an all-zero hash then fails every later check. */
	if (x == NULL || EVP_DigestInit_ex(x, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(x, a, alen) != 1 || EVP_DigestUpdate(x, b, blen) != 1 ||
	    EVP_DigestFinal_ex(x, out, &n) != 1)
		memset(out, 0, 32);
	EVP_MD_CTX_free(x);
}

static int
hmac(const uint8_t key[32], const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), key, 32, data, len, out, &n) != NULL && n == 32 ? 0 : -EIO;
}

/* Noise's HKDF with two outputs (§4.3): out1 = HMAC(t, 1), out2 = HMAC(t, out1 | 2). */
static int
hkdf2(const uint8_t ck[32], const uint8_t *ikm, size_t ikm_len, uint8_t o1[32], uint8_t o2[32])
{
	uint8_t t[32], buf[33];
	int rc;

	rc = hmac(ck, ikm, ikm_len, t);
	buf[0] = 0x01;
	if (rc == 0)
		rc = hmac(t, buf, 1, o1);
	memcpy(buf, o1, 32);
	buf[32] = 0x02;
	if (rc == 0)
		rc = hmac(t, buf, 33, o2);
	OPENSSL_cleanse(t, sizeof(t));
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

static int
dh(const uint8_t priv[32], const uint8_t pub[32], uint8_t out[DH_BYTES])
{
	EVP_PKEY *ours = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	EVP_PKEY *theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	EVP_PKEY_CTX *x = ours != NULL ? EVP_PKEY_CTX_new(ours, NULL) : NULL;
	size_t n = DH_BYTES;
	int ok;

	/* derive refuses a low-order public key (an all-zero result): that message fails. */
	ok = theirs != NULL && x != NULL && EVP_PKEY_derive_init(x) == 1 &&
	     EVP_PKEY_derive_set_peer(x, theirs) == 1 && EVP_PKEY_derive(x, out, &n) == 1 &&
	     n == DH_BYTES;
	EVP_PKEY_CTX_free(x);
	EVP_PKEY_free(ours);
	EVP_PKEY_free(theirs);
	return ok ? 0 : -EBADMSG;
}

static int
public_of(const uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t n = 32;
	int ok = pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &n) == 1 && n == 32;

	EVP_PKEY_free(pk);
	return ok ? 0 : -EINVAL;
}

static void
nonce_of(uint64_t n, uint8_t iv[12])
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(n >> (56 - 8 * i));
}

int
rg_noise_encrypt(const uint8_t k[RG_NOISE_KEY_BYTES], uint64_t n, const uint8_t *ad, size_t ad_len,
		 const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t iv[12];
	int m, ok;

	nonce_of(n, iv);
	ok = x != NULL && EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, k, iv) == 1 &&
	     EVP_EncryptUpdate(x, NULL, &m, ad, (int)ad_len) == 1 &&
	     EVP_EncryptUpdate(x, out, &m, in, (int)len) == 1 &&
	     EVP_EncryptFinal_ex(x, out + len, &m) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, RG_NOISE_TAG_BYTES, out + len) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -EIO;
}

int
rg_noise_decrypt(const uint8_t k[RG_NOISE_KEY_BYTES], uint64_t n, const uint8_t *ad, size_t ad_len,
		 const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *x;
	uint8_t iv[12], tag[RG_NOISE_TAG_BYTES];
	int m, ok;

	if (len < RG_NOISE_TAG_BYTES)
		return -EBADMSG;
	len -= RG_NOISE_TAG_BYTES;
	memcpy(tag, in + len, sizeof(tag));
	x = EVP_CIPHER_CTX_new();
	if (x == NULL)
		return -EIO;
	nonce_of(n, iv);
	ok = EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, k, iv) == 1 &&
	     EVP_DecryptUpdate(x, NULL, &m, ad, (int)ad_len) == 1 &&
	     EVP_DecryptUpdate(x, out, &m, in, (int)len) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, RG_NOISE_TAG_BYTES, tag) == 1 &&
	     EVP_DecryptFinal_ex(x, out + len, &m) == 1;
	EVP_CIPHER_CTX_free(x);
	if (!ok)
		OPENSSL_cleanse(out, len); /* no unauthenticated plaintext left behind */
	return ok ? 0 : -EBADMSG;
}

/* ---- the symmetric state (§5.2) ---- */

static void
mix_hash(struct rg_noise *hs, const uint8_t *data, size_t len)
{
	uint8_t h[32];

	sha256(hs->h, sizeof(hs->h), data, len, h);
	memcpy(hs->h, h, sizeof(h));
}

static int
mix_key(struct rg_noise *hs, const uint8_t *ikm, size_t len)
{
	int rc = hkdf2(hs->ck, ikm, len, hs->ck, hs->k);

	hs->n = 0;
	hs->has_k = rc == 0;
	return rc;
}

/* EncryptAndHash: out gets len (+ 16 once keyed) bytes; returns how many. */
static int
encrypt_and_hash(struct rg_noise *hs, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = len;

	if (hs->has_k) {
		if (rg_noise_encrypt(hs->k, hs->n, hs->h, sizeof(hs->h), in, len, out) != 0)
			return -EIO;
		hs->n++;
		n += RG_NOISE_TAG_BYTES;
	} else {
		memmove(out, in, len);
	}
	mix_hash(hs, out, n);
	return (int)n;
}

/* DecryptAndHash of len bytes of in (tag included once keyed) into out. */
static int
decrypt_and_hash(struct rg_noise *hs, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t h[32];
	int rc;

	if (!hs->has_k) {
		memmove(out, in, len);
		mix_hash(hs, out, len);
		return (int)len;
	}
	sha256(hs->h, sizeof(hs->h), in, len, h); /* of the ciphertext: before out overwrites in */
	rc = rg_noise_decrypt(hs->k, hs->n, hs->h, sizeof(hs->h), in, len, out);
	if (rc != 0)
		return rc;
	hs->n++;
	memcpy(hs->h, h, sizeof(h));
	return (int)(len - RG_NOISE_TAG_BYTES);
}

static int
start(struct rg_noise *hs, const uint8_t s[32], const uint8_t *prologue, size_t prologue_len,
      const uint8_t *e)
{
	int rc;

	memset(hs, 0, sizeof(*hs));
	memcpy(hs->h, PROTOCOL_NAME, strlen(PROTOCOL_NAME)); /* ≤ HASHLEN: padded with zeros */
	memcpy(hs->ck, hs->h, sizeof(hs->ck));
	mix_hash(hs, prologue, prologue_len);
	memcpy(hs->s, s, 32);
	if (e != NULL)
		memcpy(hs->e, e, 32);
	else if (RAND_priv_bytes(hs->e, 32) != 1)
		return -EIO;
	rc = public_of(hs->s, hs->s_pub);
	if (rc == 0)
		rc = public_of(hs->e, hs->e_pub);
	return rc;
}

int
rg_noise_initiator(struct rg_noise *hs, const uint8_t s[32], const uint8_t rs[32],
		   const uint8_t *prologue, size_t prologue_len, const uint8_t *e)
{
	int rc = start(hs, s, prologue, prologue_len, e);

	hs->initiator = 1;
	memcpy(hs->rs, rs, 32);
	mix_hash(hs, hs->rs, 32); /* the pre-message <- s */
	hs->step = rc == 0 ? RG_NOISE_WRITE_INIT : RG_NOISE_FAILED;
	if (rc != 0)
		rg_noise_wipe(hs);
	return rc;
}

int
rg_noise_responder(struct rg_noise *hs, const uint8_t s[32], const uint8_t *prologue,
		   size_t prologue_len, const uint8_t *e)
{
	int rc = start(hs, s, prologue, prologue_len, e);

	mix_hash(hs, hs->s_pub, 32);
	hs->step = rc == 0 ? RG_NOISE_READ_INIT : RG_NOISE_FAILED;
	if (rc != 0)
		rg_noise_wipe(hs);
	return rc;
}

/* MixKey(DH(priv, pub)); a low-order pub fails the message. */
static int
mix_dh(struct rg_noise *hs, const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t shared[DH_BYTES];
	int rc = dh(priv, pub, shared);

	if (rc == 0)
		rc = mix_key(hs, shared, sizeof(shared));
	OPENSSL_cleanse(shared, sizeof(shared));
	return rc;
}

static int
fail(struct rg_noise *hs, int rc)
{
	rg_noise_wipe(hs);
	hs->step = RG_NOISE_FAILED;
	return rc;
}

/* -> e, es, s, ss */
int
rg_noise_write_init(struct rg_noise *hs, const uint8_t *payload, size_t len, uint8_t *out)
{
	uint8_t *p = out;
	int rc;

	if (hs->step != RG_NOISE_WRITE_INIT || len > RG_NOISE_PAYLOAD_MAX)
		return -EINVAL;
	memcpy(p, hs->e_pub, 32);
	mix_hash(hs, p, 32);
	p += 32;
	if ((rc = mix_dh(hs, hs->e, hs->rs)) != 0)
		return fail(hs, rc);
	if ((rc = encrypt_and_hash(hs, hs->s_pub, 32, p)) < 0)
		return fail(hs, rc);
	p += rc;
	if ((rc = mix_dh(hs, hs->s, hs->rs)) != 0)
		return fail(hs, rc);
	if ((rc = encrypt_and_hash(hs, payload, len, p)) < 0)
		return fail(hs, rc);
	p += rc;
	hs->step = RG_NOISE_READ_RESP;
	return (int)(p - out);
}

int
rg_noise_read_init(struct rg_noise *hs, const uint8_t *msg, size_t len, uint8_t *payload)
{
	int rc;

	if (hs->step != RG_NOISE_READ_INIT)
		return -EINVAL;
	if (len < RG_NOISE_INIT_BYTES(0) || len > RG_NOISE_INIT_BYTES(RG_NOISE_PAYLOAD_MAX))
		return fail(hs, -EBADMSG);
	memcpy(hs->re, msg, 32);
	mix_hash(hs, hs->re, 32);
	if ((rc = mix_dh(hs, hs->s, hs->re)) != 0)
		return fail(hs, rc);
	if ((rc = decrypt_and_hash(hs, msg + 32, 48, hs->rs)) < 0)
		return fail(hs, rc);
	if ((rc = mix_dh(hs, hs->s, hs->rs)) != 0)
		return fail(hs, rc);
	if ((rc = decrypt_and_hash(hs, msg + 80, len - 80, payload)) < 0)
		return fail(hs, rc);
	hs->step = RG_NOISE_WRITE_RESP;
	return rc;
}

/* <- e, ee, se */
int
rg_noise_write_resp(struct rg_noise *hs, const uint8_t *payload, size_t len, uint8_t *out)
{
	int rc;

	if (hs->step != RG_NOISE_WRITE_RESP || len > RG_NOISE_PAYLOAD_MAX)
		return -EINVAL;
	memcpy(out, hs->e_pub, 32);
	mix_hash(hs, out, 32);
	if ((rc = mix_dh(hs, hs->e, hs->re)) != 0)
		return fail(hs, rc);
	if ((rc = mix_dh(hs, hs->e, hs->rs)) != 0)
		return fail(hs, rc);
	if ((rc = encrypt_and_hash(hs, payload, len, out + 32)) < 0)
		return fail(hs, rc);
	hs->step = RG_NOISE_SPLIT;
	return 32 + rc;
}

int
rg_noise_read_resp(struct rg_noise *hs, const uint8_t *msg, size_t len, uint8_t *payload)
{
	int rc;

	if (hs->step != RG_NOISE_READ_RESP)
		return -EINVAL;
	if (len < RG_NOISE_RESP_BYTES(0) || len > RG_NOISE_RESP_BYTES(RG_NOISE_PAYLOAD_MAX))
		return fail(hs, -EBADMSG);
	memcpy(hs->re, msg, 32);
	mix_hash(hs, hs->re, 32);
	if ((rc = mix_dh(hs, hs->e, hs->re)) != 0)
		return fail(hs, rc);
	if ((rc = mix_dh(hs, hs->s, hs->re)) != 0)
		return fail(hs, rc);
	if ((rc = decrypt_and_hash(hs, msg + 32, len - 32, payload)) < 0)
		return fail(hs, rc);
	hs->step = RG_NOISE_SPLIT;
	return rc;
}

int
rg_noise_split(struct rg_noise *hs, uint8_t tx[RG_NOISE_KEY_BYTES], uint8_t rx[RG_NOISE_KEY_BYTES],
	       uint8_t hash[RG_NOISE_HASH_BYTES])
{
	uint8_t k1[32], k2[32];
	int rc;

	if (hs->step != RG_NOISE_SPLIT)
		return -EINVAL;
	rc = hkdf2(hs->ck, NULL, 0, k1, k2);
	if (rc == 0) { /* the initiator sends with k1 */
		memcpy(tx, hs->initiator ? k1 : k2, 32);
		memcpy(rx, hs->initiator ? k2 : k1, 32);
		if (hash != NULL)
			memcpy(hash, hs->h, 32);
	}
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	rg_noise_wipe(hs);
	return rc;
}

void
rg_noise_wipe(struct rg_noise *hs)
{
	enum rg_noise_step step = hs->step;

	OPENSSL_cleanse(hs, sizeof(*hs));
	hs->step = step;
}
