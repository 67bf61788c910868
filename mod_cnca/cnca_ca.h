/* The certificate authority: the configured CA certificate and key, the
 * applicant's key pair, and the personal X.509 certificate the CA issues for
 * it. OpenSSL 3.0 EVP API only.
 *
 * cnca_ca.c     loading and checking the CA, serial numbers, issuing, verifying
 * cnca_ca_key.c key algorithms, key pair generation, PKCS#8 PEM in and out
 *
 * SM2 (GM/T 0003) certificates are signed with SM3 and the GM/T 0009 default
 * distinguishing ID "1234567812345678", set explicitly: OpenSSL 3.0 would
 * otherwise sign and verify with an empty ID. */
#ifndef CNCA_CA_H
#define CNCA_CA_H

#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_time.h>

#include <openssl/types.h>

/* GM/T 0009-2012 default signer ID, used for every SM2 signature we make or check */
#define CNCA_SM2_DISTID "1234567812345678"
#define CNCA_SM2_DISTID_LEN 16

/* Bounds of a certificate's validity (DESIGN.md: at most 825 days) */
#define CNCA_VALIDITY_DAYS_MIN 1
#define CNCA_VALIDITY_DAYS_MAX 825

/* ---- key algorithms and key pairs (cnca_ca_key.c) ---- */

typedef enum { CNCA_ALG_EC_P256, CNCA_ALG_SM2, CNCA_ALG_RSA2048, CNCA_ALG_RSA3072 } cnca_key_alg_t;

/* "ec-p256", "sm2", "rsa-2048", "rsa-3072" (as CNCAKeyAlgorithm takes them);
 * APR_EINVAL for anything else. */
apr_status_t cnca_key_alg_parse(cnca_key_alg_t *palg, const char *name);

/* The name cnca_key_alg_parse takes; NULL for a value outside the enum. */
const char *cnca_key_alg_name(cnca_key_alg_t alg);

/* Makes key pairs. Holds the EC P-256 and SM2 domain parameters, made once;
 * safe for concurrent use by many threads. The pool cleanup frees it. */
typedef struct cnca_keygen cnca_keygen_t;
apr_status_t cnca_keygen_create(cnca_keygen_t **pkg, apr_pool_t *p);

/* A fresh key pair: EC on P-256; key type "SM2" (not EC on the SM2 curve);
 * RSA of 2048 or 3072 bits with e = 65537. The pool cleanup frees it. */
apr_status_t cnca_keygen_generate(EVP_PKEY **pkey, cnca_keygen_t *kg, cnca_key_alg_t alg,
                                  apr_pool_t *p);

/* The private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") in p; the
 * text is wiped when p is destroyed. Never log it. public_bits: the key's
 * subjectPublicKey when the caller has it at hand (X509_get0_pubkey_bitstr
 * of its certificate), so an EC or SM2 point is not encoded again; or NULL. */
apr_status_t cnca_ca_key_pem(const char **ppem, EVP_PKEY *pkey, const ASN1_BIT_STRING *public_bits,
                             apr_pool_t *p);

/* Reads an unencrypted PEM private key (e.g. one cnca_ca_key_pem made);
 * the pool cleanup frees it. APR_EINVAL when pem is not one. */
apr_status_t cnca_ca_key_parse(EVP_PKEY **pkey, const char *pem, apr_pool_t *p);

/* Drains the calling thread's OpenSSL error queue into one line for a log
 * message ("no OpenSSL error" when it is empty). */
const char *cnca_ossl_errors(apr_pool_t *p);

/* ---- the CA (cnca_ca.c) ---- */

/* A loaded CA certificate + key; safe for concurrent use by many threads
 * once cnca_ca_load has returned. */
typedef struct cnca_ca cnca_ca_t;

/* Reads and checks the CA: cert_file holds a PEM certificate with
 * basicConstraints CA:TRUE and keyUsage keyCertSign, within its validity;
 * key_file an unencrypted PEM private key matching it, RSA (>= 2048 bits),
 * EC P-256 or SM2. On failure *perr is a one-line human reason naming the
 * file. The pool cleanup frees the OpenSSL objects. */
apr_status_t cnca_ca_load(cnca_ca_t **pca, apr_pool_t *p, const char *cert_file,
                          const char *key_file, const char **perr);

/* One line for the start-up log: subject, key type, signature and end of
 * validity of the CA certificate. */
const char *cnca_ca_describe(cnca_ca_t *ca);

/* A new serial number: 16 bytes from the CSPRNG with the top bit cleared,
 * never zero (positive, >= 64 random bits), as 32 uppercase hex digits. */
apr_status_t cnca_ca_new_serial(const char **pserial_hex, apr_pool_t *p);

/* Checks a certificate subject template (CNCACertSubject): comma-separated
 * RDNs "C=CN, ST=Shanghai, O=..., OU=..." with UTF-8 values; attributes
 * C, ST, L, O, OU, street, title (or their long names); "\," and "\\" escape
 * a comma and a backslash. CN is not allowed (it is the applicant's name).
 * NULL or empty is a valid, empty template. On failure *perr says why. */
apr_status_t cnca_ca_subject_check(const char *subject, apr_pool_t *p, const char **perr);

typedef struct {
    const char *subject;     /* template as cnca_ca_subject_check takes it; may be NULL/empty */
    const char *common_name; /* applicant's name, UTF-8, the last RDN: CN as UTF8String */
    const char *serial_hex;  /* from cnca_ca_new_serial: recorded by the caller before signing */
    int validity_days;       /* CNCA_VALIDITY_DAYS_MIN..CNCA_VALIDITY_DAYS_MAX */
    apr_time_t not_before;   /* usually now; 0 means now; sub-second part dropped */
    cnca_key_alg_t alg;      /* of the applicant's new key pair */
} cnca_issue_req_t;

typedef struct {
    const char *cert_pem;
    const char *key_pem; /* unencrypted PKCS#8 PEM: the caller seals it (cnca_seal) and never
                            logs it; wiped when the pool is destroyed */
    const char *serial_hex;
    apr_time_t not_before, not_after; /* not_after = not_before + days - 1 s: inclusive end */
    const char *algorithm;            /* cnca_key_alg_name */
} cnca_issued_t;

/* Generates the key pair and issues its X.509 v3 certificate: issuer = the
 * CA's subject; subject = req->subject's RDNs + CN; basicConstraints
 * critical CA:FALSE; keyUsage critical digitalSignature, nonRepudiation;
 * extendedKeyUsage clientAuth, emailProtection (never serverAuth);
 * subjectKeyIdentifier (SHA-1 of the public key); authorityKeyIdentifier
 * keyid. Signed with SHA-256 (RSA, EC CA) or SM3 with the distinguishing ID
 * (SM2 CA). APR_EINVAL for a bad request (logged: which field), and for a
 * certificate that would outlive the CA; APR_EGENERAL when OpenSSL fails. */
apr_status_t cnca_ca_issue(cnca_issued_t **pout, cnca_ca_t *ca, const cnca_issue_req_t *req,
                           apr_pool_t *p);

/* APR_SUCCESS when cert_pem is a certificate this CA signed (names, key
 * identifier and signature checked; SM2 with the distinguishing ID);
 * APR_EINVAL when it cannot be parsed, APR_EGENERAL when it is not ours. */
apr_status_t cnca_ca_verify(cnca_ca_t *ca, const char *cert_pem, apr_pool_t *p);

/* Start-up self check: issues a throw-away certificate as the service will
 * (a key of alg, validity_days) and verifies it and reads its key back; so a
 * CA that ends before such a certificate would is caught at start-up. On
 * failure *perr says why. (RSA-3072 key generation can take a second.) */
apr_status_t cnca_ca_self_check(cnca_ca_t *ca, cnca_key_alg_t alg, int validity_days, apr_pool_t *p,
                                const char **perr);

#endif
