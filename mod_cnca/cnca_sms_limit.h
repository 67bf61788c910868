/* SMS sending limits kept in the database: a send is counted before the
 * gateway is asked, under the write lock, so parallel requests cannot both
 * slip under a limit and a memcached restart resets nothing. */
#ifndef CNCA_SMS_LIMIT_H
#define CNCA_SMS_LIMIT_H

#include "cnca_db.h"
#include "cnca_otp.h"

/* APR_SUCCESS with *pwait 0: the send is recorded and may go out.
 * APR_SUCCESS with *pwait > 0: refused for *pwait seconds (*preason says by
 * which limit). Anything else: the database failed (refuse too). */
apr_status_t cnca_sms_reserve(int *pwait, const char **preason, cnca_db_t *db, apr_pool_t *p,
                              const cnca_sms_limits_t *limits, const char *mobile_hash,
                              const char *client, apr_int64_t now);

#endif
