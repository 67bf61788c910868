#include <string.h>

#include <apr_encode.h>
#include <apr_strings.h>

#include "cnca_enroll.h"
#include "cnca_log.h"
#include "cnca_person.h"

static const char *id_aad(apr_pool_t *p, const char *id_hash)
{
    return apr_pstrcat(p, "id:", id_hash, NULL);
}

static const char *key_aad(apr_pool_t *p, const char *serial)
{
    return apr_pstrcat(p, "key:", serial, NULL);
}

/* Person + certificate + audit, all or nothing. */
static apr_status_t store_issued(cnca_db_t *db, apr_pool_t *p, const cnca_applicant_t *who,
                                 const char *id_enc, const cnca_issued_t *cert, const char *key_enc,
                                 cnca_audit_t *audit, apr_int64_t now, apr_int64_t *pperson_id)
{
    apr_array_header_t *rows;
    const char *snow = cnca_db_int(p, now);
    apr_int64_t person_id = 0;
    apr_status_t rv;
    int n;

    if ((rv = cnca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = cnca_db_select(db, p, &rows, NULL, "person_by_id_hash", 1, who->id_hash)) !=
        APR_SUCCESS) {
        goto leave;
    }
    if (rows->nelts > 0) {
        const char **row = CNCA_DB_ROW(rows, 0);
        if (row[3]) {
            rv = APR_EEXIST; /* issued meanwhile (another session) */
            goto leave;
        }
        person_id = apr_atoi64(row[0]);
        /* a holder again (after a revocation): the new certificate's name
         * and mobile are the record's */
        rv = cnca_db_exec(db, p, &n, "person_update", 4, who->name, who->mobile, snow,
                          cnca_db_int(p, person_id));
    } else {
        rv = cnca_db_exec(db, p, &n, "person_insert", 6, who->id_hash, id_enc, who->name,
                          who->mobile, snow, snow);
        if (rv == APR_SUCCESS && (rv = cnca_db_select(db, p, &rows, NULL, "person_by_id_hash", 1,
                                                      who->id_hash)) == APR_SUCCESS) {
            person_id = rows->nelts ? apr_atoi64(CNCA_DB_ROW(rows, 0)[0]) : 0;
        }
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (person_id <= 0) {
        rv = APR_EGENERAL;
        goto leave;
    }
    rv = cnca_db_exec(db, p, &n, "cert_insert", 8, cnca_db_int(p, person_id), cert->serial_hex,
                      cert->algorithm, cnca_db_int(p, apr_time_sec(cert->not_before)),
                      cnca_db_int(p, apr_time_sec(cert->not_after)), cert->cert_pem, key_enc, snow);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    audit->person_id = person_id;
    audit->detail = audit->detail
                        ? apr_pstrcat(p, "serial=", cert->serial_hex, " ", audit->detail, NULL)
                        : apr_pstrcat(p, "serial=", cert->serial_hex, NULL);
    if ((rv = cnca_audit_write(db, p, audit)) != APR_SUCCESS) {
        goto leave;
    }
    rv = cnca_db_commit(db, p);
leave:
    if (rv != APR_SUCCESS) {
        cnca_db_rollback(db, p);
    } else {
        *pperson_id = person_id;
    }
    return rv;
}

apr_status_t cnca_enroll_issue(cnca_enrolled_t **pout, const cnca_enroll_ctx_t *ctx, cnca_db_t *db,
                               apr_pool_t *p, const cnca_applicant_t *who, cnca_audit_t *audit,
                               apr_int64_t now)
{
    cnca_issue_req_t req;
    cnca_issued_t *cert = NULL;
    cnca_person_t *person = NULL;
    cnca_enrolled_t *out;
    const char *serial = NULL, *id_enc, *key_enc;
    apr_int64_t person_id = 0;
    apr_status_t rv;
    int n;

    *pout = NULL;
    /* a holder gets no second certificate: known before any key is made or
     * serial recorded (store_issued checks again, for two at once) */
    rv = cnca_person_find(&person, db, p, who->id_hash);
    if (rv == APR_SUCCESS && person->serial) {
        return APR_EEXIST;
    }
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        return rv;
    }
    if ((rv = cnca_ca_new_serial(&serial, p)) != APR_SUCCESS) {
        goto leave;
    }
    /* the serial is on record before anything is signed with it */
    rv = cnca_db_exec(db, p, &n, "serial_insert", 4, serial, who->id_hash,
                      cnca_key_alg_name(ctx->alg), cnca_db_int(p, now));
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    memset(&req, 0, sizeof(req));
    req.subject = ctx->subject;
    req.common_name = who->name;
    req.serial_hex = serial;
    req.validity_days = ctx->validity_days;
    req.not_before = apr_time_from_sec(now);
    req.alg = ctx->alg;
    if ((rv = cnca_ca_issue(&cert, ctx->ca, &req, p)) != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv, "CNCA00141: issuing certificate %s failed",
                        serial);
        goto leave;
    }
    if ((rv = cnca_seal(&key_enc, p, ctx->key_private, key_aad(p, serial), cert->key_pem,
                        strlen(cert->key_pem))) != APR_SUCCESS ||
        (rv = cnca_seal(&id_enc, p, ctx->key_id_enc, id_aad(p, who->id_hash), who->id_number,
                        strlen(who->id_number))) != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00144: sealing the key of certificate %s failed", serial);
        goto leave;
    }
    rv = store_issued(db, p, who, id_enc, cert, key_enc, audit, now, &person_id);
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00142: storing certificate %s failed; nothing was kept", serial);
    }
leave:
    if (rv == APR_SUCCESS) {
        out = apr_pcalloc(p, sizeof(*out));
        out->person_id = person_id;
        out->serial = cert->serial_hex;
        out->not_before = cert->not_before;
        out->not_after = cert->not_after;
        out->algorithm = cert->algorithm;
        *pout = out;
    }
    return rv;
}

apr_status_t cnca_holder_load(cnca_holder_t **pholder, cnca_db_t *db, apr_pool_t *p,
                              const cnca_key_t *key_id_enc, apr_int64_t person_id)
{
    apr_array_header_t *rows;
    const char **row;
    cnca_holder_t *h;
    unsigned char *idn;
    apr_size_t len;
    apr_status_t rv;

    *pholder = NULL;
    rv = cnca_db_select(db, p, &rows, NULL, "holder_by_id", 1, cnca_db_int(p, person_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        return APR_NOTFOUND;
    }
    row = CNCA_DB_ROW(rows, 0);
    h = apr_pcalloc(p, sizeof(*h));
    h->id = person_id;
    h->name = row[0];
    h->mobile = row[1];
    h->id_hash = row[3];
    if ((rv = cnca_open(&idn, &len, p, key_id_enc, id_aad(p, h->id_hash), row[2])) != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00143: the ID number of person %" APR_INT64_T_FMT
                        " does not open (wrong master key?)",
                        person_id);
        return APR_EGENERAL;
    }
    h->id_number = (const char *)idn;
    if (!row[4]) {
        return APR_NOTFOUND; /* no valid certificate */
    }
    h->serial = row[4];
    h->algorithm = row[5];
    h->not_before = apr_atoi64(row[6]);
    h->not_after = apr_atoi64(row[7]);
    h->status = row[8];
    h->cert_pem = row[9];
    h->has_signature = row[10] && apr_atoi64(row[10]) > 0;
    *pholder = h;
    return APR_SUCCESS;
}

/* One write and its audit row in one transaction. */
static apr_status_t write_with_audit(cnca_db_t *db, apr_pool_t *p, const cnca_audit_t *audit,
                                     const char *label, int nargs, const char *a1, const char *a2,
                                     const char *a3, const char *a4)
{
    apr_status_t rv;
    int n = 0;

    if ((rv = cnca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = cnca_db_exec(db, p, &n, label, nargs, a1, a2, a3, a4);
    if (rv == APR_SUCCESS && n != 1) {
        rv = APR_NOTFOUND;
    }
    if (rv == APR_SUCCESS) {
        rv = cnca_audit_write(db, p, audit);
    }
    if (rv == APR_SUCCESS) {
        rv = cnca_db_commit(db, p);
    }
    if (rv != APR_SUCCESS) {
        cnca_db_rollback(db, p);
    }
    return rv;
}

apr_status_t cnca_holder_set_mobile(cnca_db_t *db, apr_pool_t *p, apr_int64_t person_id,
                                    const char *mobile, const cnca_audit_t *audit, apr_int64_t now)
{
    return write_with_audit(db, p, audit, "person_update_mobile", 3, mobile, cnca_db_int(p, now),
                            cnca_db_int(p, person_id), NULL);
}

apr_status_t cnca_signature_save(cnca_db_t *db, apr_pool_t *p, apr_int64_t person_id,
                                 const void *png, apr_size_t len, const char *source,
                                 const cnca_audit_t *audit, apr_int64_t now)
{
    const char *b64 = apr_pencode_base64_binary(p, png, len, APR_ENCODE_NONE, NULL);
    if (!b64) {
        return APR_ENOMEM;
    }
    return write_with_audit(db, p, audit, "signature_upsert", 4, cnca_db_int(p, person_id), b64,
                            source, cnca_db_int(p, now));
}

apr_status_t cnca_signature_load(const void **ppng, apr_size_t *plen, cnca_db_t *db, apr_pool_t *p,
                                 apr_int64_t person_id)
{
    apr_array_header_t *rows;
    const unsigned char *png;
    apr_size_t len = 0;
    apr_status_t rv;

    *ppng = NULL;
    *plen = 0;
    rv = cnca_db_select(db, p, &rows, NULL, "signature_get", 1, cnca_db_int(p, person_id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0 || !CNCA_DB_ROW(rows, 0)[0]) {
        return APR_NOTFOUND;
    }
    png = apr_pdecode_base64_binary(p, CNCA_DB_ROW(rows, 0)[0], APR_ENCODE_STRING, APR_ENCODE_NONE,
                                    &len);
    if (!png) {
        return APR_EGENERAL;
    }
    *ppng = png;
    *plen = len;
    return APR_SUCCESS;
}
