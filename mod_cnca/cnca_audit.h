/* The audit trail: who was verified, how, from where, with what outcome.
 * Never a full ID number, mobile, code or secret: subject is the keyed ID
 * hash, detail holds masked values and reason codes only. */
#ifndef CNCA_AUDIT_H
#define CNCA_AUDIT_H

#include "cnca_db.h"

typedef struct {
    apr_int64_t at;
    const char *client;    /* client address */
    const char *event;     /* "session.create", "apply", "sms.send", ... */
    const char *outcome;   /* "ok", "refused", "fail", "error", ... */
    apr_int64_t person_id; /* 0: none */
    const char *subject;   /* keyed ID hash, or NULL */
    const char *detail;    /* short text, masked values only */
} cnca_audit_t;

apr_status_t cnca_audit_write(cnca_db_t *db, apr_pool_t *p, const cnca_audit_t *a);

#endif
