/* The applicant-facing error codes of API.md: HTTP status and the message the
 * page shows (manual 6.7 where it has one). */
#ifndef CNCA_ERRORS_H
#define CNCA_ERRORS_H

#include <apr_pools.h>

typedef struct {
    const char *code;
    int status;
    const char *message; /* may hold HOTLINE, replaced by the configured hotline */
} cnca_error_t;

/* The entry for code, or NULL for an unknown code. */
const cnca_error_t *cnca_error_find(const char *code);

/* The message for code with HOTLINE filled in (and REASON, for
 * verify_failed). Unknown codes give a generic message. */
const char *cnca_error_message(apr_pool_t *p, const char *code, const char *hotline,
                               const char *reason);

/* The whole table, ending with a NULL code (for README checks and tests). */
extern const cnca_error_t cnca_errors[];

#endif
