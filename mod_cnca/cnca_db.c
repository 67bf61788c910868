#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "cnca_db.h"
#include "cnca_log.h"

const char *cnca_db_int(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

const char *cnca_db_error(cnca_db_t *db, int rv)
{
    const char *msg = apr_dbd_error(db->driver, db->handle, rv);
    return msg ? msg : "(no message)";
}

#define MAX_ARGS 16

static apr_status_t lock(cnca_db_t *db)
{
    apr_status_t rv = db->lock ? db->lock->acquire(db->lock->baton) : APR_SUCCESS;

    if (rv != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00136: cannot take the database write lock");
    }
    return rv;
}

static void unlock(cnca_db_t *db)
{
    if (db->lock) {
        db->lock->release(db->lock->baton);
    }
}

/* The prepared statement of label (APR_EGENERAL, logged, when there is
 * none) and its nargs string arguments from ap in args (APR_EINVAL when
 * there are more than MAX_ARGS). */
static apr_status_t statement(apr_dbd_prepared_t **pst, const char **args, cnca_db_t *db,
                              const char *label, int nargs, va_list ap)
{
    int i;

    *pst = db->prepared ? apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING) : NULL;
    if (!*pst) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00131: no prepared statement '%s' (is mod_dbd configured?)", label);
        return APR_EGENERAL;
    }
    if (nargs < 0 || nargs > MAX_ARGS) {
        return APR_EINVAL;
    }
    for (i = 0; i < nargs; ++i) {
        args[i] = va_arg(ap, const char *);
    }
    return APR_SUCCESS;
}

apr_status_t cnca_db_exec(cnca_db_t *db, apr_pool_t *p, int *pnrows, const char *label, int nargs,
                          ...)
{
    const char *args[MAX_ARGS];
    apr_dbd_prepared_t *st;
    apr_status_t rv;
    va_list ap;
    int nrows = 0, rc;

    if (pnrows) {
        *pnrows = 0;
    }
    va_start(ap, nargs);
    rv = statement(&st, args, db, label, nargs, ap);
    va_end(ap);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!db->in_txn && (rv = lock(db)) != APR_SUCCESS) {
        return rv;
    }
    rc = apr_dbd_pquery(db->driver, p, db->handle, &nrows, st, nargs, args);
    if (!db->in_txn) {
        unlock(db);
    }
    if (rc != 0) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00132: database statement '%s' failed: %s", label,
                        cnca_db_error(db, rc));
        return APR_EGENERAL;
    }
    if (pnrows) {
        *pnrows = nrows;
    }
    return APR_SUCCESS;
}

apr_status_t cnca_db_select(cnca_db_t *db, apr_pool_t *p, apr_array_header_t **prows, int *pncols,
                            const char *label, int nargs, ...)
{
    const char *args[MAX_ARGS];
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *rows;
    apr_status_t rv;
    va_list ap;
    int rc, ncols, i;

    *prows = NULL;
    if (pncols) {
        *pncols = 0;
    }
    va_start(ap, nargs);
    rv = statement(&st, args, db, label, nargs, ap);
    va_end(ap);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* random access: the pgsql driver then runs the statement at once, so a
     * failure is an error (not "no rows"), the column count is known before
     * the first row, and an empty answer costs no 100 ms poll; SQLite reads
     * all rows either way */
    rc = apr_dbd_pselect(db->driver, p, db->handle, &res, st, 1, nargs, args);
    if (rc != 0) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00133: database query '%s' failed: %s", label, cnca_db_error(db, rc));
        return APR_EGENERAL;
    }
    ncols = apr_dbd_num_cols(db->driver, res);
    rows = apr_array_make(p, 4, sizeof(const char **));
    while ((rc = apr_dbd_get_row(db->driver, p, res, &row, -1)) == 0) {
        const char **vals = apr_pcalloc(p, sizeof(char *) * (ncols + 1));
        /* SQL NULL is NULL: the pgsql driver's apr_dbd_get_entry gives ""
         * there; apr_dbd_datum_get says APR_ENOENT on both drivers */
        for (i = 0; i < ncols; ++i) {
            const char *v = NULL;
            if (apr_dbd_datum_get(db->driver, row, i, APR_DBD_TYPE_STRING, &v) != APR_ENOENT) {
                v = apr_dbd_get_entry(db->driver, row, i);
            }
            vals[i] = v ? apr_pstrdup(p, v) : NULL;
        }
        APR_ARRAY_PUSH(rows, const char **) = vals;
    }
    if (rc != -1) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00134: reading rows of '%s' failed: %s", label, cnca_db_error(db, rc));
        return APR_EGENERAL;
    }
    *prows = rows;
    if (pncols) {
        *pncols = ncols;
    }
    return APR_SUCCESS;
}

static apr_status_t raw(cnca_db_t *db, const char *sql)
{
    int nrows = 0;
    int rc = apr_dbd_query(db->driver, db->handle, &nrows, sql);
    if (rc != 0) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00135: database '%s' failed: %s", sql, cnca_db_error(db, rc));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* PostgreSQL's BEGIN takes no lock: a transaction-scoped advisory lock
 * (key 'cnca', 1) makes the module's write transactions take turns, as
 * SQLite's BEGIN IMMEDIATE does, so check-then-write (SMS limits, one
 * certificate per person) stays free of races across httpd children and
 * servers. The transactions are short; nothing slow runs inside them. */
#define PGSQL_BEGIN "BEGIN; SELECT pg_advisory_xact_lock(1668178785, 1)"

apr_status_t cnca_db_begin(cnca_db_t *db, apr_pool_t *p)
{
    const char *driver = apr_dbd_name(db->driver);
    apr_status_t rv;

    (void)p;
    if (db->in_txn) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00137: a transaction is already open on this connection");
        return APR_EGENERAL;
    }
    if ((rv = lock(db)) != APR_SUCCESS) {
        return rv;
    }
    if (!strcmp(driver, "sqlite3")) {
        rv = raw(db, "BEGIN IMMEDIATE");
    } else if (strcmp(driver, "pgsql")) {
        rv = raw(db, "BEGIN");
    } else if ((rv = raw(db, PGSQL_BEGIN)) != APR_SUCCESS) {
        raw(db, "ROLLBACK"); /* never leave a pooled connection in a transaction */
    }
    if (rv != APR_SUCCESS) {
        unlock(db);
        return rv;
    }
    db->in_txn = 1;
    return APR_SUCCESS;
}

apr_status_t cnca_db_commit(cnca_db_t *db, apr_pool_t *p)
{
    apr_status_t rv;

    (void)p;
    if (!db->in_txn) {
        return APR_EGENERAL;
    }
    if ((rv = raw(db, "COMMIT")) != APR_SUCCESS) {
        raw(db, "ROLLBACK");
    }
    db->in_txn = 0;
    unlock(db);
    return rv;
}

void cnca_db_rollback(cnca_db_t *db, apr_pool_t *p)
{
    (void)p;
    if (!db->in_txn) {
        return;
    }
    raw(db, "ROLLBACK");
    db->in_txn = 0;
    unlock(db);
}
