/* The sandbox's tables (sql/sandbox.sqlite.sql) through mod_dbd: statements
 * prepared once by label, a connection per request (ap_dbd_acquire). */
#include "mod_cnca_sandbox.h"
#include "mod_cnca_db_lock.h"

#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <mod_dbd.h>
#include <string.h>

#define ST_PERSON "cnca_sandbox_person"
#define ST_SMS_ADD "cnca_sandbox_sms_add"
#define ST_SMS_MOBILE "cnca_sandbox_sms_mobile"
#define ST_SMS_ALL "cnca_sandbox_sms_all"
#define ST_FACE_ADD "cnca_sandbox_face_add"
#define ST_FACE_FIND "cnca_sandbox_face_find"
#define ST_FACE_SET "cnca_sandbox_face_set"

#define SMS_COLUMNS "SELECT id, mobile, text, at FROM sandbox_sms "
#define SMS_ORDER "ORDER BY id DESC LIMIT " APR_STRINGIFY(SANDBOX_SMS_LIMIT)

static const struct {
    const char *label, *sql;
} statements[] = {
    {ST_PERSON, "SELECT behaviour, reason_code, reason_text FROM sandbox_person "
                "WHERE subject = %s AND (check_type = %s OR check_type = '*') "
                "ORDER BY CASE WHEN check_type = '*' THEN 1 ELSE 0 END LIMIT 1"},
    {ST_SMS_ADD, "INSERT INTO sandbox_sms (mobile, text, at) VALUES (%s, %s, %s)"},
    {ST_SMS_MOBILE, SMS_COLUMNS "WHERE mobile = %s " SMS_ORDER},
    {ST_SMS_ALL, SMS_COLUMNS SMS_ORDER},
    {ST_FACE_ADD, "INSERT INTO sandbox_face (token, name, id_number, return_url, status, "
                  "created_at) VALUES (%s, %s, %s, %s, 'pending', %s)"},
    {ST_FACE_FIND, "SELECT name, id_number, return_url, status FROM sandbox_face "
                   "WHERE token = %s"},
    {ST_FACE_SET, "UPDATE sandbox_face SET status = %s WHERE token = %s"},
};

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) * dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;
/* mod_cnca's write lock, when it is loaded: the sandbox writes into the
 * same SQLite file, so its writers take turns with the module's */
static APR_OPTIONAL_FN_TYPE(cnca_db_write_lock) * write_lock;

int sandbox_store_prepare(server_rec *s)
{
    apr_size_t i;

    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    write_lock = APR_RETRIEVE_OPTIONAL_FN(cnca_db_write_lock);
    if (!dbd_prepare || !dbd_acquire) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CNCA00608: mod_cnca_sandbox needs mod_dbd: LoadModule dbd_module and set "
                     "DBDriver/DBDParams to the database holding sql/sandbox.sqlite.sql");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (i = 0; i < sizeof(statements) / sizeof(statements[0]); ++i) {
        dbd_prepare(s, statements[i].sql, statements[i].label);
    }
    return OK;
}

/* The connection and one prepared statement. */
static apr_status_t statement(ap_dbd_t **pdbd, apr_dbd_prepared_t **pst, request_rec *r,
                              const char *label)
{
    *pdbd = dbd_acquire ? dbd_acquire(r) : NULL;
    if (!*pdbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CNCA00609: no database connection (see mod_dbd's messages; is "
                      "sql/sandbox.sqlite.sql loaded into the DBDParams database?)");
        return APR_EGENERAL;
    }
    *pst = apr_hash_get((*pdbd)->prepared, label, APR_HASH_KEY_STRING);
    if (!*pst) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CNCA00610: statement %s is not prepared (are the sandbox tables there?)",
                      label);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t db_error(request_rec *r, ap_dbd_t *dbd, int err, const char *label)
{
    const char *msg = apr_dbd_error(dbd->driver, dbd->handle, err);

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "CNCA00611: database error in %s: %s", label,
                  msg ? msg : "unknown");
    return APR_EGENERAL;
}

/* Runs a SELECT and hands each row to fn; reads every row so the
 * connection is left clean. */
typedef void row_fn(void *baton, apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_row_t *row);

static apr_status_t select_rows(request_rec *r, const char *label, row_fn *fn, void *baton,
                                int nargs, const char **args)
{
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    ap_dbd_t *dbd;
    apr_status_t rv;
    int err;

    rv = statement(&dbd, &st, r, label);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* random access: on pgsql a failure is then an error, not "no rows",
     * and an empty answer costs no 100 ms poll (see cnca_db_select) */
    err = apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, &res, st, 1, nargs, args);
    if (err) {
        return db_error(r, dbd, err, label);
    }
    while ((err = apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1)) == 0) {
        fn(baton, r->pool, dbd->driver, row);
    }
    return err == -1 ? APR_SUCCESS : db_error(r, dbd, err, label);
}

static apr_status_t run(request_rec *r, const char *label, int nargs, const char **args)
{
    apr_dbd_prepared_t *st;
    ap_dbd_t *dbd;
    apr_status_t rv;
    int err, nrows = 0, locked;

    rv = statement(&dbd, &st, r, label);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    locked =
        write_lock && !strcmp(apr_dbd_name(dbd->driver), "sqlite3") && write_lock(1) == APR_SUCCESS;
    err = apr_dbd_pquery(dbd->driver, r->pool, dbd->handle, &nrows, st, nargs, args);
    if (locked) {
        write_lock(0);
    }
    return err ? db_error(r, dbd, err, label) : APR_SUCCESS;
}

/* NULL for SQL NULL: the pgsql driver's apr_dbd_get_entry gives "" there,
 * apr_dbd_datum_get tells (APR_ENOENT) on both drivers. */
static const char *column(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_row_t *row,
                          int col)
{
    const char *v = NULL;

    if (apr_dbd_datum_get(driver, row, col, APR_DBD_TYPE_STRING, &v) == APR_ENOENT) {
        return NULL;
    }
    v = apr_dbd_get_entry(driver, row, col);
    return v ? apr_pstrdup(p, v) : NULL;
}

/* "2025-01-31T08:00:00Z" */
static const char *utc_now(apr_pool_t *p)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, apr_time_now());
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.tm_year + 1900, t.tm_mon + 1,
                        t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
}

static void person_row(void *baton, apr_pool_t *p, const apr_dbd_driver_t *driver,
                       apr_dbd_row_t *row)
{
    sandbox_person_t **pp = baton;

    if (!*pp) {
        *pp = apr_pcalloc(p, sizeof(**pp));
        (*pp)->behaviour = column(p, driver, row, 0);
        (*pp)->reason_code = column(p, driver, row, 1);
        (*pp)->reason_text = column(p, driver, row, 2);
    }
}

apr_status_t sandbox_person_find(sandbox_person_t **pp, request_rec *r, const char *subject,
                                 const char *type)
{
    const char *args[] = {subject, type};

    *pp = NULL;
    return select_rows(r, ST_PERSON, person_row, pp, 2, args);
}

apr_status_t sandbox_sms_add(request_rec *r, const char *mobile, const char *text)
{
    const char *args[] = {mobile, text, utc_now(r->pool)};

    return run(r, ST_SMS_ADD, 3, args);
}

static void sms_row(void *baton, apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_row_t *row)
{
    sandbox_sms_t *m = apr_array_push(baton);

    m->id = column(p, driver, row, 0);
    m->mobile = column(p, driver, row, 1);
    m->text = column(p, driver, row, 2);
    m->at = column(p, driver, row, 3);
}

apr_status_t sandbox_sms_list(apr_array_header_t **plist, request_rec *r, const char *mobile)
{
    *plist = apr_array_make(r->pool, SANDBOX_SMS_LIMIT, sizeof(sandbox_sms_t));
    if (mobile) {
        return select_rows(r, ST_SMS_MOBILE, sms_row, *plist, 1, &mobile);
    }
    return select_rows(r, ST_SMS_ALL, sms_row, *plist, 0, NULL);
}

apr_status_t sandbox_face_add(request_rec *r, const sandbox_face_t *f)
{
    const char *args[] = {f->token, f->name, f->id_number, f->return_url, utc_now(r->pool)};

    return run(r, ST_FACE_ADD, 5, args);
}

static void face_row(void *baton, apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_row_t *row)
{
    sandbox_face_t *f = baton;

    f->name = column(p, driver, row, 0);
    f->id_number = column(p, driver, row, 1);
    f->return_url = column(p, driver, row, 2);
    f->status = column(p, driver, row, 3);
}

apr_status_t sandbox_face_find(sandbox_face_t **pf, request_rec *r, const char *token)
{
    sandbox_face_t *f = apr_pcalloc(r->pool, sizeof(*f));
    apr_status_t rv;

    *pf = NULL;
    rv = select_rows(r, ST_FACE_FIND, face_row, f, 1, &token);
    if (rv == APR_SUCCESS && f->status) {
        f->token = token;
        *pf = f;
    }
    return rv;
}

apr_status_t sandbox_face_set_status(request_rec *r, const char *token, const char *status)
{
    const char *args[] = {status, token};

    return run(r, ST_FACE_SET, 2, args);
}
