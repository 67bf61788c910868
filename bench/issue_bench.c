/* Issuance benchmark for `make bench` (tools/bench.sh): the service's
 * issuance (cnca_ca_load once, then cnca_ca_new_serial + cnca_ca_issue per
 * certificate: key pair, X.509 v3 with the fixed extensions, signature,
 * certificate PEM and PKCS#8 key PEM) beside a bare OpenSSL loop in the same
 * program (EVP_PKEY_keygen + a minimal X509: serial, names, validity,
 * public key, signed by the same CA key; no extensions, no PEM).
 *
 *   issue_bench SECONDS CA_EC CA_SM2 CA_RSA [ALG...]
 *
 * CA_* are folders holding ca.crt and ca.key (tools/devca.sh ec|sm2|rsa).
 * Each ALG (default: ec-p256 sm2 rsa-2048 rsa-3072) is issued by the CA of
 * its kind, as `make run` pairs them; each loop runs SECONDS (RSA-2048 four
 * times, RSA-3072 eight times as long: their key generation is slow and
 * varies), ours and bare in turn, in two rounds. Prints a table row and a "RESULT" line per
 * algorithm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cnca_ca.h"

#define ROUNDS 2

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the bare OpenSSL loop ---- */

typedef struct {
    EVP_PKEY_CTX *kctx; /* keygen context, made once */
    X509 *ca_cert;
    EVP_PKEY *ca_key;
    int sm2_ca;
} bare_t;

static int bare_setup(bare_t *b, cnca_key_alg_t alg, const char *dir, apr_pool_t *p)
{
    const char *crt = apr_pstrcat(p, dir, "/ca.crt", NULL),
               *key = apr_pstrcat(p, dir, "/ca.key", NULL);
    FILE *f;
    int ok;

    memset(b, 0, sizeof(*b));
    if ((f = fopen(crt, "r"))) {
        b->ca_cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if ((f = fopen(key, "r"))) {
        b->ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (!b->ca_cert || !b->ca_key) {
        return 0;
    }
    b->sm2_ca = EVP_PKEY_is_a(b->ca_key, "SM2");
    switch (alg) {
        case CNCA_ALG_EC_P256:
            ok = (b->kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) &&
                 EVP_PKEY_keygen_init(b->kctx) == 1 &&
                 EVP_PKEY_CTX_set_group_name(b->kctx, "P-256") == 1;
            break;
        case CNCA_ALG_SM2:
            ok = (b->kctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL)) &&
                 EVP_PKEY_keygen_init(b->kctx) == 1;
            break;
        default:
            ok = (b->kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
                 EVP_PKEY_keygen_init(b->kctx) == 1 &&
                 EVP_PKEY_CTX_set_rsa_keygen_bits(b->kctx, alg == CNCA_ALG_RSA2048 ? 2048 : 3072) ==
                     1;
    }
    return ok;
}

static void bare_teardown(bare_t *b)
{
    EVP_PKEY_CTX_free(b->kctx);
    X509_free(b->ca_cert);
    EVP_PKEY_free(b->ca_key);
}

static int bare_one(bare_t *b)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok;

    ok = EVP_PKEY_keygen(b->kctx, &key) == 1 && (x = X509_new()) &&
         X509_set_version(x, X509_VERSION_3) == 1 && RAND_bytes(serial, sizeof(serial)) == 1 &&
         (serial[0] &= 0x7f, 1) && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
         X509_set_issuer_name(x, X509_get_subject_name(b->ca_cert)) == 1 &&
         X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)"张三丰", -1, -1, 0) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
         X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) && X509_set_pubkey(x, key) == 1;
    if (ok && b->sm2_ca) {
        ok = (mctx = EVP_MD_CTX_new()) &&
             EVP_DigestSignInit(mctx, &pctx, EVP_sm3(), NULL, b->ca_key) == 1 &&
             EVP_PKEY_CTX_set1_id(pctx, CNCA_SM2_DISTID, CNCA_SM2_DISTID_LEN) == 1 &&
             X509_sign_ctx(x, mctx) > 0;
    } else if (ok) {
        ok = X509_sign(x, b->ca_key, EVP_sha256()) > 0;
    }
    EVP_MD_CTX_free(mctx);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

/* ---- the service's issuance ---- */

static int ours_one(cnca_ca_t *ca, cnca_key_alg_t alg, apr_pool_t *p)
{
    cnca_issue_req_t req;
    cnca_issued_t *out;
    int ok;

    memset(&req, 0, sizeof(req));
    req.common_name = "张三丰";
    req.subject = "C=CN, ST=上海, O=上海建筑业个人数字证书";
    req.validity_days = 365;
    req.alg = alg;
    ok = cnca_ca_new_serial(&req.serial_hex, p) == APR_SUCCESS &&
         cnca_ca_issue(&out, ca, &req, p) == APR_SUCCESS;
    apr_pool_clear(p);
    return ok;
}

typedef struct {
    long n;
    double secs;
} rate_t;

int main(int argc, char **argv)
{
    static const char *const all[] = {"ec-p256", "sm2", "rsa-2048", "rsa-3072"};
    const char *const *algs = all;
    int nalgs = 4, i, r, failed = 0;
    double seconds;
    apr_pool_t *p, *scratch;

    if (argc < 5) {
        fprintf(stderr, "usage: issue_bench SECONDS CA_EC CA_SM2 CA_RSA [ALG...]\n");
        return 2;
    }
    seconds = atof(argv[1]);
    if (argc > 5) {
        algs = (const char *const *)argv + 5;
        nalgs = argc - 5;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_pool_create(&scratch, p);

    printf("| algorithm | CA key | cnca_ca_issue /s | bare keygen+sign /s | ratio | "
           "certificates |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
    fflush(stdout);
    for (i = 0; i < nalgs; ++i) {
        cnca_key_alg_t alg;
        const char *dir, *err = NULL;
        cnca_ca_t *ca;
        bare_t bare;
        rate_t ours = {0, 0}, base = {0, 0};
        double t, end, len, ours_rate, bare_rate;

        if (cnca_key_alg_parse(&alg, algs[i]) != APR_SUCCESS) {
            fprintf(stderr, "issue_bench: unknown algorithm %s\n", algs[i]);
            return 2;
        }
        dir = alg == CNCA_ALG_EC_P256 ? argv[2] : alg == CNCA_ALG_SM2 ? argv[3] : argv[4];
        if (cnca_ca_load(&ca, p, apr_pstrcat(p, dir, "/ca.crt", NULL),
                         apr_pstrcat(p, dir, "/ca.key", NULL), &err) != APR_SUCCESS) {
            fprintf(stderr, "issue_bench: CA in %s: %s\n", dir, err);
            return 2;
        }
        if (!bare_setup(&bare, alg, dir, p)) {
            fprintf(stderr, "issue_bench: bare OpenSSL set-up failed for %s\n", algs[i]);
            ERR_print_errors_fp(stderr);
            return 2;
        }
        /* RSA key generation is slow and its time varies (the prime search):
         * more time for more keys */
        len = (alg == CNCA_ALG_RSA3072 ? 8 : alg == CNCA_ALG_RSA2048 ? 4 : 1) * seconds / ROUNDS;
        /* one of each first: lazy initialisation is not what we measure */
        failed |= !ours_one(ca, alg, scratch) || !bare_one(&bare);
        for (r = 0; r < ROUNDS && !failed; ++r) {
            t = now_s();
            for (end = t + len; now_s() < end && !failed; ++ours.n) {
                failed |= !ours_one(ca, alg, scratch);
            }
            ours.secs += now_s() - t;
            t = now_s();
            for (end = t + len; now_s() < end && !failed; ++base.n) {
                failed |= !bare_one(&bare);
            }
            base.secs += now_s() - t;
        }
        if (failed) {
            fprintf(stderr, "issue_bench: issuing %s failed\n", algs[i]);
            ERR_print_errors_fp(stderr);
            return 1;
        }
        ours_rate = ours.n / ours.secs;
        bare_rate = base.n / base.secs;
        printf("| %s | %s | %.1f | %.1f | %.2f | %ld + %ld |\n", algs[i],
               EVP_PKEY_get0_type_name(bare.ca_key), ours_rate, bare_rate, ours_rate / bare_rate,
               ours.n, base.n);
        fflush(stdout);
        printf("RESULT mode=issue alg=%s ours=%.2f bare=%.2f ratio=%.3f\n", algs[i], ours_rate,
               bare_rate, ours_rate / bare_rate);
        bare_teardown(&bare);
        apr_pool_clear(scratch);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
