#include <stdlib.h>

#include <apr_strings.h>

#include "cnca_sms_limit.h"

static apr_status_t stats_for(cnca_sms_stats_t *st, cnca_db_t *db, apr_pool_t *p,
                              const char *mobile_hash, const char *client, apr_int64_t now)
{
    apr_array_header_t *rows;
    const char **row;
    apr_status_t rv;

    rv = cnca_db_select(db, p, &rows, NULL, "sms_stats_mobile", 2, mobile_hash,
                        cnca_db_int(p, now - 86400));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    row = CNCA_DB_ROW(rows, 0);
    st->day_count = row[0] ? atoi(row[0]) : 0;
    st->day_oldest = row[1] ? apr_atoi64(row[1]) : 0;
    st->last_at = row[2] ? apr_atoi64(row[2]) : 0;

    rv = cnca_db_select(db, p, &rows, NULL, "sms_stats_mobile", 2, mobile_hash,
                        cnca_db_int(p, now - 3600));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    row = CNCA_DB_ROW(rows, 0);
    st->hour_count = row[0] ? atoi(row[0]) : 0;
    st->hour_oldest = row[1] ? apr_atoi64(row[1]) : 0;

    rv = cnca_db_select(db, p, &rows, NULL, "sms_stats_client", 2, client,
                        cnca_db_int(p, now - 86400));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    row = CNCA_DB_ROW(rows, 0);
    st->client_count = row[0] ? atoi(row[0]) : 0;
    st->client_oldest = row[1] ? apr_atoi64(row[1]) : 0;
    return APR_SUCCESS;
}

apr_status_t cnca_sms_reserve(int *pwait, const char **preason, cnca_db_t *db, apr_pool_t *p,
                              const cnca_sms_limits_t *limits, const char *mobile_hash,
                              const char *client, apr_int64_t now)
{
    cnca_sms_stats_t st = {0};
    apr_status_t rv;
    int n;

    *pwait = 0;
    *preason = NULL;
    if ((rv = cnca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = stats_for(&st, db, p, mobile_hash, client, now)) != APR_SUCCESS) {
        goto leave;
    }
    if ((*pwait = cnca_sms_limit_wait(limits, &st, now, preason)) > 0) {
        goto leave;
    }
    if ((rv = cnca_db_exec(db, p, &n, "sms_insert", 3, cnca_db_int(p, now), mobile_hash, client)) !=
        APR_SUCCESS) {
        goto leave;
    }
    rv = cnca_db_commit(db, p);
leave:
    if (rv != APR_SUCCESS || *pwait > 0) {
        cnca_db_rollback(db, p);
    }
    return rv;
}
