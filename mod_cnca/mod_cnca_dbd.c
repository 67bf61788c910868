/* The database through mod_dbd: statements prepared once at start-up, a
 * connection acquired per request (httpd's mod_session_dbd does the same),
 * and the write lock that makes this server's SQLite writers take turns
 * (the `Mutex cnca-db` of httpd's Mutex directive). */
#include "mod_cnca.h"
#include "mod_cnca_db_lock.h"

#include <apr_global_mutex.h>
#include <apr_optional.h>
#include <http_log.h>
#include <mod_dbd.h>
#include <string.h>
#include <util_mutex.h>

#define MUTEX_TYPE "cnca-db"

static apr_global_mutex_t *write_mutex;

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) * dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;

static void retrieve_fns(void)
{
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
}

/* Blocking: writers of every child queue here instead of in SQLite, whose
 * busy answer APR's driver turns into 100 ms sleeps. It is held for a
 * transaction or a single write (about 0.1 ms); audit rows, most of the
 * writes, come through the group commit of cnca_audit_queue.c. A writer
 * that waits LOCK_WAIT_MAX (the database stalls) gives up: its request
 * fails with the database's message instead of hanging. */
#define LOCK_WAIT_MAX apr_time_from_sec(10)

/* Also offered to mod_cnca_sandbox (mod_cnca_db_lock.h). */
static apr_status_t cnca_db_write_lock(int acquire)
{
    apr_status_t rv;

    if (!write_mutex) {
        return APR_ENOTIMPL;
    }
    if (!acquire) {
        return apr_global_mutex_unlock(write_mutex);
    }
    rv = apr_global_mutex_timedlock(write_mutex, LOCK_WAIT_MAX);
    return rv == APR_ENOTIMPL ? apr_global_mutex_lock(write_mutex) : rv;
}

static apr_status_t lock_acquire(void *baton)
{
    (void)baton;
    return cnca_db_write_lock(1);
}

static void lock_release(void *baton)
{
    (void)baton;
    cnca_db_write_lock(0);
}

static const cnca_db_lock_t sqlite_lock = {lock_acquire, lock_release, NULL};

static int dbd_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    write_mutex = NULL;
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK
               : HTTP_INTERNAL_SERVER_ERROR;
}

void cnca_dbd_register(void)
{
    ap_hook_optional_fn_retrieve(retrieve_fns, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(dbd_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(cnca_db_write_lock);
}

int cnca_dbd_mutex_create(server_rec *s, apr_pool_t *pconf)
{
    apr_status_t rv = ap_global_mutex_create(&write_mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "CNCA00013: cannot create the database write lock (Mutex " MUTEX_TYPE ")");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void cnca_dbd_mutex_child_init(server_rec *s, apr_pool_t *pchild)
{
    apr_status_t rv;

    if (!write_mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&write_mutex, apr_global_mutex_lockfile(write_mutex), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "CNCA00014: cannot attach the database write lock in this child");
    }
}

int cnca_dbd_prepare_all(server_rec *s, apr_pool_t *ptemp)
{
    const cnca_db_stmt_t *st;
    (void)ptemp;

    retrieve_fns();
    if (!dbd_prepare || !dbd_acquire) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CNCA00010: mod_dbd is not loaded: LoadModule dbd_module and set "
                     "DBDriver/DBDParams");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (st = cnca_db_statements; st->label; ++st) {
        dbd_prepare(s, st->sql, st->label);
    }
    return OK;
}

apr_status_t cnca_api_db(cnca_db_t **pdb, cnca_api_t *api)
{
    ap_dbd_t *dbd;

    if (api->db) {
        *pdb = api->db;
        return APR_SUCCESS;
    }
    *pdb = NULL;
    if (!dbd_acquire || !(dbd = dbd_acquire(api->r))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, api->r,
                      "CNCA00011: no database connection (see mod_dbd's messages)");
        return APR_EGENERAL;
    }
    api->db = apr_palloc(api->r->pool, sizeof(*api->db));
    api->db->driver = dbd->driver;
    api->db->handle = dbd->handle;
    api->db->prepared = dbd->prepared;
    api->db->lock = strcmp(apr_dbd_name(dbd->driver), "sqlite3") ? NULL : &sqlite_lock;
    api->db->in_txn = 0;
    *pdb = api->db;
    return APR_SUCCESS;
}
