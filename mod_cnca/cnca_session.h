/* A session: what one browser has proven so far. Kept in memcached as one
 * AES-256-GCM sealed JSON document (nothing in the clear there), keyed by a
 * hash of the 128-bit random id that only the cookie carries. */
#ifndef CNCA_SESSION_H
#define CNCA_SESSION_H

#include <stdint.h>

#include <apr_pools.h>
#include <apr_time.h>

#include "cnca_crypto.h"
#include "cnca_store.h"

/* the flows of the manual */
#define CNCA_FLOW_APPLY "apply"
#define CNCA_FLOW_LOGIN "login"
#define CNCA_FLOW_CHANGE_MOBILE "change-mobile"

typedef struct cnca_session {
    const char *id; /* 32 hex chars: the cookie value */
    const char *csrf;
    apr_int64_t created; /* seconds since the epoch */
    apr_int64_t touched;

    apr_int64_t person_id; /* > 0 when logged in */
    apr_int64_t login_at;  /* microseconds since the epoch */

    /* the flow in progress and the identity it is for */
    const char *flow;
    const char *name;
    const char *id_number;
    const char *mobile; /* the flow's mobile: to be proven */

    /* image captcha: keyed hash of the answer */
    const char *captcha_hash;
    apr_int64_t captcha_exp;

    /* SMS code: keyed hash bound to session and mobile */
    const char *sms_hash;
    const char *sms_mobile;
    apr_int64_t sms_exp;
    int sms_tries;

    /* proofs, each bound to the mobile it proved (name and id are the flow's) */
    const char *proof_sms_mobile;
    const char *proof_carrier_mobile;
    const char *proof_bank_mobile;
    const char *face_token;
    apr_int64_t face_started;
    apr_int64_t proof_face_at;
    const char *face_status; /* "pass" | "fail" | NULL, for the pages */
    const char *face_message;

    /* a confirm in progress (two parallel confirms: one issues) */
    apr_int64_t busy_until;
    /* the certificate was issued in this session: the signature step leads
     * to the terms notice */
    int just_enrolled;

    /* bookkeeping, not stored */
    uint64_t cas;
    const char *written; /* the document this request last wrote (its CAS is
                          * learnt on the next save) */
    int is_new;
    int dirty;     /* changed by a step: must be written */
    int touch_due; /* only the idle timer wants refreshing */
} cnca_session_t;

typedef struct {
    cnca_store_t *store;
    const cnca_key_t *key; /* sealing key for session documents */
    int idle_timeout;      /* seconds */
    int max_age;           /* seconds since creation */
} cnca_session_ctx_t;

/* A fresh session with new id and CSRF token (not stored yet). */
apr_status_t cnca_session_create(cnca_session_t **psess, apr_pool_t *p, apr_int64_t now);

/* Loads a session by cookie id: APR_SUCCESS, APR_NOTFOUND (unknown, expired
 * or malformed id), or APR_EGENERAL (memcached failed: never "no session"). */
apr_status_t cnca_session_load(cnca_session_t **psess, const cnca_session_ctx_t *ctx, apr_pool_t *p,
                               const char *id, apr_int64_t now);

/* Writes the session (add when new, else compare-and-swap against the
 * version that was loaded): APR_EEXIST when another request changed it
 * meanwhile. */
apr_status_t cnca_session_save(cnca_session_t *sess, const cnca_session_ctx_t *ctx, apr_pool_t *p,
                               apr_int64_t now);

/* Gives the session a new id (and CSRF token), removing the old one. */
apr_status_t cnca_session_rotate(cnca_session_t *sess, const cnca_session_ctx_t *ctx, apr_pool_t *p,
                                 apr_int64_t now);

apr_status_t cnca_session_destroy(cnca_session_t *sess, const cnca_session_ctx_t *ctx,
                                  apr_pool_t *p);

/* Ends every session of a person logged in before now (a phone change):
 * sessions compare their login time with this mark when they load. */
apr_status_t cnca_session_end_person(const cnca_session_ctx_t *ctx, apr_pool_t *p,
                                     apr_int64_t person_id, apr_time_t now);

/* APR_SUCCESS when sess's login still stands, APR_NOTFOUND when a later
 * cnca_session_end_person ended it, APR_EGENERAL when memcached fails. */
apr_status_t cnca_session_login_valid(const cnca_session_t *sess, const cnca_session_ctx_t *ctx,
                                      apr_pool_t *p);

/* Serialisation, exposed for the unit tests. */
apr_status_t cnca_session_encode(const char **psealed, const cnca_session_t *sess,
                                 const cnca_key_t *key, apr_pool_t *p);
apr_status_t cnca_session_decode(cnca_session_t **psess, const char *sealed, const char *id,
                                 const cnca_key_t *key, apr_pool_t *p);

/* True when id has the shape of a session id (32 lowercase hex). */
int cnca_session_id_valid(const char *id);

#endif
