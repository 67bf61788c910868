/* The CA: loading and checking the CA certificate and key, serial numbers,
 * issuing the applicant's certificate and verifying what we issued (see
 * cnca_ca.h). Everything that is the same for every certificate (hash
 * algorithms, the fixed extensions, the authority key identifier) is made
 * once at load, so an issue is key generation, one signature and the two
 * PEM encodings. */
#include <string.h>
#include <time.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cnca_ca.h"
#include "cnca_crypto.h"
#include "cnca_log.h"

#define SERIAL_BYTES 16
#define SERIAL_HEX_MIN 16 /* 64 bits */
#define SERIAL_HEX_MAX 40 /* RFC 5280 4.1.2.2: at most 20 octets */
#define PEM_FILE_MAX (1024 * 1024)
#define N_FIXED_EXTS 3

struct cnca_ca {
    X509 *cert;
    EVP_PKEY *key;
    int sm2;         /* SM2 key: SM3 and the distinguishing ID */
    EVP_MD *sign_md; /* SHA-256, or SM3 for SM2 */
    EVP_MD *sha1;    /* key identifiers, RFC 5280 4.2.1.2 method (1) */
    cnca_keygen_t *keygen;
    apr_time_t not_after;
    /* basicConstraints, keyUsage, extendedKeyUsage; then each certificate's
     * own subjectKeyIdentifier; then the authorityKeyIdentifier */
    X509_EXTENSION *fixed_exts[N_FIXED_EXTS];
    X509_EXTENSION *aki_ext;
    const char *description;
};

/* ---- loading ---- */

static apr_status_t ca_cleanup(void *data)
{
    cnca_ca_t *ca = data;
    int i;

    for (i = 0; i < N_FIXED_EXTS; ++i) {
        X509_EXTENSION_free(ca->fixed_exts[i]);
    }
    X509_EXTENSION_free(ca->aki_ext);
    EVP_MD_free(ca->sha1);
    EVP_MD_free(ca->sign_md);
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    return APR_SUCCESS;
}

/* The whole of a (small) file, NUL-terminated. */
static apr_status_t read_file(char **pbuf, apr_size_t *plen, const char *path, apr_pool_t *p,
                              const char **perr)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t n = 0;
    char *buf;
    apr_status_t rv;

    if (!path || !*path) {
        *perr = "no file name given";
        return APR_EINVAL;
    }
    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p)) != APR_SUCCESS ||
        (rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f)) != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot read %s: %pm", path, &rv);
        goto leave;
    }
    if (fi.size <= 0 || fi.size > PEM_FILE_MAX) {
        *perr = apr_psprintf(p, "%s is empty or larger than %d bytes", path, PEM_FILE_MAX);
        rv = APR_EINVAL;
        goto leave;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    if ((rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &n)) != APR_SUCCESS &&
        rv != APR_EOF) {
        *perr = apr_psprintf(p, "cannot read %s: %pm", path, &rv);
        goto leave;
    }
    buf[n] = '\0';
    *pbuf = buf;
    *plen = n;
    rv = APR_SUCCESS;
leave:
    if (f) {
        apr_file_close(f);
    }
    return rv;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static apr_time_t asn1_time_to_apr(const ASN1_TIME *t)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return apr_time_from_sec(timegm(&tm));
}

static const char *date_text(apr_pool_t *p, apr_time_t t)
{
    char *buf = apr_palloc(p, APR_RFC822_DATE_LEN);

    return apr_rfc822_date(buf, t) == APR_SUCCESS ? buf : "?";
}

/* NULL when key is a usable CA key; else why not. Sets ca->sm2. */
static const char *check_ca_key(cnca_ca_t *ca, apr_pool_t *p)
{
    char group[64];
    size_t glen = 0;
    int bits = EVP_PKEY_get_bits(ca->key);

    if (EVP_PKEY_is_a(ca->key, "SM2")) {
        ca->sm2 = 1;
        return NULL;
    }
    if (EVP_PKEY_is_a(ca->key, "RSA")) {
        return bits >= 2048
                   ? NULL
                   : apr_psprintf(p, "an RSA key of %d bits is too short (2048 at least)", bits);
    }
    if (EVP_PKEY_is_a(ca->key, "EC")) {
        if (EVP_PKEY_get_utf8_string_param(ca->key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), &glen) == 1 &&
            OBJ_txt2nid(group) == NID_X9_62_prime256v1) {
            return NULL;
        }
        ERR_clear_error();
        return apr_psprintf(p, "an EC key on curve %s is not supported (use P-256, or SM2)",
                            glen ? group : "(unnamed)");
    }
    return apr_psprintf(p, "a %s key is not supported (use RSA, EC P-256 or SM2)",
                        EVP_PKEY_get0_type_name(ca->key));
}

/* SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method (1)). */
static int key_id(unsigned char *md, unsigned int *mdlen, X509 *x, const EVP_MD *sha1)
{
    const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);

    return bits && EVP_Digest(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), md,
                              mdlen, sha1, NULL) == 1;
}

/* The extensions that are the same in every certificate this CA issues. */
static int make_fixed_extensions(cnca_ca_t *ca)
{
    BASIC_CONSTRAINTS *bc = NULL;
    ASN1_BIT_STRING *ku = NULL;
    EXTENDED_KEY_USAGE *eku = NULL;
    AUTHORITY_KEYID *akid = NULL;
    const ASN1_OCTET_STRING *ski;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = 0;

    if (!(bc = BASIC_CONSTRAINTS_new()) || !(ku = ASN1_BIT_STRING_new()) ||
        !ASN1_BIT_STRING_set_bit(ku, 0, 1)    /* digitalSignature */
        || !ASN1_BIT_STRING_set_bit(ku, 1, 1) /* nonRepudiation (contentCommitment) */
        || !(eku = sk_ASN1_OBJECT_new_null()) ||
        !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)) ||
        !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_email_protect)) ||
        !(akid = AUTHORITY_KEYID_new()) || !(akid->keyid = ASN1_OCTET_STRING_new())) {
        goto leave;
    }
    bc->ca = 0;
    if ((ski = X509_get0_subject_key_id(ca->cert)) != NULL) {
        if (!ASN1_OCTET_STRING_set(akid->keyid, ASN1_STRING_get0_data(ski),
                                   ASN1_STRING_length(ski))) {
            goto leave;
        }
    } else if (!key_id(md, &mdlen, ca->cert, ca->sha1) ||
               !ASN1_OCTET_STRING_set(akid->keyid, md, (int)mdlen)) {
        goto leave;
    }
    ok = (ca->fixed_exts[0] = X509V3_EXT_i2d(NID_basic_constraints, 1, bc)) != NULL &&
         (ca->fixed_exts[1] = X509V3_EXT_i2d(NID_key_usage, 1, ku)) != NULL &&
         (ca->fixed_exts[2] = X509V3_EXT_i2d(NID_ext_key_usage, 0, eku)) != NULL &&
         (ca->aki_ext = X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid)) != NULL;
leave:
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING_free(ku);
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    AUTHORITY_KEYID_free(akid);
    return ok;
}

static const char *make_description(cnca_ca_t *ca, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len = 0;
    const char *subject = "?";

    if (bio &&
        X509_NAME_print_ex(bio, X509_get_subject_name(ca->cert), 0,
                           XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
        (len = BIO_get_mem_data(bio, &data)) > 0) {
        subject = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    ERR_clear_error();
    return apr_psprintf(p, "%s (%s key, %s, valid until %s)", subject,
                        EVP_PKEY_get0_type_name(ca->key),
                        OBJ_nid2ln(X509_get_signature_nid(ca->cert)), date_text(p, ca->not_after));
}

apr_status_t cnca_ca_load(cnca_ca_t **pca, apr_pool_t *p, const char *cert_file,
                          const char *key_file, const char **perr)
{
    cnca_ca_t *ca;
    apr_pool_t *ptemp = NULL;
    BIO *bio = NULL;
    char *buf = NULL;
    apr_size_t len = 0;
    uint32_t flags;
    apr_time_t now = apr_time_now(), not_before;
    const char *why;
    apr_status_t rv;

    *pca = NULL;
    *perr = NULL;
    ca = apr_pcalloc(p, sizeof(*ca));
    apr_pool_cleanup_register(p, ca, ca_cleanup, apr_pool_cleanup_null);
    if ((rv = apr_pool_create(&ptemp, p)) != APR_SUCCESS) {
        *perr = "out of memory";
        return rv;
    }
    rv = APR_EINVAL;
    ERR_clear_error();

    if (read_file(&buf, &len, cert_file, ptemp, perr) != APR_SUCCESS) {
        goto leave;
    }
    if (!(bio = BIO_new_mem_buf(buf, (int)len)) ||
        !(ca->cert = PEM_read_bio_X509(bio, NULL, no_password, NULL))) {
        *perr =
            apr_psprintf(p, "%s holds no PEM certificate: %s", cert_file, cnca_ossl_errors(ptemp));
        goto leave;
    }
    BIO_free(bio);
    bio = NULL;

    if (read_file(&buf, &len, key_file, ptemp, perr) != APR_SUCCESS) {
        goto leave;
    }
    bio = BIO_new_mem_buf(buf, (int)len);
    ca->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
    OPENSSL_cleanse(buf, len);
    if (!ca->key) {
        /* the queue is not logged: it may quote the key file */
        ERR_clear_error();
        *perr = apr_psprintf(p,
                             "%s holds no unencrypted PEM private key "
                             "(an encrypted CA key is not supported)",
                             key_file);
        goto leave;
    }

    flags = X509_get_extension_flags(ca->cert); /* also caches them for the threads */
    if (flags & EXFLAG_INVALID) {
        *perr = apr_psprintf(p, "%s: the certificate has malformed extensions", cert_file);
        goto leave;
    }
    if (!(flags & EXFLAG_CA)) {
        *perr =
            apr_psprintf(p, "%s is not a CA certificate (no basicConstraints CA:TRUE)", cert_file);
        goto leave;
    }
    if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(ca->cert) & KU_KEY_CERT_SIGN)) {
        *perr = apr_psprintf(p, "%s is not a CA certificate (its keyUsage lacks keyCertSign)",
                             cert_file);
        goto leave;
    }
    if ((why = check_ca_key(ca, ptemp)) != NULL) {
        *perr = apr_psprintf(p, "%s: %s", key_file, why);
        goto leave;
    }
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        ERR_clear_error();
        *perr = apr_psprintf(p, "the private key in %s does not match the certificate in %s",
                             key_file, cert_file);
        goto leave;
    }
    ca->not_after = asn1_time_to_apr(X509_get0_notAfter(ca->cert));
    not_before = asn1_time_to_apr(X509_get0_notBefore(ca->cert));
    if (ca->not_after <= now) {
        *perr = apr_psprintf(p, "%s: the CA certificate expired on %s", cert_file,
                             date_text(ptemp, ca->not_after));
        goto leave;
    }
    if (not_before > now) {
        *perr = apr_psprintf(p, "%s: the CA certificate is not valid before %s", cert_file,
                             date_text(ptemp, not_before));
        goto leave;
    }

    rv = APR_EGENERAL;
    if (!(ca->sign_md = EVP_MD_fetch(NULL, ca->sm2 ? "SM3" : "SHA256", NULL)) ||
        !(ca->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)) || !make_fixed_extensions(ca)) {
        *perr = apr_psprintf(p, "preparing the CA failed: %s", cnca_ossl_errors(ptemp));
        goto leave;
    }
    if (cnca_keygen_create(&ca->keygen, p) != APR_SUCCESS) {
        *perr = "preparing the key pair generator failed (CNCA00304)";
        goto leave;
    }
    ca->description = make_description(ca, p);
    *pca = ca;
    rv = APR_SUCCESS;
leave:
    BIO_free(bio);
    apr_pool_destroy(ptemp);
    if (rv != APR_SUCCESS) {
        apr_pool_cleanup_run(p, ca, ca_cleanup);
    }
    return rv;
}

const char *cnca_ca_describe(cnca_ca_t *ca)
{
    return ca->description;
}

/* ---- serial numbers ---- */

apr_status_t cnca_ca_new_serial(const char **pserial_hex, apr_pool_t *p)
{
    static const char digits[] = "0123456789ABCDEF";
    unsigned char buf[SERIAL_BYTES];
    char *hex;
    int i;
    apr_status_t rv;

    *pserial_hex = NULL;
    if ((rv = cnca_random(buf, sizeof(buf))) != APR_SUCCESS) {
        return rv;
    }
    /* first byte 0x40-0x7f: positive as a DER INTEGER and never 0, so the
     * certificate's INTEGER is all SERIAL_BYTES bytes and its hex is this
     * hex (a leading 00 byte would be dropped from the DER; 126 bits stay
     * random) */
    buf[0] = (unsigned char)((buf[0] & 0x3f) | 0x40);
    hex = apr_palloc(p, 2 * SERIAL_BYTES + 1);
    for (i = 0; i < SERIAL_BYTES; ++i) {
        hex[2 * i] = digits[buf[i] >> 4];
        hex[2 * i + 1] = digits[buf[i] & 0xf];
    }
    hex[2 * SERIAL_BYTES] = '\0';
    *pserial_hex = hex;
    return APR_SUCCESS;
}

/* NULL when hex is a serial we accept: 16..40 hex digits, not zero, and
 * positive in at most 20 octets. */
static const char *check_serial(const char *hex)
{
    apr_size_t n, i, lead = 0;

    if (!hex) {
        return "no serial number";
    }
    n = strlen(hex);
    for (i = 0; i < n; ++i) {
        if (!apr_isxdigit(hex[i])) {
            return "the serial number is not hexadecimal";
        }
    }
    if (n < SERIAL_HEX_MIN || n > SERIAL_HEX_MAX) {
        return "the serial number must have 16 to 40 hex digits";
    }
    while (lead < n && hex[lead] == '0') {
        ++lead;
    }
    if (lead == n) {
        return "the serial number is zero";
    }
    if (n - lead == SERIAL_HEX_MAX && hex[lead] >= '8') {
        return "the serial number needs more than 20 octets";
    }
    return NULL;
}

/* ---- subject ---- */

static const struct {
    const char *sn, *ln;
    int nid;
} subject_attrs[] = {
    {"C", "countryName", NID_countryName},
    {"ST", "stateOrProvinceName", NID_stateOrProvinceName},
    {"L", "localityName", NID_localityName},
    {"O", "organizationName", NID_organizationName},
    {"OU", "organizationalUnitName", NID_organizationalUnitName},
    {"street", "streetAddress", NID_streetAddress},
    {"title", "title", NID_title},
};

static int subject_attr_nid(const char *name, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < sizeof(subject_attrs) / sizeof(subject_attrs[0]); ++i) {
        if ((strlen(subject_attrs[i].sn) == len && !strncasecmp(name, subject_attrs[i].sn, len)) ||
            (strlen(subject_attrs[i].ln) == len && !strncasecmp(name, subject_attrs[i].ln, len))) {
            return subject_attrs[i].nid;
        }
    }
    return NID_undef;
}

/* Appends the template's RDNs to name, in order. */
static apr_status_t subject_add_rdns(X509_NAME *name, const char *subject, apr_pool_t *p,
                                     const char **perr)
{
    const char *s = subject, *key;
    char *value;
    apr_size_t keylen, vlen, vkeep;
    int nid;

    if (!s) {
        return APR_SUCCESS;
    }
    while (apr_isspace(*s)) {
        ++s;
    }
    if (!*s) {
        return APR_SUCCESS;
    }
    value = apr_palloc(p, strlen(s) + 1);
    for (;;) {
        while (apr_isspace(*s)) {
            ++s;
        }
        key = s;
        while (*s && *s != '=' && *s != ',') {
            ++s;
        }
        keylen = (apr_size_t)(s - key);
        while (keylen && apr_isspace(key[keylen - 1])) {
            --keylen;
        }
        if (*s != '=' || !keylen) {
            *perr = apr_psprintf(p, "'%.*s' in the subject is not TYPE=value", (int)(s - key), key);
            return APR_EINVAL;
        }
        if ((nid = subject_attr_nid(key, keylen)) == NID_undef) {
            *perr = apr_psprintf(p,
                                 (keylen == 2 && !strncasecmp(key, "CN", 2))
                                     ? "the subject must not have %.*s: the CN is the "
                                       "applicant's name"
                                     : "unknown subject attribute '%.*s' "
                                       "(use C, ST, L, O, OU, street, title)",
                                 (int)keylen, key);
            return APR_EINVAL;
        }
        for (++s; apr_isspace(*s); ++s) {
        }
        /* value up to an unescaped comma; trailing unescaped spaces dropped */
        for (vlen = vkeep = 0; *s && *s != ','; ++s) {
            if (*s == '\\') {
                if (s[1] != ',' && s[1] != '\\') {
                    *perr = apr_psprintf(p,
                                         "bad escape in the subject value of %.*s "
                                         "(use \\, or \\\\)",
                                         (int)keylen, key);
                    return APR_EINVAL;
                }
                value[vlen++] = *++s;
                vkeep = vlen;
            } else {
                value[vlen++] = *s;
                if (!apr_isspace(*s)) {
                    vkeep = vlen;
                }
            }
        }
        value[vkeep] = '\0';
        if (!vkeep) {
            *perr = apr_psprintf(p, "empty value for %.*s in the subject", (int)keylen, key);
            return APR_EINVAL;
        }
        ERR_clear_error();
        if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value, -1,
                                       -1, 0) != 1) {
            *perr = apr_psprintf(p, "bad value '%s' for %.*s in the subject: %s", value,
                                 (int)keylen, key, cnca_ossl_errors(p));
            return APR_EINVAL;
        }
        if (!*s) {
            return APR_SUCCESS;
        }
        ++s; /* the comma: another RDN must follow */
    }
}

apr_status_t cnca_ca_subject_check(const char *subject, apr_pool_t *p, const char **perr)
{
    X509_NAME *name;
    apr_status_t rv;

    *perr = NULL;
    if (!(name = X509_NAME_new())) {
        *perr = "out of memory";
        return APR_ENOMEM;
    }
    rv = subject_add_rdns(name, subject, p, perr);
    X509_NAME_free(name);
    return rv;
}

/* ---- issuing ---- */

/* NULL when req can be issued by ca; else why not. */
static const char *check_request(cnca_ca_t *ca, const cnca_issue_req_t *req, apr_time_t *pnb,
                                 apr_time_t *pna, apr_pool_t *p)
{
    const char *why;
    apr_time_t nb;

    if (!cnca_key_alg_name(req->alg)) {
        return apr_psprintf(p, "unknown key algorithm %d", (int)req->alg);
    }
    if (req->validity_days < CNCA_VALIDITY_DAYS_MIN ||
        req->validity_days > CNCA_VALIDITY_DAYS_MAX) {
        return apr_psprintf(p, "a validity of %d days is outside %d..%d", req->validity_days,
                            CNCA_VALIDITY_DAYS_MIN, CNCA_VALIDITY_DAYS_MAX);
    }
    if (!req->common_name || !*req->common_name) {
        return "no common name";
    }
    if ((why = check_serial(req->serial_hex)) != NULL) {
        return why;
    }
    if (req->not_before < 0) {
        return "notBefore is before 1970";
    }
    nb = apr_time_from_sec(apr_time_sec(req->not_before ? req->not_before : apr_time_now()));
    *pnb = nb;
    *pna = nb + apr_time_from_sec((apr_time_t)req->validity_days * 86400 - 1);
    if (*pna > ca->not_after) {
        return apr_psprintf(p, "the certificate would end after the CA certificate (%s)",
                            date_text(p, ca->not_after));
    }
    return NULL;
}

static int set_serial(X509 *x, const char *hex)
{
    BIGNUM *bn = NULL;
    int ok = BN_hex2bn(&bn, hex) == (int)strlen(hex) &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

    BN_free(bn);
    return ok;
}

/* The subjectPublicKeyInfo. X509_set_pubkey in OpenSSL 3.0 runs the key
 * through an encoder and a decoder, which costs several times an EC key
 * generation; for EC and SM2 the structure is set from the public point
 * directly ({ id-ecPublicKey, namedCurve }, uncompressed point: what the
 * encoder writes). X509_get0_pubkey(x) is not used before x is re-parsed. */
static int set_public_key(X509 *x, EVP_PKEY *key, cnca_key_alg_t alg)
{
    unsigned char *point = NULL;
    size_t len;
    int curve = alg == CNCA_ALG_SM2 ? NID_sm2 : NID_X9_62_prime256v1;

    if (alg != CNCA_ALG_EC_P256 && alg != CNCA_ALG_SM2) {
        return X509_set_pubkey(x, key) == 1;
    }
    if ((len = EVP_PKEY_get1_encoded_public_key(key, &point)) == 0 ||
        X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                               V_ASN1_OBJECT, OBJ_nid2obj(curve), point, (int)len) != 1) {
        OPENSSL_free(point);
        return 0;
    }
    return 1; /* x owns point */
}

static int add_key_id(X509 *x, const EVP_MD *sha1)
{
    ASN1_OCTET_STRING *ski = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = key_id(md, &mdlen, x, sha1) && (ski = ASN1_OCTET_STRING_new()) != NULL &&
             ASN1_OCTET_STRING_set(ski, md, (int)mdlen) &&
             X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) == 1;

    ASN1_OCTET_STRING_free(ski);
    return ok;
}

static int sign_cert(cnca_ca_t *ca, X509 *x)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */
    int ok;

    ok = mctx && EVP_DigestSignInit(mctx, &pctx, ca->sign_md, NULL, ca->key) == 1 &&
         (!ca->sm2 || EVP_PKEY_CTX_set1_id(pctx, CNCA_SM2_DISTID, CNCA_SM2_DISTID_LEN) == 1) &&
         X509_sign_ctx(x, mctx) > 0;
    EVP_MD_CTX_free(mctx);
    return ok;
}

static const char *cert_pem(X509 *x, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *pem = NULL;
    char *data;
    long len;

    if (bio && PEM_write_bio_X509(bio, x) == 1 && (len = BIO_get_mem_data(bio, &data)) > 0) {
        pem = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    return pem;
}

apr_status_t cnca_ca_issue(cnca_issued_t **pout, cnca_ca_t *ca, const cnca_issue_req_t *req,
                           apr_pool_t *p)
{
    cnca_issued_t *out;
    apr_pool_t *ptemp = NULL;
    X509 *x = NULL;
    X509_NAME *name;
    EVP_PKEY *key = NULL;
    const char *why = NULL, *step;
    apr_time_t nb = 0, na = 0;
    int i;
    apr_status_t rv;

    *pout = NULL;
    if ((rv = apr_pool_create(&ptemp, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((why = check_request(ca, req, &nb, &na, ptemp)) != NULL) {
        rv = APR_EINVAL;
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00310: certificate request refused: %s", why);
        goto leave;
    }

    ERR_clear_error();
    step = "building the certificate";
    if (!(x = X509_new()) || X509_set_version(x, X509_VERSION_3) != 1 ||
        !set_serial(x, req->serial_hex) ||
        X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)apr_time_sec(nb)) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)apr_time_sec(na))) {
        goto failed;
    }
    /* the subject before the key pair: a bad one costs no key generation */
    name = X509_get_subject_name(x);
    if (subject_add_rdns(name, req->subject, ptemp, &why) != APR_SUCCESS) {
        rv = APR_EINVAL;
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00311: certificate request refused: %s", why);
        goto leave;
    }
    ERR_clear_error();
    if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)req->common_name, -1, -1, 0) != 1) {
        rv = APR_EINVAL;
        /* not the name itself: it is personal data */
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00312: certificate request refused: the common name is not "
                        "1 to 64 characters of UTF-8: %s",
                        cnca_ossl_errors(ptemp));
        goto leave;
    }
    if ((rv = cnca_keygen_generate(&key, ca->keygen, req->alg, ptemp)) != APR_SUCCESS) {
        goto leave; /* logged */
    }
    ERR_clear_error();
    step = "setting the public key";
    if (!set_public_key(x, key, req->alg)) {
        goto failed;
    }
    step = "adding the extensions";
    for (i = 0; i < N_FIXED_EXTS; ++i) {
        if (X509_add_ext(x, ca->fixed_exts[i], -1) != 1) {
            goto failed;
        }
    }
    if (!add_key_id(x, ca->sha1) || X509_add_ext(x, ca->aki_ext, -1) != 1) {
        goto failed;
    }
    step = "signing";
    if (!sign_cert(ca, x)) {
        goto failed;
    }
    step = "writing the PEM";
    out = apr_pcalloc(p, sizeof(*out));
    if (!(out->cert_pem = cert_pem(x, p))) {
        goto failed;
    }
    if ((rv = cnca_ca_key_pem(&out->key_pem, key, X509_get0_pubkey_bitstr(x), p)) != APR_SUCCESS) {
        goto leave; /* logged */
    }
    out->serial_hex = apr_pstrdup(p, req->serial_hex);
    out->not_before = nb;
    out->not_after = na;
    out->algorithm = cnca_key_alg_name(req->alg);
    *pout = out;
    rv = APR_SUCCESS;
    goto leave;
failed:
    rv = APR_EGENERAL;
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                    "CNCA00320: issuing certificate %s failed at %s: %s", req->serial_hex, step,
                    cnca_ossl_errors(ptemp));
leave:
    X509_free(x);
    apr_pool_destroy(ptemp); /* frees the key pair */
    return rv;
}

/* ---- verifying ---- */

apr_status_t cnca_ca_verify(cnca_ca_t *ca, const char *cert_pem, apr_pool_t *p)
{
    BIO *bio = NULL;
    X509 *x = NULL;
    ASN1_OCTET_STRING *id = NULL;
    int err;
    apr_status_t rv = APR_EINVAL;

    ERR_clear_error();
    if (!cert_pem || !(bio = BIO_new_mem_buf(cert_pem, -1)) ||
        !(x = PEM_read_bio_X509(bio, NULL, no_password, NULL))) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, rv,
                        "CNCA00330: verify: not a PEM certificate: %s", cnca_ossl_errors(p));
        goto leave;
    }
    rv = APR_EGENERAL;
    /* issuer name, authority key identifier, the CA's keyUsage */
    if ((err = X509_check_issued(ca->cert, x)) != X509_V_OK) {
        ERR_clear_error();
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, rv,
                        "CNCA00331: verify: certificate was not issued by this CA: %s",
                        X509_verify_cert_error_string(err));
        goto leave;
    }
    if (ca->sm2) {
        if (!(id = ASN1_OCTET_STRING_new()) ||
            !ASN1_OCTET_STRING_set(id, (const unsigned char *)CNCA_SM2_DISTID,
                                   CNCA_SM2_DISTID_LEN)) {
            ASN1_OCTET_STRING_free(id);
            cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv, "CNCA00332: verify: %s",
                            cnca_ossl_errors(p));
            goto leave;
        }
        X509_set0_distinguishing_id(x, id); /* x owns it now */
    }
    if (X509_verify(x, X509_get0_pubkey(ca->cert)) != 1) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, rv,
                        "CNCA00333: verify: the signature does not verify with the CA key: %s",
                        cnca_ossl_errors(p));
        goto leave;
    }
    rv = APR_SUCCESS;
leave:
    X509_free(x);
    BIO_free(bio);
    return rv;
}

apr_status_t cnca_ca_self_check(cnca_ca_t *ca, cnca_key_alg_t alg, int validity_days, apr_pool_t *p,
                                const char **perr)
{
    cnca_issue_req_t req;
    cnca_issued_t *issued;
    EVP_PKEY *key;
    apr_pool_t *ptemp = NULL;
    apr_status_t rv;

    *perr = NULL;
    if ((rv = apr_pool_create(&ptemp, p)) != APR_SUCCESS) {
        *perr = "out of memory";
        return rv;
    }
    memset(&req, 0, sizeof(req));
    req.common_name = "mod_cnca self check";
    req.validity_days = validity_days;
    req.alg = alg;
    if ((rv = cnca_ca_new_serial(&req.serial_hex, ptemp)) != APR_SUCCESS ||
        (rv = cnca_ca_issue(&issued, ca, &req, ptemp)) != APR_SUCCESS) {
        *perr = apr_psprintf(p,
                             "the CA cannot issue a %s certificate for %d days "
                             "(the CNCA003xx lines before say why)",
                             cnca_key_alg_name(alg) ? cnca_key_alg_name(alg) : "?", validity_days);
    } else if ((rv = cnca_ca_verify(ca, issued->cert_pem, ptemp)) != APR_SUCCESS) {
        *perr = "the CA cannot verify a certificate it issued";
    } else if ((rv = cnca_ca_key_parse(&key, issued->key_pem, ptemp)) != APR_SUCCESS) {
        *perr = "the CA's PKCS#8 key output cannot be read back";
    }
    apr_pool_destroy(ptemp);
    return rv;
}
