/* What the database keeps of a holder: issuing a certificate (serial
 * recorded before signing; person + certificate + audit in one
 * transaction), the signature image, the verified mobile. */
#ifndef CNCA_ENROLL_H
#define CNCA_ENROLL_H

#include "cnca_audit.h"
#include "cnca_ca.h"
#include "cnca_crypto.h"
#include "cnca_db.h"

typedef struct {
    const cnca_key_t *key_id_enc;  /* seals the ID number */
    const cnca_key_t *key_private; /* seals the private key */
    cnca_ca_t *ca;
    cnca_key_alg_t alg;
    int validity_days;
    const char *subject;
} cnca_enroll_ctx_t;

typedef struct {
    const char *name, *id_number, *id_hash, *mobile;
} cnca_applicant_t;

typedef struct {
    apr_int64_t person_id;
    const char *serial;
    apr_time_t not_before, not_after;
    const char *algorithm;
} cnca_enrolled_t;

/* Issues a certificate for the applicant and stores person, certificate
 * and the audit row `audit` together (its person_id filled in, and its
 * detail prefixed with "serial=SERIAL").
 * APR_EEXIST: the person already has a certificate (nothing written; when
 * two issue for the same person at once, the loser's serial stays on
 * record, unused). Any other failure writes nothing but the serial's
 * record, when it got that far. */
apr_status_t cnca_enroll_issue(cnca_enrolled_t **pout, const cnca_enroll_ctx_t *ctx, cnca_db_t *db,
                               apr_pool_t *p, const cnca_applicant_t *who, cnca_audit_t *audit,
                               apr_int64_t now);

typedef struct {
    apr_int64_t id;
    const char *name, *mobile, *id_number, *id_hash;
    const char *serial, *algorithm, *status, *cert_pem;
    apr_int64_t not_before, not_after;
    int has_signature; /* a signature picture is kept */
} cnca_holder_t;

/* A holder with the ID number opened; APR_NOTFOUND when there is none with
 * a valid certificate. */
apr_status_t cnca_holder_load(cnca_holder_t **pholder, cnca_db_t *db, apr_pool_t *p,
                              const cnca_key_t *key_id_enc, apr_int64_t person_id);

/* Sets the verified mobile, with its audit row, in one transaction. */
apr_status_t cnca_holder_set_mobile(cnca_db_t *db, apr_pool_t *p, apr_int64_t person_id,
                                    const char *mobile, const cnca_audit_t *audit, apr_int64_t now);

/* Replaces the signature image (PNG), with its audit row, in one
 * transaction. */
apr_status_t cnca_signature_save(cnca_db_t *db, apr_pool_t *p, apr_int64_t person_id,
                                 const void *png, apr_size_t len, const char *source,
                                 const cnca_audit_t *audit, apr_int64_t now);

/* The PNG; APR_NOTFOUND when none was set. */
apr_status_t cnca_signature_load(const void **ppng, apr_size_t *plen, cnca_db_t *db, apr_pool_t *p,
                                 apr_int64_t person_id);

#endif
