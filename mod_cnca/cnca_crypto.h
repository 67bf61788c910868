/* Symmetric crypto the service keeps for itself: CSPRNG, AES-256-GCM sealing
 * under the master key (or keys derived from it), and HMAC-SHA256 keyed
 * hashes. OpenSSL EVP only. */
#ifndef CNCA_CRYPTO_H
#define CNCA_CRYPTO_H

#include <apr_pools.h>
#include <apr_errno.h>

#define CNCA_KEY_LEN 32

typedef struct cnca_key {
    unsigned char bytes[CNCA_KEY_LEN];
} cnca_key_t;

/* Fills buf from the CSPRNG (RAND_bytes). */
apr_status_t cnca_random(unsigned char *buf, apr_size_t len);

/* len random bytes as lowercase hex (2*len chars). */
apr_status_t cnca_random_hex(const char **phex, apr_pool_t *p, apr_size_t len);

/* A uniformly random decimal string of `digits` digits (leading zeros kept). */
apr_status_t cnca_random_digits(const char **pdigits, apr_pool_t *p, int digits);

/* Reads a key file: 64 hex characters (whitespace around them ignored), or
 * exactly 32 raw bytes. */
apr_status_t cnca_key_load(cnca_key_t *key, const char *path, apr_pool_t *p);

/* A subkey for one purpose ("id-hash", "id-enc", "session", "otp", ...):
 * HMAC-SHA256(master, "cnca:" purpose). */
void cnca_key_derive(cnca_key_t *out, const cnca_key_t *master, const char *purpose);

/* HMAC-SHA256 of data under key, as 64 lowercase hex chars. */
const char *cnca_hmac_hex(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                          const void *data, apr_size_t len);

/* Raw HMAC-SHA256 into out[32]. */
void cnca_hmac(unsigned char out[32], const unsigned char *key, apr_size_t key_len,
               const void *data, apr_size_t len);

/* Constant-time comparison of two strings (false when lengths differ). */
int cnca_str_equal_ct(const char *a, const char *b);

/* AES-256-GCM: output is base64url(nonce(12) | ciphertext | tag(16)).
 * aad binds the ciphertext to its context (a row's purpose, a session key);
 * it must be given again, the same, to open. */
apr_status_t cnca_seal(const char **pb64, apr_pool_t *p, const cnca_key_t *key, const char *aad,
                       const void *plain, apr_size_t len);

/* Opens what cnca_seal made; APR_EGENERAL on any tampering or wrong key/aad.
 * The plaintext is NUL-terminated (not counted in *plen). */
apr_status_t cnca_open(unsigned char **pplain, apr_size_t *plen, apr_pool_t *p,
                       const cnca_key_t *key, const char *aad, const char *b64);

/* Lowercase hex of bytes. */
const char *cnca_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t len);

#endif
