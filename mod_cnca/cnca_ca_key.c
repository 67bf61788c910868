/* Key algorithms, key pair generation and PKCS#8 PEM for the applicant's
 * keys (see cnca_ca.h). */
#include <string.h>

#include <apr_strings.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cnca_ca.h"
#include "cnca_log.h"

static const struct {
    cnca_key_alg_t alg;
    const char *name;
} alg_names[] = {
    {CNCA_ALG_EC_P256, "ec-p256"},
    {CNCA_ALG_SM2, "sm2"},
    {CNCA_ALG_RSA2048, "rsa-2048"},
    {CNCA_ALG_RSA3072, "rsa-3072"},
};

#define N_ALGS (sizeof(alg_names) / sizeof(alg_names[0]))

apr_status_t cnca_key_alg_parse(cnca_key_alg_t *palg, const char *name)
{
    apr_size_t i;

    for (i = 0; name && i < N_ALGS; ++i) {
        if (!strcmp(name, alg_names[i].name)) {
            *palg = alg_names[i].alg;
            return APR_SUCCESS;
        }
    }
    return APR_EINVAL;
}

const char *cnca_key_alg_name(cnca_key_alg_t alg)
{
    apr_size_t i;

    for (i = 0; i < N_ALGS; ++i) {
        if (alg_names[i].alg == alg) {
            return alg_names[i].name;
        }
    }
    return NULL;
}

const char *cnca_ossl_errors(apr_pool_t *p)
{
    const char *out = NULL, *data;
    char buf[256];
    unsigned long e;
    int flags;

    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        if (data && *data && (flags & ERR_TXT_STRING)) {
            out = apr_pstrcat(p, out ? out : "", out ? "; " : "", buf, " (", data, ")", NULL);
        } else {
            out = apr_pstrcat(p, out ? out : "", out ? "; " : "", buf, NULL);
        }
    }
    return out ? out : "no OpenSSL error";
}

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* Domain parameters made once: a key pair generated from them skips
 * building the curve (a third of the time of an EC P-256 key pair). */
struct cnca_keygen {
    EVP_PKEY *ec_p256;
    EVP_PKEY *sm2;
};

static apr_status_t keygen_cleanup(void *data)
{
    cnca_keygen_t *kg = data;

    EVP_PKEY_free(kg->ec_p256);
    EVP_PKEY_free(kg->sm2);
    return APR_SUCCESS;
}

static EVP_PKEY *make_params(const char *type, const char *group)
{
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *params = NULL;

    if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) || EVP_PKEY_paramgen_init(ctx) != 1 ||
        (group && EVP_PKEY_CTX_set_group_name(ctx, group) != 1) ||
        EVP_PKEY_paramgen(ctx, &params) != 1) {
        EVP_PKEY_free(params);
        params = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return params;
}

apr_status_t cnca_keygen_create(cnca_keygen_t **pkg, apr_pool_t *p)
{
    cnca_keygen_t *kg = apr_pcalloc(p, sizeof(*kg));

    *pkg = NULL;
    apr_pool_cleanup_register(p, kg, keygen_cleanup, apr_pool_cleanup_null);
    ERR_clear_error();
    /* "SM2" is its own key type, on the SM2 curve by default */
    if (!(kg->ec_p256 = make_params("EC", "P-256")) || !(kg->sm2 = make_params("SM2", NULL))) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00304: making the EC P-256 and SM2 domain parameters failed: %s",
                        cnca_ossl_errors(p));
        return APR_EGENERAL;
    }
    *pkg = kg;
    return APR_SUCCESS;
}

apr_status_t cnca_keygen_generate(EVP_PKEY **pkey, cnca_keygen_t *kg, cnca_key_alg_t alg,
                                  apr_pool_t *p)
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *key = NULL;
    OSSL_PARAM params[3];
    size_t bits = alg == CNCA_ALG_RSA2048 ? 2048 : 3072;
    unsigned int e = 65537;
    apr_status_t rv = APR_EGENERAL;

    *pkey = NULL;
    ERR_clear_error();
    switch (alg) {
        case CNCA_ALG_EC_P256:
        case CNCA_ALG_SM2:
            ctx =
                EVP_PKEY_CTX_new_from_pkey(NULL, alg == CNCA_ALG_SM2 ? kg->sm2 : kg->ec_p256, NULL);
            params[0] = OSSL_PARAM_construct_end();
            break;
        case CNCA_ALG_RSA2048:
        case CNCA_ALG_RSA3072:
            ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
            params[0] = OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits);
            params[1] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, &e);
            params[2] = OSSL_PARAM_construct_end();
            break;
        default:
            cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EINVAL,
                            "CNCA00300: unknown key algorithm %d", (int)alg);
            return APR_EINVAL;
    }
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_params(ctx, params) != 1 ||
        EVP_PKEY_generate(ctx, &key) != 1) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00301: generating a %s key pair failed: %s", cnca_key_alg_name(alg),
                        cnca_ossl_errors(p));
        goto leave;
    }
    apr_pool_cleanup_register(p, key, pkey_cleanup, apr_pool_cleanup_null);
    *pkey = key;
    rv = APR_SUCCESS;
leave:
    EVP_PKEY_CTX_free(ctx);
    return rv;
}

static apr_status_t wipe_string(void *data)
{
    OPENSSL_cleanse(data, strlen(data));
    return APR_SUCCESS;
}

/* OpenSSL 3.0 writes any key through its encoder framework, which costs
 * more than generating and certifying an EC key together. For EC and SM2
 * keys the PKCS#8 structure is built here from the key's parameters with
 * OpenSSL's own ASN.1 templates instead; it is the same DER, byte for byte,
 * as PEM_write_bio_PrivateKey writes (the unit test compares them):
 *
 *   PrivateKeyInfo { 0, { id-ecPublicKey, namedCurve }, OCTET STRING {
 *     ECPrivateKey (RFC 5915) { 1, privateKey, [1] publicKey } } }
 *
 * with the curve in the algorithm identifier only, as OpenSSL does. */
typedef struct {
    int32_t version;
    ASN1_OCTET_STRING *private_key;
    ASN1_BIT_STRING *public_key;
} ec_private_key_t;

ASN1_SEQUENCE(ec_private_key_t) =
    {
        ASN1_EMBED(ec_private_key_t, version, INT32),
        ASN1_SIMPLE(ec_private_key_t, private_key, ASN1_OCTET_STRING),
        ASN1_EXP_OPT(ec_private_key_t, public_key, ASN1_BIT_STRING, 1),
} static_ASN1_SEQUENCE_END(ec_private_key_t)

    /* The named curve of an EC or SM2 key; NID_undef for any other key. */
    static int ec_curve_nid(EVP_PKEY * key)
{
    char group[64];

    if ((!EVP_PKEY_is_a(key, "EC") && !EVP_PKEY_is_a(key, "SM2")) ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1) {
        return NID_undef;
    }
    return OBJ_txt2nid(group);
}

/* The PKCS#8 of an EC or SM2 key with a named curve. */
static PKCS8_PRIV_KEY_INFO *ec_pkcs8(EVP_PKEY *key, int curve, const ASN1_BIT_STRING *public_bits)
{
    ec_private_key_t ecpk = {1, NULL, NULL};
    PKCS8_PRIV_KEY_INFO *p8 = NULL, *out = NULL;
    BIGNUM *priv = NULL;
    unsigned char scalar[66], *point = NULL, *der = NULL;
    const unsigned char *pub;
    size_t pub_len;
    int len = 0, der_len = 0;

    if (public_bits) {
        pub = ASN1_STRING_get0_data(public_bits);
        pub_len = (size_t)ASN1_STRING_length(public_bits);
    } else if ((pub_len = EVP_PKEY_get1_encoded_public_key(key, &point)) == 0) {
        return NULL;
    } else {
        pub = point;
    }

    if ((len = (EVP_PKEY_get_bits(key) + 7) / 8) <= 0 || len > (int)sizeof(scalar) ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1 ||
        BN_bn2binpad(priv, scalar, len) != len || !(ecpk.private_key = ASN1_OCTET_STRING_new()) ||
        !ASN1_OCTET_STRING_set(ecpk.private_key, scalar, len) ||
        !(ecpk.public_key = ASN1_BIT_STRING_new()) ||
        !ASN1_BIT_STRING_set(ecpk.public_key, (unsigned char *)pub, (int)pub_len)) {
        goto leave;
    }
    /* all bits count: without this i2d drops trailing zero octets */
    ecpk.public_key->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    ecpk.public_key->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    if ((der_len = ASN1_item_i2d((ASN1_VALUE *)&ecpk, &der, ASN1_ITEM_rptr(ec_private_key_t))) <=
            0 ||
        !(p8 = PKCS8_PRIV_KEY_INFO_new()) ||
        PKCS8_pkey_set0(p8, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), 0, V_ASN1_OBJECT,
                        OBJ_nid2obj(curve), der, der_len) != 1) {
        goto leave;
    }
    der = NULL; /* p8 owns it and wipes it when freed */
    out = p8;
    p8 = NULL;
leave:
    OPENSSL_cleanse(scalar, sizeof(scalar));
    BN_clear_free(priv);
    OPENSSL_free(point);
    ASN1_STRING_clear_free(ecpk.private_key);
    ASN1_BIT_STRING_free(ecpk.public_key);
    OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return out;
}

apr_status_t cnca_ca_key_pem(const char **ppem, EVP_PKEY *pkey, const ASN1_BIT_STRING *public_bits,
                             apr_pool_t *p)
{
    BIO *bio = NULL;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    char *data, *pem;
    long len;
    int curve;
    apr_status_t rv = APR_EGENERAL;

    *ppem = NULL;
    ERR_clear_error();
    /* a secure-memory BIO wipes its buffer when it grows and when it is freed */
    if (!(bio = BIO_new(BIO_s_secmem()))) {
        goto failed;
    }
    if ((curve = ec_curve_nid(pkey)) != NID_undef) {
        if (!(p8 = ec_pkcs8(pkey, curve, public_bits)) ||
            PEM_write_bio_PKCS8_PRIV_KEY_INFO(bio, p8) != 1) {
            goto failed;
        }
    } else if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        goto failed;
    }
    if ((len = BIO_get_mem_data(bio, &data)) <= 0) {
        goto failed;
    }
    pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    apr_pool_cleanup_register(p, pem, wipe_string, apr_pool_cleanup_null);
    *ppem = pem;
    rv = APR_SUCCESS;
    goto leave;
failed:
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                    "CNCA00302: writing a private key as PKCS#8 PEM failed: %s",
                    cnca_ossl_errors(p));
leave:
    PKCS8_PRIV_KEY_INFO_free(p8);
    BIO_free(bio);
    return rv;
}

/* An encrypted key is refused, not prompted for. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

apr_status_t cnca_ca_key_parse(EVP_PKEY **pkey, const char *pem, apr_pool_t *p)
{
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;
    apr_status_t rv = APR_EINVAL;

    *pkey = NULL;
    if (!pem) {
        return APR_EINVAL;
    }
    ERR_clear_error();
    if (!(bio = BIO_new_mem_buf(pem, -1)) ||
        !(key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL))) {
        /* the queue may quote the input: drop it rather than log it */
        ERR_clear_error();
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00303: not an unencrypted PEM private key");
        goto leave;
    }
    apr_pool_cleanup_register(p, key, pkey_cleanup, apr_pool_cleanup_null);
    *pkey = key;
    rv = APR_SUCCESS;
leave:
    BIO_free(bio);
    return rv;
}
