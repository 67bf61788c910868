#include <stdlib.h>

#include <apr_strings.h>

#include "cnca_sms_limit.h"

/* Reads the one row of an sms_stats_* select (who: the mobile hash or the
 * client): how many sends since `since`, the oldest and (platest may be
 * NULL) the latest, 0 for none. An answer without its row is an error, as
 * a failed select is. */
static apr_status_t stats_row(int *pcount, apr_int64_t *poldest, apr_int64_t *platest,
                              cnca_db_t *db, apr_pool_t *p, const char *label, const char *who,
                              apr_int64_t since, int cap)
{
    apr_array_header_t *rows = NULL;
    const char **row;
    apr_status_t rv =
        cap > 0 ? cnca_db_select(db, p, &rows, NULL, label, 3, who, cnca_db_int(p, since),
                                 cnca_db_int(p, cap))
                : cnca_db_select(db, p, &rows, NULL, label, 2, who, cnca_db_int(p, since));

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts < 1) {
        return APR_EGENERAL;
    }
    row = CNCA_DB_ROW(rows, 0);
    *pcount = row[0] ? atoi(row[0]) : 0;
    *poldest = row[1] ? apr_atoi64(row[1]) : 0;
    if (platest) {
        *platest = row[2] ? apr_atoi64(row[2]) : 0;
    }
    return APR_SUCCESS;
}

/* The per-client count only when there is a per-client cap (client_daily
 * 0: off), and then at most up to it. */
static apr_status_t stats_for(cnca_sms_stats_t *st, cnca_db_t *db, apr_pool_t *p,
                              const cnca_sms_limits_t *limits, const char *mobile_hash,
                              const char *client, apr_int64_t now)
{
    apr_status_t rv;

    if ((rv = stats_row(&st->day_count, &st->day_oldest, &st->last_at, db, p, "sms_stats_mobile",
                        mobile_hash, now - 86400, 0)) != APR_SUCCESS ||
        (rv = stats_row(&st->hour_count, &st->hour_oldest, NULL, db, p, "sms_stats_mobile",
                        mobile_hash, now - 3600, 0)) != APR_SUCCESS) {
        return rv;
    }
    if (limits->client_daily <= 0) {
        return APR_SUCCESS;
    }
    return stats_row(&st->client_count, &st->client_oldest, NULL, db, p, "sms_stats_client", client,
                     now - 86400, limits->client_daily);
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
