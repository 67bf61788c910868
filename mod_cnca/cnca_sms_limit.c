#include <apr_strings.h>

#include "cnca_sms_limit.h"

/* The one row of an sms_stats_* answer: a select that failed, or answered
 * without its row, is an error. */
static apr_status_t one_row(const char ***prow, apr_status_t rv, apr_array_header_t *rows)
{
    *prow = NULL;
    if (rv == APR_SUCCESS && rows->nelts < 1) {
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        *prow = CNCA_DB_ROW(rows, 0);
    }
    return rv;
}

/* A count or a time of a stats row; SQL NULL (no sends) is 0. */
static apr_int64_t num(const char *v)
{
    return v ? apr_atoi64(v) : 0;
}

/* The number's day and hour in one select; the per-client count only when
 * there is a per-client cap (client_daily 0: off), and then at most up to
 * it. */
static apr_status_t stats_for(cnca_sms_stats_t *st, cnca_db_t *db, apr_pool_t *p,
                              const cnca_sms_limits_t *limits, const char *mobile_hash,
                              const char *client, apr_int64_t now)
{
    const char *hour = cnca_db_int(p, now - 3600), *day = cnca_db_int(p, now - 86400);
    apr_array_header_t *rows = NULL;
    const char **row;
    apr_status_t rv;

    rv = cnca_db_select(db, p, &rows, NULL, "sms_stats_mobile", 4, hour, hour, mobile_hash, day);
    if ((rv = one_row(&row, rv, rows)) != APR_SUCCESS) {
        return rv;
    }
    st->day_count = (int)num(row[0]);
    st->day_oldest = num(row[1]);
    st->last_at = num(row[2]);
    st->hour_count = (int)num(row[3]);
    st->hour_oldest = num(row[4]);
    if (limits->client_daily <= 0) {
        return APR_SUCCESS;
    }
    rv = cnca_db_select(db, p, &rows, NULL, "sms_stats_client", 3, client, day,
                        cnca_db_int(p, limits->client_daily));
    if ((rv = one_row(&row, rv, rows)) != APR_SUCCESS) {
        return rv;
    }
    st->client_count = (int)num(row[0]);
    st->client_oldest = num(row[1]);
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
    if ((rv = stats_for(&st, db, p, limits, mobile_hash, client, now)) != APR_SUCCESS) {
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
