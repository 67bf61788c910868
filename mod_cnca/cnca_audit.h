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

/* One row, in the transaction of db when one is open. */
apr_status_t cnca_audit_write(cnca_db_t *db, apr_pool_t *p, const cnca_audit_t *a);

/* Group commit for rows outside a transaction (cnca_audit_queue.c): one
 * queue per process (and database). A row waits while another thread of
 * the process writes; the next thread to find the queue idle writes every
 * row queued by then in one transaction on its own connection. Returns
 * once the row is committed (or has failed). A row queued is gone when its
 * writer returns, so the caller's strings only have to outlive the call.
 * With q NULL, or db in a transaction: as cnca_audit_write (the row is the
 * transaction's). */
typedef struct cnca_audit_queue cnca_audit_queue_t;

apr_status_t cnca_audit_queue_create(cnca_audit_queue_t **pq, apr_pool_t *p);
apr_status_t cnca_audit_queue_write(cnca_audit_queue_t *q, cnca_db_t *db, apr_pool_t *p,
                                    const cnca_audit_t *a);

#endif
