/* Durable state through APR DBD: one connection as mod_dbd hands it out (or
 * as a unit test opens it), with statements prepared once by label. The
 * SQL stays portable between sqlite3 and pgsql. */
#ifndef CNCA_DB_H
#define CNCA_DB_H

#include <apr_dbd.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_pools.h>

/* A lock that makes this server's writers take turns before they reach the
 * database (SQLite: see cnca_db_begin). acquire blocks until it is held. */
typedef struct {
    apr_status_t (*acquire)(void *baton);
    void (*release)(void *baton);
    void *baton;
} cnca_db_lock_t;

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;       /* label -> apr_dbd_prepared_t * */
    const cnca_db_lock_t *lock; /* NULL: none (PostgreSQL, unit tests) */
    int in_txn;                 /* between cnca_db_begin and commit/rollback */
} cnca_db_t;

typedef struct {
    const char *label;
    const char *sql;
} cnca_db_stmt_t;

/* Every statement the module uses, ending with a NULL label. The glue hands
 * them to mod_dbd (ap_dbd_prepare) at start-up. */
extern const cnca_db_stmt_t cnca_db_statements[];

/* Runs a prepared write; *pnrows (may be NULL) gets the rows changed.
 * nargs arguments follow, each a string or NULL for SQL NULL (APR DBD).
 * Outside a transaction it holds db->lock while it runs. */
apr_status_t cnca_db_exec(cnca_db_t *db, apr_pool_t *p, int *pnrows, const char *label, int nargs,
                          ...);

/* Runs a prepared select and returns all rows as arrays of strings
 * (NULL for SQL NULL): rows is an array of (const char **). */
apr_status_t cnca_db_select(cnca_db_t *db, apr_pool_t *p, apr_array_header_t **prows, int *pncols,
                            const char *label, int nargs, ...);

/* The first row of a select, or NULL when there is none. */
#define CNCA_DB_ROW(rows, i) (APR_ARRAY_IDX((rows), (i), const char **))

/* Transactions that take the write lock up front. SQLite: db->lock first
 * (held until commit or rollback), then BEGIN IMMEDIATE; the lock keeps
 * this server's writers from ever meeting SQLITE_BUSY, which APR's driver
 * answers with 100 ms sleeps. PostgreSQL: BEGIN and a transaction-scoped
 * advisory lock, so writers take turns across all servers. Commit releases
 * the transaction whether it succeeds or not (a failed COMMIT is rolled
 * back); rollback outside a transaction does nothing. */
apr_status_t cnca_db_begin(cnca_db_t *db, apr_pool_t *p);
apr_status_t cnca_db_commit(cnca_db_t *db, apr_pool_t *p);
void cnca_db_rollback(cnca_db_t *db, apr_pool_t *p);

/* The driver's last error text for a log line. */
const char *cnca_db_error(cnca_db_t *db, int rv);

/* Decimal string of a 64-bit integer, for statement arguments. */
const char *cnca_db_int(apr_pool_t *p, apr_int64_t v);

#endif
