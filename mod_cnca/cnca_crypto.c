#include <string.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_encode.h>
#include <apr_lib.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "cnca_crypto.h"
#include "cnca_log.h"

#define GCM_NONCE 12
#define GCM_TAG 16

apr_status_t cnca_random(unsigned char *buf, apr_size_t len)
{
    if (RAND_bytes(buf, (int)len) != 1) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00101: the CSPRNG (RAND_bytes) failed");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

const char *cnca_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, 2 * len + 1);
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        out[2 * i] = digits[buf[i] >> 4];
        out[2 * i + 1] = digits[buf[i] & 0xf];
    }
    out[2 * len] = '\0';
    return out;
}

apr_status_t cnca_random_hex(const char **phex, apr_pool_t *p, apr_size_t len)
{
    unsigned char buf[64];
    apr_status_t rv;

    *phex = NULL;
    if (len > sizeof(buf)) {
        return APR_EINVAL;
    }
    if ((rv = cnca_random(buf, len)) == APR_SUCCESS) {
        *phex = cnca_hex(p, buf, len);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

apr_status_t cnca_random_digits(const char **pdigits, apr_pool_t *p, int digits)
{
    char *out;
    int i;

    *pdigits = NULL;
    if (digits <= 0 || digits > 32) {
        return APR_EINVAL;
    }
    out = apr_palloc(p, digits + 1);
    for (i = 0; i < digits; ++i) {
        unsigned char b;
        /* rejection sampling: 250 = 25 * 10 keeps every digit equally likely */
        do {
            if (cnca_random(&b, 1) != APR_SUCCESS) {
                return APR_EGENERAL;
            }
        } while (b >= 250);
        out[i] = (char)('0' + b % 10);
    }
    out[digits] = '\0';
    *pdigits = out;
    return APR_SUCCESS;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

apr_status_t cnca_key_load(cnca_key_t *key, const char *path, apr_pool_t *p)
{
    apr_file_t *f;
    char buf[256];
    apr_size_t n = sizeof(buf);
    apr_status_t rv;
    const char *s, *e;
    int i;

    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = apr_file_read_full(f, buf, sizeof(buf), &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return rv;
    }
    if (n == CNCA_KEY_LEN) {
        memcpy(key->bytes, buf, CNCA_KEY_LEN);
        OPENSSL_cleanse(buf, sizeof(buf));
        return APR_SUCCESS;
    }
    s = buf;
    e = buf + n;
    while (s < e && apr_isspace(*s))
        ++s;
    while (e > s && apr_isspace(e[-1]))
        --e;
    rv = APR_EINVAL;
    if (e - s == 2 * CNCA_KEY_LEN) {
        for (i = 0; i < CNCA_KEY_LEN; ++i) {
            int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                break;
            }
            key->bytes[i] = (unsigned char)(hi << 4 | lo);
        }
        if (i == CNCA_KEY_LEN) {
            rv = APR_SUCCESS;
        }
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

void cnca_hmac(unsigned char out[32], const unsigned char *key, apr_size_t key_len,
               const void *data, apr_size_t len)
{
    unsigned int olen = 32;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &olen)) {
        /* never leave the output undefined: an all-zero MAC matches nothing
         * a correct one would, and the failure is logged */
        memset(out, 0, 32);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL, "CNCA00103: HMAC-SHA256 failed");
    }
}

const char *cnca_hmac_hex(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                          const void *data, apr_size_t len)
{
    unsigned char mac[32];
    cnca_hmac(mac, key, key_len, data, len);
    return cnca_hex(p, mac, sizeof(mac));
}

void cnca_key_derive(cnca_key_t *out, const cnca_key_t *master, const char *purpose)
{
    char label[128];
    apr_snprintf(label, sizeof(label), "cnca:%s", purpose);
    cnca_hmac(out->bytes, master->bytes, CNCA_KEY_LEN, label, strlen(label));
}

int cnca_str_equal_ct(const char *a, const char *b)
{
    apr_size_t la, lb;
    if (!a || !b) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}

apr_status_t cnca_seal(const char **pb64, apr_pool_t *p, const cnca_key_t *key, const char *aad,
                       const void *plain, apr_size_t len)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf;
    int outl, finl;
    apr_status_t rv = APR_EGENERAL;

    *pb64 = NULL;
    buf = apr_palloc(p, GCM_NONCE + len + GCM_TAG);
    if (cnca_random(buf, GCM_NONCE) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    ERR_clear_error();
    if (!(ctx = EVP_CIPHER_CTX_new()) ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, buf) != 1 ||
        (aad &&
         EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)aad, (int)strlen(aad)) != 1) ||
        EVP_EncryptUpdate(ctx, buf + GCM_NONCE, &outl, plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, buf + GCM_NONCE + outl, &finl) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, buf + GCM_NONCE + len) != 1) {
        char err[256];
        ERR_error_string_n(ERR_get_error(), err, sizeof(err));
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv, "CNCA00102: AES-256-GCM seal failed: %s",
                        err);
        goto leave;
    }
    *pb64 = apr_pencode_base64_binary(p, buf, GCM_NONCE + len + GCM_TAG,
                                      APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, NULL);
    rv = *pb64 ? APR_SUCCESS : APR_EGENERAL;
leave:
    EVP_CIPHER_CTX_free(ctx);
    return rv;
}

apr_status_t cnca_open(unsigned char **pplain, apr_size_t *plen, apr_pool_t *p,
                       const cnca_key_t *key, const char *aad, const char *b64)
{
    EVP_CIPHER_CTX *ctx = NULL;
    const unsigned char *buf;
    unsigned char *out;
    apr_size_t n = 0, clen;
    int outl, finl;
    apr_status_t rv = APR_EGENERAL;

    *pplain = NULL;
    *plen = 0;
    if (!b64) {
        return APR_EINVAL;
    }
    buf = apr_pdecode_base64_binary(p, b64, APR_ENCODE_STRING,
                                    APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, &n);
    if (!buf || n < GCM_NONCE + GCM_TAG) {
        return APR_EINVAL;
    }
    clen = n - GCM_NONCE - GCM_TAG;
    out = apr_palloc(p, clen + 1);
    ERR_clear_error();
    if (!(ctx = EVP_CIPHER_CTX_new()) ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, buf) != 1 ||
        (aad &&
         EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)aad, (int)strlen(aad)) != 1) ||
        EVP_DecryptUpdate(ctx, out, &outl, buf + GCM_NONCE, (int)clen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, (void *)(buf + GCM_NONCE + clen)) !=
            1 ||
        EVP_DecryptFinal_ex(ctx, out + outl, &finl) != 1) {
        ERR_clear_error();
        goto leave;
    }
    out[clen] = '\0';
    *pplain = out;
    *plen = clen;
    rv = APR_SUCCESS;
leave:
    EVP_CIPHER_CTX_free(ctx);
    return rv;
}
