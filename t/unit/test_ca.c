/* Unit tests for the CA (mod_cnca/cnca_ca.c, cnca_ca_key.c): development CAs
 * from tools/devca.sh (EC, RSA, SM2) issue certificates for every key
 * algorithm, each parsed back and checked field by field; bad requests and
 * bad CAs are refused; SM2 and EC certificates verify with the openssl CLI.
 * Run from the project root (make does); CNCA_TOP overrides. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cnca_ca.h"
#include "cnca_log.h"
#include "tap.h"

#define NAME "刘德华"
#define SUBJECT "C=CN, ST=上海, O=Shanghai Construction, OU=Personal"
#define DISTID_OPT "-vfyopt distid:" CNCA_SM2_DISTID

static const char *tmpdir;
static const char *top;

/* ---- log sink: remembers lines, so tests can check numbers and privacy ---- */

static char last_log[1024];
static int log_lines;
static int log_leaked_name;

static void record_log(void *baton, const char *file, int line, cnca_log_level_t level,
                       apr_status_t rv, const char *msg)
{
    (void)baton;
    (void)file;
    (void)line;
    (void)level;
    (void)rv;
    ++log_lines;
    apr_cpystrn(last_log, msg, sizeof(last_log));
    if (strstr(msg, NAME) || strstr(msg, "PRIVATE KEY")) {
        log_leaked_name = 1;
    }
}

static int logged(const char *number)
{
    return !strncmp(last_log, number, strlen(number));
}

/* ---- helpers ---- */

static const char *path_in(apr_pool_t *p, const char *name)
{
    return apr_pstrcat(p, tmpdir, "/", name, NULL);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0;

    if (f && fclose(f) != 0) {
        ok = 0;
    }
    return ok;
}

static int run(apr_pool_t *p, const char *cmd)
{
    return system(apr_pstrcat(p, cmd, " >/dev/null 2>&1", NULL));
}

static X509 *parse_cert(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    return x;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

    if (f) {
        fclose(f);
    }
    return x;
}

static time_t asn1_sec(const ASN1_TIME *t)
{
    struct tm tm;

    return ASN1_TIME_to_tm(t, &tm) == 1 ? timegm(&tm) : (time_t)-1;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1) == 1;

    X509_EXTENSION_free(ext);
    return ok;
}

/* A self-signed EC certificate DIR/NAME.crt + DIR/NAME.key valid from now +
 * from_days to now + to_days; ku is a keyUsage value or NULL. For the CAs
 * devca.sh will not make (expired, not yet valid, short-lived, P-384, no
 * keyUsage or no keyCertSign, no subjectKeyIdentifier). */
static int make_selfsigned(apr_pool_t *p, const char *name, const char *curve, const char *ku,
                           long from_days, long to_days, int with_ski)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    X509 *x = X509_new();
    X509_NAME *n;
    X509V3_CTX ctx;
    FILE *f = NULL;
    int ok;

    ok = key && x && X509_set_version(x, X509_VERSION_3) &&
         ASN1_INTEGER_set(X509_get_serialNumber(x), 4242) &&
         (n = X509_get_subject_name(x)) != NULL &&
         X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1, -1,
                                    0) &&
         X509_set_issuer_name(x, n) &&
         X509_time_adj_ex(X509_getm_notBefore(x), (int)from_days, 0, NULL) &&
         X509_time_adj_ex(X509_getm_notAfter(x), (int)to_days, 0, NULL) && X509_set_pubkey(x, key);
    if (ok) {
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
             (!ku || add_ext(x, &ctx, NID_key_usage, ku)) &&
             (!with_ski || add_ext(x, &ctx, NID_subject_key_identifier, "hash")) &&
             X509_sign(x, key, EVP_sha256()) > 0;
    }
    ok = ok && (f = fopen(path_in(p, apr_pstrcat(p, name, ".crt", NULL)), "w")) != NULL &&
         PEM_write_X509(f, x) == 1;
    if (f) {
        ok = fclose(f) == 0 && ok;
        f = NULL;
    }
    ok = ok && (f = fopen(path_in(p, apr_pstrcat(p, name, ".key", NULL)), "w")) != NULL &&
         PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (f) {
        ok = fclose(f) == 0 && ok;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

/* ---- the CAs under test ---- */

typedef struct {
    const char *kind; /* devca.sh KIND */
    cnca_ca_t *ca;
    X509 *cert;
    const char *cert_file;
    int sig_nid;
} test_ca_t;

static test_ca_t cas[] = {
    {"ec", NULL, NULL, NULL, NID_ecdsa_with_SHA256},
    {"rsa", NULL, NULL, NULL, NID_sha256WithRSAEncryption},
    {"sm2", NULL, NULL, NULL, NID_SM2_with_SM3},
};
#define EC_CA (&cas[0])
#define RSA_CA (&cas[1])
#define SM2_CA (&cas[2])

static void test_devca_and_load(apr_pool_t *root)
{
    apr_pool_t *p = tap_pool();
    const char *err = NULL, *dir, *half;
    apr_finfo_t fi;
    apr_size_t i;

    for (i = 0; i < sizeof(cas) / sizeof(cas[0]); ++i) {
        test_ca_t *t = &cas[i];
        dir = path_in(root, t->kind);
        is_int(run(p, apr_psprintf(p, "sh %s/tools/devca.sh %s %s", top, t->kind, dir)), 0,
               apr_psprintf(p, "devca.sh %s makes a CA", t->kind));
        t->cert_file = apr_pstrcat(root, dir, "/ca.crt", NULL);
        ok(apr_stat(&fi, apr_pstrcat(p, dir, "/ca.key", NULL), APR_FINFO_PROT, p) == APR_SUCCESS &&
               fi.protection == (APR_UREAD | APR_UWRITE),
           apr_psprintf(p, "devca.sh %s: the key file is mode 0600", t->kind));
        is_int(cnca_ca_load(&t->ca, root, t->cert_file, apr_pstrcat(p, dir, "/ca.key", NULL), &err),
               APR_SUCCESS, apr_psprintf(p, "cnca_ca_load reads the %s CA", t->kind));
        if (err) {
            tap_diag(err);
        }
        t->cert = read_cert(t->cert_file);
        ok(t->ca && t->cert && strstr(cnca_ca_describe(t->ca), "mod_cnca Dev CA"),
           apr_psprintf(p, "%s CA describes itself by its subject", t->kind));
        if (t->cert) {
            is_int(X509_get_signature_nid(t->cert), t->sig_nid,
                   apr_psprintf(p, "%s CA certificate signature algorithm", t->kind));
        }
    }
    /* idempotent: a second run keeps the files */
    {
        X509 *again;
        is_int(run(p, apr_psprintf(p, "sh %s/tools/devca.sh ec %s", top, path_in(p, "ec"))), 0,
               "devca.sh again: success");
        again = read_cert(EC_CA->cert_file);
        ok(again && EC_CA->cert && X509_cmp(again, EC_CA->cert) == 0,
           "devca.sh again: the CA is unchanged");
        X509_free(again);
    }
    ok(run(p, apr_psprintf(p, "sh %s/tools/devca.sh dsa %s", top, path_in(p, "dsa"))) != 0,
       "devca.sh refuses an unknown KIND");
    half = path_in(p, "half");
    ok(apr_dir_make(half, APR_FPROT_OS_DEFAULT, p) == APR_SUCCESS &&
           write_text(apr_pstrcat(p, half, "/ca.crt", NULL), "x\n"),
       "a directory holding only ca.crt");
    ok(run(p, apr_psprintf(p, "sh %s/tools/devca.sh ec %s", top, half)) != 0,
       "devca.sh refuses it");
    ok(apr_stat(&fi, apr_pstrcat(p, half, "/ca.key", NULL), APR_FINFO_TYPE, p) != APR_SUCCESS,
       "and makes no key there");

    /* the SM2 CA signed itself with the distinguishing ID */
    if (SM2_CA->cert) {
        X509 *copy = X509_dup(SM2_CA->cert);
        ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
        int verified = 0;

        if (copy && id &&
            ASN1_OCTET_STRING_set(id, (const unsigned char *)CNCA_SM2_DISTID,
                                  CNCA_SM2_DISTID_LEN)) {
            X509_set0_distinguishing_id(copy, id); /* copy owns it */
            id = NULL;
            verified = X509_verify(copy, X509_get0_pubkey(copy)) == 1;
        }
        ok(verified, "devca.sh sm2: the self-signature verifies with the distinguishing ID");
        ASN1_OCTET_STRING_free(id);
        X509_free(copy);
        ERR_clear_error();
    }
    apr_pool_destroy(p);
}

/* ---- one issued certificate, checked field by field ---- */

typedef struct {
    const char *what;
    test_ca_t *ca, *other;
    cnca_key_alg_t alg;
    const char *key_type;
    int bits;
} issue_case_t;

static void check_name_entry(X509_NAME *n, int i, int nid, int type, const char *value,
                             const char *what, apr_pool_t *p)
{
    X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
    ASN1_STRING *s = e ? X509_NAME_ENTRY_get_data(e) : NULL;

    ok(e && OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) == nid && s && ASN1_STRING_type(s) == type &&
           ASN1_STRING_length(s) == (int)strlen(value) &&
           !memcmp(ASN1_STRING_get0_data(s), value, strlen(value)),
       apr_psprintf(p, "%s: RDN %d is %s=%s as %s", what, i, OBJ_nid2sn(nid), value,
                    ASN1_tag2str(type)));
}

/* The key as OpenSSL 3.0's encoder writes it (the slow path we avoid). */
static const char *openssl_key_pem(EVP_PKEY *key, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *pem = NULL;
    char *data;
    long len;

    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
        (len = BIO_get_mem_data(bio, &data)) > 0) {
        pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    return pem;
}

/* x's subjectPublicKeyInfo is the DER OpenSSL's encoder makes of key. */
static int same_spki(X509 *x, EVP_PKEY *key)
{
    unsigned char *a = NULL, *b = NULL;
    int alen = i2d_PUBKEY(key, &a), blen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &b);
    int same = alen > 0 && alen == blen && !memcmp(a, b, (size_t)alen);

    OPENSSL_free(a);
    OPENSSL_free(b);
    return same;
}

static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static cnca_issued_t *issue_and_check(const issue_case_t *c, apr_pool_t *p)
{
    cnca_issue_req_t req;
    cnca_issued_t *out = NULL;
    X509 *x = NULL;
    X509_NAME *n;
    BIGNUM *bn = NULL, *e = NULL;
    BASIC_CONSTRAINTS *bc = NULL;
    EVP_PKEY *pub, *priv = NULL;
    const ASN1_OCTET_STRING *ski, *aki, *ca_ski;
    const ASN1_BIT_STRING *bits;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *hex = NULL, group[64];
    const char *w = c->what, *serial_sig;
    time_t nb_sec = time(NULL) - 3600;

    memset(&req, 0, sizeof(req));
    req.subject = SUBJECT;
    req.common_name = NAME;
    req.validity_days = 730;
    req.not_before = apr_time_from_sec(nb_sec) + 123456; /* sub-second part is dropped */
    req.alg = c->alg;
    is_int(cnca_ca_new_serial(&req.serial_hex, p), APR_SUCCESS, "new serial");
    if (!ok(cnca_ca_issue(&out, c->ca->ca, &req, p) == APR_SUCCESS && out,
            apr_psprintf(p, "%s: issued", w))) {
        return NULL;
    }
    x = parse_cert(out->cert_pem);
    if (!ok(x != NULL, apr_psprintf(p, "%s: cert_pem parses", w))) {
        return NULL;
    }
    is_int(X509_get_version(x), X509_VERSION_3, apr_psprintf(p, "%s: X.509 v3", w));

    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    serial_sig = req.serial_hex + strspn(req.serial_hex, "0");
    ok(bn && !BN_is_negative(bn) && !BN_is_zero(bn), apr_psprintf(p, "%s: serial is positive", w));
    ok(bn && BN_num_bits(bn) >= 64 && BN_num_bits(bn) <= 127,
       apr_psprintf(p, "%s: serial has 64..127 bits", w));
    hex = bn ? BN_bn2hex(bn) : NULL;
    is_str(hex ? hex + strspn(hex, "0") : NULL, serial_sig,
           apr_psprintf(p, "%s: serial is the requested one", w));
    is_str(out->serial_hex, req.serial_hex, apr_psprintf(p, "%s: serial_hex returned", w));

    is_int(asn1_sec(X509_get0_notBefore(x)), nb_sec, apr_psprintf(p, "%s: notBefore", w));
    is_int(asn1_sec(X509_get0_notAfter(x)), nb_sec + 730L * 86400 - 1,
           apr_psprintf(p, "%s: notAfter is the inclusive end", w));
    is_int(out->not_before, apr_time_from_sec(nb_sec), apr_psprintf(p, "%s: not_before", w));
    is_int(out->not_after, apr_time_from_sec(nb_sec + 730L * 86400 - 1),
           apr_psprintf(p, "%s: not_after", w));
    ok(ASN1_STRING_type(X509_get0_notAfter(x)) == V_ASN1_UTCTIME,
       apr_psprintf(p, "%s: UTCTime before 2050", w));

    ok(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(c->ca->cert)) == 0,
       apr_psprintf(p, "%s: issuer is the CA's subject", w));
    n = X509_get_subject_name(x);
    is_int(X509_NAME_entry_count(n), 5, apr_psprintf(p, "%s: subject has 5 RDNs", w));
    check_name_entry(n, 0, NID_countryName, V_ASN1_PRINTABLESTRING, "CN", w, p);
    check_name_entry(n, 1, NID_stateOrProvinceName, V_ASN1_UTF8STRING, "上海", w, p);
    check_name_entry(n, 2, NID_organizationName, V_ASN1_UTF8STRING, "Shanghai Construction", w, p);
    check_name_entry(n, 3, NID_organizationalUnitName, V_ASN1_UTF8STRING, "Personal", w, p);
    check_name_entry(n, 4, NID_commonName, V_ASN1_UTF8STRING, NAME, w, p);

    is_int(X509_get_ext_count(x), 5, apr_psprintf(p, "%s: five extensions", w));
    is_int(ext_critical(x, NID_basic_constraints), 1,
           apr_psprintf(p, "%s: basicConstraints is critical", w));
    bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    ok(bc && !bc->ca && !bc->pathlen && !(X509_get_extension_flags(x) & EXFLAG_CA),
       apr_psprintf(p, "%s: basicConstraints CA:FALSE", w));
    is_int(ext_critical(x, NID_key_usage), 1, apr_psprintf(p, "%s: keyUsage is critical", w));
    is_int(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION,
           apr_psprintf(p, "%s: keyUsage is digitalSignature + nonRepudiation", w));
    is_int(X509_get_extended_key_usage(x), XKU_SSL_CLIENT | XKU_SMIME,
           apr_psprintf(p, "%s: extendedKeyUsage is clientAuth + emailProtection", w));
    ok(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) != 1,
       apr_psprintf(p, "%s: not usable as a TLS server certificate", w));
    ERR_clear_error();

    ski = X509_get0_subject_key_id(x);
    bits = X509_get0_pubkey_bitstr(x);
    ok(ski && bits &&
           EVP_Digest(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), md, &mdlen,
                      EVP_sha1(), NULL) &&
           ASN1_STRING_length(ski) == (int)mdlen && !memcmp(ASN1_STRING_get0_data(ski), md, mdlen),
       apr_psprintf(p, "%s: subjectKeyIdentifier is SHA-1 of the public key", w));
    aki = X509_get0_authority_key_id(x);
    ca_ski = X509_get0_subject_key_id(c->ca->cert);
    ok(aki && ca_ski && ASN1_OCTET_STRING_cmp(aki, ca_ski) == 0,
       apr_psprintf(p, "%s: authorityKeyIdentifier keyid is the CA's SKI", w));
    is_int(X509_get_signature_nid(x), c->ca->sig_nid,
           apr_psprintf(p, "%s: signature algorithm", w));

    pub = X509_get0_pubkey(x);
    ok(pub && EVP_PKEY_is_a(pub, c->key_type) && EVP_PKEY_get_bits(pub) == c->bits,
       apr_psprintf(p, "%s: public key is %s of %d bits", w, c->key_type, c->bits));
    if (c->alg == CNCA_ALG_EC_P256) {
        ok(pub &&
               EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                              NULL) &&
               OBJ_txt2nid(group) == NID_X9_62_prime256v1,
           apr_psprintf(p, "%s: on P-256", w));
    }
    if (c->alg == CNCA_ALG_RSA2048 || c->alg == CNCA_ALG_RSA3072) {
        ok(pub && EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) && BN_is_word(e, 65537),
           apr_psprintf(p, "%s: e = 65537", w));
    }
    is_str(out->algorithm, cnca_key_alg_name(c->alg), apr_psprintf(p, "%s: algorithm", w));
    ok(!strncmp(out->key_pem, "-----BEGIN PRIVATE KEY-----\n", 28),
       apr_psprintf(p, "%s: key_pem is unencrypted PKCS#8", w));
    ok(cnca_ca_key_parse(&priv, out->key_pem, p) == APR_SUCCESS && pub &&
           EVP_PKEY_eq(priv, pub) == 1 && EVP_PKEY_is_a(priv, c->key_type),
       apr_psprintf(p, "%s: key_pem parses and matches the certificate", w));
    if (priv) {
        is_str(out->key_pem, openssl_key_pem(priv, p),
               apr_psprintf(p, "%s: key_pem is what OpenSSL's own encoder writes", w));
        ok(same_spki(x, priv),
           apr_psprintf(p, "%s: subjectPublicKeyInfo is what OpenSSL's own encoder writes", w));
    }

    is_int(cnca_ca_verify(c->ca->ca, out->cert_pem, p), APR_SUCCESS,
           apr_psprintf(p, "%s: cnca_ca_verify passes", w));
    ok(cnca_ca_verify(c->other->ca, out->cert_pem, p) != APR_SUCCESS,
       apr_psprintf(p, "%s: another CA's cnca_ca_verify fails", w));

    BASIC_CONSTRAINTS_free(bc);
    BN_free(e);
    BN_free(bn);
    OPENSSL_free(hex);
    X509_free(x);
    return out;
}

static cnca_issued_t *sm2_issued, *ec_issued;

static void test_issue_matrix(void)
{
    const issue_case_t cases[] = {
        {"EC CA, ec-p256", EC_CA, RSA_CA, CNCA_ALG_EC_P256, "EC", 256},
        {"EC CA, sm2", EC_CA, SM2_CA, CNCA_ALG_SM2, "SM2", 256},
        {"EC CA, rsa-2048", EC_CA, RSA_CA, CNCA_ALG_RSA2048, "RSA", 2048},
        {"EC CA, rsa-3072", EC_CA, SM2_CA, CNCA_ALG_RSA3072, "RSA", 3072},
        {"RSA CA, ec-p256", RSA_CA, EC_CA, CNCA_ALG_EC_P256, "EC", 256},
        {"RSA CA, sm2", RSA_CA, SM2_CA, CNCA_ALG_SM2, "SM2", 256},
        {"SM2 CA, sm2", SM2_CA, EC_CA, CNCA_ALG_SM2, "SM2", 256},
        {"SM2 CA, ec-p256", SM2_CA, RSA_CA, CNCA_ALG_EC_P256, "EC", 256},
    };
    apr_pool_t *p;
    cnca_issued_t *out;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        /* these two outlive their pool: the CLI test uses them */
        p = (cases[i].ca == SM2_CA && cases[i].alg == CNCA_ALG_SM2) ||
                    (cases[i].ca == EC_CA && cases[i].alg == CNCA_ALG_EC_P256)
                ? tap_root_pool
                : tap_pool();
        out = issue_and_check(&cases[i], p);
        if (cases[i].ca == SM2_CA && cases[i].alg == CNCA_ALG_SM2) {
            sm2_issued = out;
        } else if (cases[i].ca == EC_CA && cases[i].alg == CNCA_ALG_EC_P256) {
            ec_issued = out;
        } else {
            apr_pool_destroy(p);
        }
    }
}

/* The distinguishing ID is the GM/T 0009 one, not an empty one: openssl
 * verify agrees with it and disagrees with any other. */
static void test_openssl_cli(void)
{
    apr_pool_t *p = tap_pool();
    const char *leaf;

    if (!ok(sm2_issued && ec_issued, "certificates for the CLI test were issued")) {
        apr_pool_destroy(p);
        return;
    }
    leaf = path_in(p, "sm2-leaf.pem");
    ok(write_text(leaf, sm2_issued->cert_pem), "SM2 leaf written");
    is_int(run(p, apr_psprintf(p, "openssl verify -CAfile %s " DISTID_OPT " %s", SM2_CA->cert_file,
                               leaf)),
           0, "openssl verify " DISTID_OPT " accepts the SM2 certificate");
    ok(run(p, apr_psprintf(p, "openssl verify -CAfile %s -vfyopt distid:8765432187654321 %s",
                           SM2_CA->cert_file, leaf)) != 0,
       "openssl verify with another distinguishing ID rejects it");
    ok(run(p, apr_psprintf(p, "openssl verify -CAfile %s %s", SM2_CA->cert_file, leaf)) != 0,
       "openssl verify without the distinguishing ID rejects it (so it was not empty)");
    ok(run(p, apr_psprintf(p, "openssl verify -CAfile %s " DISTID_OPT " %s", EC_CA->cert_file,
                           leaf)) != 0,
       "openssl verify with the wrong CA rejects it");

    leaf = path_in(p, "ec-leaf.pem");
    ok(write_text(leaf, ec_issued->cert_pem), "EC leaf written");
    is_int(run(p, apr_psprintf(p, "openssl verify -CAfile %s -purpose sslclient %s",
                               EC_CA->cert_file, leaf)),
           0, "openssl verify accepts the EC certificate as a TLS client");
    ok(run(p, apr_psprintf(p, "openssl verify -CAfile %s -purpose sslserver %s", EC_CA->cert_file,
                           leaf)) != 0,
       "openssl verify refuses it as a TLS server certificate");
    ok(run(p, apr_psprintf(p, "openssl verify -CAfile %s %s", RSA_CA->cert_file, leaf)) != 0,
       "openssl verify with the wrong CA rejects the EC certificate");
    apr_pool_destroy(p);
}

/* ---- requests that must be refused ---- */

static void base_req(cnca_issue_req_t *req, apr_pool_t *p)
{
    memset(req, 0, sizeof(*req));
    req->subject = SUBJECT;
    req->common_name = NAME;
    req->validity_days = 365;
    req->alg = CNCA_ALG_EC_P256;
    cnca_ca_new_serial(&req->serial_hex, p);
}

static void refuse(cnca_issue_req_t *req, const char *number, const char *what, apr_pool_t *p)
{
    cnca_issued_t *out = (cnca_issued_t *)1;
    int before = log_lines;

    last_log[0] = '\0';
    is_int(cnca_ca_issue(&out, EC_CA->ca, req, p), APR_EINVAL, what);
    ok(out == NULL && log_lines > before && logged(number),
       apr_psprintf(p, "%s: no output, logged %s", what, number));
}

static void test_bad_requests(void)
{
    apr_pool_t *p = tap_pool();
    cnca_issue_req_t req;
    cnca_issued_t *out = NULL;
    char long_name[3 * 65 + 1];
    int i;

    base_req(&req, p);
    req.validity_days = 0;
    refuse(&req, "CNCA00310", "validity 0 days is refused", p);
    req.validity_days = 826;
    refuse(&req, "CNCA00310", "validity 826 days is refused", p);
    req.validity_days = 825;
    is_int(cnca_ca_issue(&out, EC_CA->ca, &req, p), APR_SUCCESS, "validity 825 days is accepted");
    ok(out && out->not_after - out->not_before == apr_time_from_sec(825L * 86400 - 1),
       "825 days end one second before day 826");
    req.validity_days = 1;
    is_int(cnca_ca_issue(&out, EC_CA->ca, &req, p), APR_SUCCESS, "validity 1 day is accepted");
    ok(out && out->not_after - out->not_before == apr_time_from_sec(86399),
       "1 day is 86399 seconds after notBefore");

    base_req(&req, p);
    req.alg = (cnca_key_alg_t)42;
    refuse(&req, "CNCA00310", "an unknown key algorithm is refused", p);

    base_req(&req, p);
    req.common_name = "";
    refuse(&req, "CNCA00310", "an empty common name is refused", p);
    req.common_name = NULL;
    refuse(&req, "CNCA00310", "no common name is refused", p);
    for (i = 0; i < 65; ++i) {
        memcpy(long_name + 3 * i, "张", 3);
    }
    long_name[sizeof(long_name) - 1] = '\0';
    req.common_name = long_name;
    refuse(&req, "CNCA00312", "a common name of 65 characters is refused", p);
    req.common_name = "\xe5\x88";
    refuse(&req, "CNCA00312", "a common name that is not UTF-8 is refused", p);

    base_req(&req, p);
    req.serial_hex = NULL;
    refuse(&req, "CNCA00310", "no serial is refused", p);
    req.serial_hex = "00000000000000000000";
    refuse(&req, "CNCA00310", "a zero serial is refused", p);
    req.serial_hex = "0123456789ABCDEG";
    refuse(&req, "CNCA00310", "a serial that is not hex is refused", p);
    req.serial_hex = "-123456789ABCDEF0";
    refuse(&req, "CNCA00310", "a negative serial is refused", p);
    req.serial_hex = "123456789ABCDEF";
    refuse(&req, "CNCA00310", "a serial under 64 bits is refused", p);
    req.serial_hex = "8000000000000000000000000000000000000000";
    refuse(&req, "CNCA00310", "a serial needing 21 octets is refused", p);
    req.serial_hex = "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF";
    is_int(cnca_ca_issue(&out, EC_CA->ca, &req, p), APR_SUCCESS,
           "a 159-bit serial (20 octets) is accepted");

    base_req(&req, p);
    req.subject = "C=CN, CN=Someone";
    refuse(&req, "CNCA00311", "a subject with CN is refused", p);
    req.subject = "C=CHN";
    refuse(&req, "CNCA00311", "a three-letter country is refused", p);

    base_req(&req, p);
    req.not_before = -1;
    refuse(&req, "CNCA00310", "a notBefore before 1970 is refused", p);

    base_req(&req, p);
    req.subject = NULL;
    req.not_before = 0;
    out = NULL;
    is_int(cnca_ca_issue(&out, EC_CA->ca, &req, p), APR_SUCCESS,
           "no subject template and notBefore 0 are accepted");
    if (out) {
        X509 *x = parse_cert(out->cert_pem);
        apr_time_t now = apr_time_now();
        ok(x && X509_NAME_entry_count(X509_get_subject_name(x)) == 1,
           "without a template the subject is the CN alone");
        ok(out->not_before <= now && out->not_before > now - apr_time_from_sec(5),
           "notBefore 0 means now");
        X509_free(x);
    }
    ok(!log_leaked_name, "no log line carries the applicant's name or a key");
    apr_pool_destroy(p);
}

static void test_subject_templates(void)
{
    static const char *good[] = {
        "",
        "  ",
        "C=CN",
        "C=CN, ST=Shanghai, O=Shanghai Construction, OU=Personal",
        "C=CN,ST=上海市,L=上海,O=上海建筑业,OU=个人",
        "countryName = CN , organizationName = A\\, B\\\\C",
        "c=CN, street=1 Road, title=Engineer",
    };
    static const char *bad[] = {
        "C=CN, CN=x",      "cn=x",  "C=CHN",      "C=",       "X=1",
        "C=CN,,O=x",       "C=CN,", "C=CN, O= ",  "noequals", "/C=CN/O=x",
        "O=bad\\escape",   "O=a\\", "O=\xff\xfe", "=CN",      "emailAddress=a@b",
        "C=CN, 2.5.4.3=x",
    };
    apr_pool_t *p = tap_pool();
    cnca_issue_req_t req;
    cnca_issued_t *out = NULL;
    const char *err;
    apr_size_t i;

    is_int(cnca_ca_subject_check(NULL, p, &err), APR_SUCCESS, "subject NULL is valid (empty)");
    for (i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
        err = NULL;
        is_int(cnca_ca_subject_check(good[i], p, &err), APR_SUCCESS,
               apr_psprintf(p, "subject '%s' is valid", good[i]));
        if (err) {
            tap_diag(err);
        }
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        err = NULL;
        is_int(cnca_ca_subject_check(bad[i], p, &err), APR_EINVAL,
               apr_psprintf(p, "subject '%s' is refused", bad[i]));
        ok(err && *err, apr_psprintf(p, "subject '%s': a reason is given", bad[i]));
    }
    cnca_ca_subject_check("C=CN, CN=x", p, &err);
    ok(err && strstr(err, "applicant's name"), "the reason for CN says where the CN comes from");

    base_req(&req, p);
    req.subject = "C = CN , O = A\\, B\\\\C ,OU=个人";
    is_int(cnca_ca_issue(&out, EC_CA->ca, &req, p), APR_SUCCESS, "issued with escapes");
    if (out) {
        X509 *x = parse_cert(out->cert_pem);
        X509_NAME *n = x ? X509_get_subject_name(x) : NULL;
        if (ok(n && X509_NAME_entry_count(n) == 4, "escaped subject: 4 RDNs")) {
            check_name_entry(n, 0, NID_countryName, V_ASN1_PRINTABLESTRING, "CN", "escaped", p);
            check_name_entry(n, 1, NID_organizationName, V_ASN1_UTF8STRING, "A, B\\C", "escaped",
                             p);
            check_name_entry(n, 2, NID_organizationalUnitName, V_ASN1_UTF8STRING, "个人", "escaped",
                             p);
        }
        X509_free(x);
    }
    apr_pool_destroy(p);
}

/* ---- serials and algorithm names ---- */

static void test_serials_and_names(void)
{
    apr_pool_t *p = tap_pool();
    apr_hash_t *seen = apr_hash_make(p);
    const char *s;
    cnca_key_alg_t alg;
    int i, shape = 1, low = 0, high = 0;

    for (i = 0; i < 1000; ++i) {
        if (cnca_ca_new_serial(&s, p) != APR_SUCCESS || strlen(s) != 32 ||
            strspn(s, "0123456789ABCDEF") != 32 || s[0] < '4' || s[0] > '7' ||
            apr_hash_get(seen, s, 32)) {
            shape = 0;
            break;
        }
        apr_hash_set(seen, s, 32, s);
        low += s[0] < '6';
        high += s[0] >= '6';
    }
    ok(shape, "1000 serials: 32 uppercase hex digits, first byte 0x40-0x7f (positive, no "
              "leading zero byte), all different");
    ok(low > 0 && high > 0, "the top hex digit of serials varies (random, not fixed)");

    is_int(cnca_key_alg_parse(&alg, "ec-p256"), APR_SUCCESS, "ec-p256 parses");
    is_int(alg, CNCA_ALG_EC_P256, "ec-p256 is CNCA_ALG_EC_P256");
    is_int(cnca_key_alg_parse(&alg, "sm2"), APR_SUCCESS, "sm2 parses");
    is_int(alg, CNCA_ALG_SM2, "sm2 is CNCA_ALG_SM2");
    is_int(cnca_key_alg_parse(&alg, "rsa-2048"), APR_SUCCESS, "rsa-2048 parses");
    is_int(alg, CNCA_ALG_RSA2048, "rsa-2048 is CNCA_ALG_RSA2048");
    is_int(cnca_key_alg_parse(&alg, "rsa-3072"), APR_SUCCESS, "rsa-3072 parses");
    is_int(alg, CNCA_ALG_RSA3072, "rsa-3072 is CNCA_ALG_RSA3072");
    is_str(cnca_key_alg_name(CNCA_ALG_RSA3072), "rsa-3072", "name of CNCA_ALG_RSA3072");
    is_str(cnca_key_alg_name(CNCA_ALG_SM2), "sm2", "name of CNCA_ALG_SM2");
    ok(cnca_key_alg_name((cnca_key_alg_t)99) == NULL, "no name for a value outside the enum");
    is_int(cnca_key_alg_parse(&alg, "EC-P256"), APR_EINVAL, "names are case-sensitive");
    is_int(cnca_key_alg_parse(&alg, "rsa-1024"), APR_EINVAL, "rsa-1024 is refused");
    is_int(cnca_key_alg_parse(&alg, ""), APR_EINVAL, "an empty name is refused");
    is_int(cnca_key_alg_parse(&alg, NULL), APR_EINVAL, "NULL is refused");
    is_int(cnca_ca_key_parse(&(EVP_PKEY *){NULL}, "-----BEGIN PRIVATE KEY-----\nAAAA\n", p),
           APR_EINVAL, "cnca_ca_key_parse refuses garbage");
    apr_pool_destroy(p);
}

static void test_keygen_and_pem(void)
{
    static const cnca_key_alg_t algs[] = {CNCA_ALG_EC_P256, CNCA_ALG_SM2, CNCA_ALG_RSA2048};
    apr_pool_t *p = tap_pool();
    cnca_keygen_t *kg = NULL;
    EVP_PKEY *key, *back;
    const char *pem;
    apr_size_t i;

    is_int(cnca_keygen_create(&kg, p), APR_SUCCESS, "cnca_keygen_create");
    for (i = 0; kg && i < sizeof(algs) / sizeof(algs[0]); ++i) {
        const char *name = cnca_key_alg_name(algs[i]);
        key = back = NULL;
        pem = NULL;
        is_int(cnca_keygen_generate(&key, kg, algs[i], p), APR_SUCCESS,
               apr_psprintf(p, "%s key pair generated", name));
        ok(key && cnca_ca_key_pem(&pem, key, NULL, p) == APR_SUCCESS && pem,
           apr_psprintf(p, "%s key written without the public bits at hand", name));
        is_str(pem, key ? openssl_key_pem(key, p) : NULL,
               apr_psprintf(p, "%s key PEM is what OpenSSL's own encoder writes", name));
        ok(pem && cnca_ca_key_parse(&back, pem, p) == APR_SUCCESS && EVP_PKEY_eq(back, key) == 1,
           apr_psprintf(p, "%s key PEM reads back as the same key", name));
    }
    if (kg) {
        key = NULL;
        is_int(cnca_keygen_generate(&key, kg, (cnca_key_alg_t)7, p), APR_EINVAL,
               "an unknown algorithm generates nothing");
        ok(key == NULL, "no key for an unknown algorithm");
    }
    apr_pool_destroy(p);
}

/* ---- CAs that must be refused ---- */

static void refuse_ca(apr_pool_t *p, const char *cert, const char *key, const char *needle,
                      const char *what)
{
    cnca_ca_t *ca = (cnca_ca_t *)1;
    const char *err = NULL;

    ok(cnca_ca_load(&ca, p, cert, key, &err) != APR_SUCCESS && ca == NULL, what);
    ok(err && strstr(err, needle) && !strchr(err, '\n'),
       apr_psprintf(p, "%s: one-line reason mentions '%s'", what, needle));
    if (err && !strstr(err, needle)) {
        tap_diag(err);
    }
}

static void test_bad_cas(void)
{
    apr_pool_t *p = tap_pool();
    const char *ec_key = path_in(p, "ec/ca.key"), *rsa_key = path_in(p, "rsa/ca.key");
    cnca_issue_req_t req;
    cnca_issued_t *leaf = NULL;
    cnca_ca_t *shortca = NULL;
    const char *err = NULL;

    refuse_ca(p, path_in(p, "missing.crt"), ec_key, "missing.crt", "a missing certificate file");
    refuse_ca(p, EC_CA->cert_file, path_in(p, "missing.key"), "missing.key", "a missing key file");
    ok(write_text(path_in(p, "garbage.pem"), "not a certificate\n"), "garbage written");
    refuse_ca(p, path_in(p, "garbage.pem"), ec_key, "no PEM certificate", "a garbage certificate");
    refuse_ca(p, EC_CA->cert_file, path_in(p, "garbage.pem"), "no unencrypted PEM private key",
              "a garbage key");
    refuse_ca(p, EC_CA->cert_file, rsa_key, "does not match",
              "the RSA key with the EC certificate");
    refuse_ca(p, RSA_CA->cert_file, path_in(p, "sm2/ca.key"), "does not match",
              "the SM2 key with the RSA certificate");
    is_int(run(p, apr_psprintf(p, "openssl pkey -in %s -aes256 -passout pass:secret -out %s",
                               ec_key, path_in(p, "encrypted.key"))),
           0, "an encrypted copy of the EC CA key is made");
    refuse_ca(p, EC_CA->cert_file, path_in(p, "encrypted.key"), "encrypted", "an encrypted CA key");

    base_req(&req, p);
    is_int(cnca_ca_issue(&leaf, EC_CA->ca, &req, p), APR_SUCCESS, "a leaf certificate");
    ok(leaf && write_text(path_in(p, "leaf.crt"), leaf->cert_pem) &&
           write_text(path_in(p, "leaf.key"), leaf->key_pem),
       "leaf and its key written");
    refuse_ca(p, path_in(p, "leaf.crt"), path_in(p, "leaf.key"), "not a CA certificate",
              "a leaf certificate (CA:FALSE) as the CA");

    ok(make_selfsigned(p, "nocertsign", "P-256", "critical,digitalSignature,cRLSign", -1, 100, 1),
       "a CA without keyCertSign is made");
    refuse_ca(p, path_in(p, "nocertsign.crt"), path_in(p, "nocertsign.key"), "keyCertSign",
              "a CA whose keyUsage lacks keyCertSign");
    ok(make_selfsigned(p, "noku", "P-256", NULL, -1, 100, 1), "a CA without keyUsage is made");
    refuse_ca(p, path_in(p, "noku.crt"), path_in(p, "noku.key"), "keyCertSign",
              "a CA without keyUsage");
    ok(make_selfsigned(p, "expired", "P-256", "critical,keyCertSign,cRLSign", -20, -10, 1),
       "an expired CA is made");
    refuse_ca(p, path_in(p, "expired.crt"), path_in(p, "expired.key"), "expired", "an expired CA");
    ok(make_selfsigned(p, "future", "P-256", "critical,keyCertSign,cRLSign", 10, 20, 1),
       "a not yet valid CA is made");
    refuse_ca(p, path_in(p, "future.crt"), path_in(p, "future.key"), "not valid before",
              "a CA that is not valid yet");
    ok(make_selfsigned(p, "p384", "P-384", "critical,keyCertSign,cRLSign", -1, 100, 1),
       "a P-384 CA is made");
    refuse_ca(p, path_in(p, "p384.crt"), path_in(p, "p384.key"), "not supported",
              "a CA key on P-384");

    /* without a subjectKeyIdentifier the CA's key identifier is computed */
    ok(make_selfsigned(p, "noski", "P-256", "critical,keyCertSign,cRLSign", -1, 1000, 0),
       "a CA without subjectKeyIdentifier is made");
    is_int(cnca_ca_load(&shortca, p, path_in(p, "noski.crt"), path_in(p, "noski.key"), &err),
           APR_SUCCESS, "a CA without subjectKeyIdentifier loads");
    if (shortca) {
        X509 *ca_cert = read_cert(path_in(p, "noski.crt")), *x = NULL;
        const ASN1_BIT_STRING *bits = ca_cert ? X509_get0_pubkey_bitstr(ca_cert) : NULL;
        const ASN1_OCTET_STRING *aki;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;

        base_req(&req, p);
        is_int(cnca_ca_issue(&leaf, shortca, &req, p), APR_SUCCESS, "it issues");
        x = leaf ? parse_cert(leaf->cert_pem) : NULL;
        aki = x ? X509_get0_authority_key_id(x) : NULL;
        ok(bits && aki &&
               EVP_Digest(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), md, &mdlen,
                          EVP_sha1(), NULL) &&
               ASN1_STRING_length(aki) == (int)mdlen &&
               !memcmp(ASN1_STRING_get0_data(aki), md, mdlen),
           "authorityKeyIdentifier is SHA-1 of the CA's public key");
        is_int(leaf ? cnca_ca_verify(shortca, leaf->cert_pem, p) : -1, APR_SUCCESS,
               "and it verifies");
        X509_free(x);
        X509_free(ca_cert);
        shortca = NULL;
    }

    /* a CA that ends in 100 days cannot issue for 365 */
    ok(make_selfsigned(p, "short", "P-256", "critical,keyCertSign,cRLSign", -1, 100, 1),
       "a CA ending in 100 days is made");
    is_int(cnca_ca_load(&shortca, p, path_in(p, "short.crt"), path_in(p, "short.key"), &err),
           APR_SUCCESS, "it loads");
    if (shortca) {
        base_req(&req, p);
        last_log[0] = '\0';
        is_int(cnca_ca_issue(&leaf, shortca, &req, p), APR_EINVAL,
               "a certificate outliving the CA is refused");
        ok(logged("CNCA00310") && strstr(last_log, "after the CA certificate"),
           "the refusal says the CA ends first");
        req.validity_days = 90;
        is_int(cnca_ca_issue(&leaf, shortca, &req, p), APR_SUCCESS,
               "one ending before the CA is issued");
        ok(cnca_ca_self_check(shortca, CNCA_ALG_EC_P256, 365, p, &err) != APR_SUCCESS && err,
           "the self check for 365 days fails on it");
        is_int(cnca_ca_self_check(shortca, CNCA_ALG_EC_P256, 90, p, &err), APR_SUCCESS,
               "the self check for 90 days passes");
    }
    apr_pool_destroy(p);
}

static void test_self_check(void)
{
    apr_pool_t *p = tap_pool();
    const char *err = NULL;

    is_int(cnca_ca_self_check(SM2_CA->ca, CNCA_ALG_SM2, 825, p, &err), APR_SUCCESS,
           "self check: SM2 CA, sm2, 825 days");
    is_int(cnca_ca_self_check(RSA_CA->ca, CNCA_ALG_EC_P256, 825, p, &err), APR_SUCCESS,
           "self check: RSA CA, ec-p256, 825 days");
    ok(cnca_ca_self_check(EC_CA->ca, CNCA_ALG_EC_P256, 826, p, &err) != APR_SUCCESS && err,
       "self check: 826 days fails with a reason");
    apr_pool_destroy(p);
}

/* ---- many threads, one CA ---- */

#define THREADS 4
#define PER_THREAD 20

typedef struct {
    apr_pool_t *pool;
    test_ca_t *ca;
    int good;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *thd, void *data)
{
    worker_t *w = data;
    cnca_issue_req_t req;
    cnca_issued_t *out;
    int i;

    (void)thd;
    for (i = 0; i < PER_THREAD; ++i) {
        base_req(&req, w->pool);
        req.alg = i % 2 ? CNCA_ALG_SM2 : CNCA_ALG_EC_P256;
        if (cnca_ca_issue(&out, w->ca->ca, &req, w->pool) == APR_SUCCESS &&
            cnca_ca_verify(w->ca->ca, out->cert_pem, w->pool) == APR_SUCCESS) {
            ++w->good;
        }
    }
    return NULL;
}

static void test_threads(void)
{
    apr_pool_t *p = tap_pool();
    apr_thread_t *thr[THREADS];
    worker_t w[THREADS];
    apr_status_t trv;
    int i, started = 0, good = 0;

    for (i = 0; i < THREADS; ++i) {
        w[i].ca = i % 2 ? SM2_CA : EC_CA;
        w[i].good = 0;
        apr_pool_create(&w[i].pool, p);
        if (apr_thread_create(&thr[i], NULL, worker, &w[i], p) == APR_SUCCESS) {
            ++started;
        }
    }
    for (i = 0; i < started; ++i) {
        apr_thread_join(&trv, thr[i]);
        good += w[i].good;
    }
    is_int(started, THREADS, "worker threads started");
    is_int(good, THREADS * PER_THREAD,
           "concurrent issues from shared EC and SM2 CAs all succeed and verify");
    apr_pool_destroy(p);
}

int main(void)
{
    apr_pool_t *root;
    char *dir;
    const char *tmp = NULL;

    root = tap_pool();
    cnca_log_set_sink(record_log, NULL);
    top = getenv("CNCA_TOP") ? getenv("CNCA_TOP") : ".";
    apr_temp_dir_get(&tmp, root);
    dir = apr_pstrcat(root, tmp ? tmp : "/tmp", "/cnca_test_ca.XXXXXX", NULL);
    if (!mkdtemp(dir)) {
        ok(0, "temporary directory");
        return tap_done();
    }
    tmpdir = dir;

    test_serials_and_names();
    test_devca_and_load(root);
    if (EC_CA->ca && RSA_CA->ca && SM2_CA->ca) {
        test_issue_matrix();
        test_openssl_cli();
        test_bad_requests();
        test_subject_templates();
        test_bad_cas();
        test_self_check();
        test_keygen_and_pem();
        test_threads();
    } else {
        ok(0, "the three development CAs load (nothing else can be tested)");
    }
    X509_free(EC_CA->cert);
    X509_free(RSA_CA->cert);
    X509_free(SM2_CA->cert);
    run(root, apr_psprintf(root, "rm -rf '%s'", tmpdir));
    return tap_done();
}
