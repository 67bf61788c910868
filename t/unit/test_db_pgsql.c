/* Unit tests for cnca_db.c, cnca_db_sql.c, cnca_person.c, cnca_audit.c and
 * cnca_sms_limit.c against a real PostgreSQL through APR DBD's pgsql driver,
 * as mod_dbd hands it out: sql/schema.pgsql.sql and sql/sandbox.pgsql.sql
 * load, every statement of cnca_db_statements prepares (PostgreSQL is
 * stricter than SQLite: a parameter's type must fit its column), the
 * schemas of both databases have the same tables, columns and indexes, and
 * the helpers behave as on SQLite: SQL NULLs both ways, persons, one valid
 * certificate per person, the signature upsert, SMS counting, the audit
 * trail, transactions, and writers that take turns. A failing select is an
 * error, never an empty answer.
 *
 * Needs CNCA_PG_PARAMS (a libpq connection string, as DBDParams takes it);
 * tools/test.sh starts a throwaway cluster and sets it. Each run works in
 * its own schema, dropped at the end. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "tap.h"
#include "cnca_audit.h"
#include "cnca_db.h"
#include "cnca_log.h"
#include "cnca_person.h"
#include "cnca_sms_limit.h"

static int log_lines;
static char log_last[1024];

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton, (void)file, (void)line, (void)level, (void)rv;
    ++log_lines;
    snprintf(log_last, sizeof(log_last), "%s", msg);
}

/* Statements the tests use to look behind the module's own. */
static const cnca_db_stmt_t test_statements[] = {
    {"t_audit_all", "SELECT at, client, event, outcome, person_id, subject, detail"
                    " FROM audit ORDER BY id"},
    {"t_signature_count", "SELECT COUNT(*) FROM signatures WHERE person_id = %lld"},
    {"t_cert_revoke", "UPDATE certificates SET status = 'revoked' WHERE serial = %s"},
    {"t_is_null", "SELECT CASE WHEN %s::text IS NULL THEN 'null' ELSE 'value' END, %s"},
    {"t_divide", "SELECT 100 / %lld"},
    {"t_nothing", "SELECT id FROM persons WHERE id_hash = %s"},
    {NULL, NULL},
};

static const char *params;
static char schema[64];
static cnca_db_t db;
static cnca_key_t key;

/* ---- setting up: connection, schema, statements ---- */

static const char *top_path(apr_pool_t *p, const char *argv0, const char *rel)
{
    const char *dir;
    char *slash;

    if (access(rel, R_OK) == 0) {
        return rel;
    }
    dir = apr_pstrdup(p, argv0); /* build/unit/test_db_pgsql */
    if ((slash = strrchr(dir, '/')) != NULL) {
        *slash = '\0';
        return apr_pstrcat(p, dir, "/../../", rel, NULL);
    }
    return rel;
}

static int query(cnca_db_t *d, const char *sql)
{
    int nrows = 0;
    int rc = apr_dbd_query(d->driver, d->handle, &nrows, sql);
    if (rc != 0) {
        printf("#   %s\n#   %s\n", sql, apr_dbd_error(d->driver, d->handle, rc));
    }
    return rc;
}

/* A connection whose tables are those of this run's schema. */
static int connect_db(cnca_db_t *d, apr_pool_t *p)
{
    const char *err = NULL;

    d->prepared = apr_hash_make(p);
    if (apr_dbd_open_ex(d->driver, p, params, &d->handle, &err) != APR_SUCCESS) {
        printf("#   cannot connect with CNCA_PG_PARAMS='%s': %s\n", params, err ? err : "?");
        return 0;
    }
    return query(d, apr_pstrcat(p, "SET search_path TO ", schema, NULL)) == 0;
}

/* The whole file in one go, as psql -f runs it (PostgreSQL takes several
 * statements in one simple query). */
static int run_sql_file(apr_pool_t *p, const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    char *text;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        printf("#   cannot read %s\n", path);
        return -1;
    }
    len = (apr_size_t)fi.size;
    text = apr_palloc(p, len + 1);
    apr_file_read_full(f, text, len, &len);
    text[len] = '\0';
    apr_file_close(f);
    return query(&db, text);
}

static int prepare_all(apr_pool_t *p, cnca_db_t *d, const cnca_db_stmt_t *list, int report)
{
    const cnca_db_stmt_t *st;
    int failed = 0;

    for (st = list; st->label; ++st) {
        apr_dbd_prepared_t *prep = NULL;
        int rc = apr_dbd_prepare(d->driver, p, d->handle, st->sql, st->label, &prep);
        if (report) {
            ok(rc == 0 && prep, apr_psprintf(p, "statement '%s' prepares", st->label));
        }
        if (rc != 0 || !prep) {
            printf("#   %s: %s\n", st->label, apr_dbd_error(d->driver, d->handle, rc));
            ++failed;
            continue;
        }
        apr_hash_set(d->prepared, st->label, APR_HASH_KEY_STRING, prep);
    }
    return failed;
}

static int setup(apr_pool_t *p, const char *argv0)
{
    const cnca_db_stmt_t *st;
    int labels = 0;

    if (apr_dbd_init(p) != APR_SUCCESS ||
        apr_dbd_get_driver(p, "pgsql", &db.driver) != APR_SUCCESS) {
        printf("Bail out! APR DBD has no pgsql driver (Debian: libaprutil1-dbd-pgsql)\n");
        return 0;
    }
    snprintf(schema, sizeof(schema), "cnca_unit_%ld", (long)getpid());
    db.prepared = apr_hash_make(p);
    {
        const char *err = NULL;
        if (apr_dbd_open_ex(db.driver, p, params, &db.handle, &err) != APR_SUCCESS) {
            printf("Bail out! cannot connect to PostgreSQL with CNCA_PG_PARAMS='%s': %s\n", params,
                   err ? err : "?");
            return 0;
        }
    }
    if (query(&db, apr_pstrcat(p, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS ",
                               schema, " CASCADE; CREATE SCHEMA ", schema, "; SET search_path TO ",
                               schema, NULL)) != 0) {
        printf("Bail out! cannot make the schema %s\n", schema);
        return 0;
    }
    is_int(run_sql_file(p, top_path(p, argv0, "sql/schema.pgsql.sql")), 0,
           "sql/schema.pgsql.sql runs without error");
    is_int(run_sql_file(p, top_path(p, argv0, "sql/sandbox.pgsql.sql")), 0,
           "sql/sandbox.pgsql.sql runs without error");

    for (st = cnca_db_statements; st->label; ++st) {
        ++labels;
    }
    ok(labels >= 13, apr_psprintf(p, "cnca_db_statements lists %d statements", labels));
    is_int(prepare_all(p, &db, cnca_db_statements, 1), 0,
           "every statement of cnca_db_statements prepares on PostgreSQL");
    is_int(prepare_all(p, &db, test_statements, 0), 0, "the tests' own statements prepare");
    return 1;
}

static void teardown(apr_pool_t *p)
{
    if (db.handle) {
        query(&db, "ROLLBACK"); /* a test that stopped inside a transaction */
        query(&db, apr_pstrcat(p, "SET client_min_messages = warning; DROP SCHEMA ", schema,
                               " CASCADE", NULL));
        apr_dbd_close(db.driver, db.handle);
        db.handle = NULL;
    }
}

/* ---- helpers ---- */

#define NOW 1700000000

static const char *now_s(apr_pool_t *p)
{
    return cnca_db_int(p, NOW);
}

static apr_status_t add_person(apr_pool_t *p, const char *id_number, const char *name,
                               const char *mobile)
{
    const char *enc = NULL;
    cnca_seal(&enc, p, &key, "id", id_number, strlen(id_number));
    return cnca_db_exec(&db, p, NULL, "person_insert", 6, cnca_person_id_hash(p, &key, id_number),
                        enc, name, mobile, now_s(p), now_s(p));
}

static apr_status_t add_cert(apr_pool_t *p, apr_int64_t person_id, const char *serial)
{
    apr_status_t rv =
        cnca_db_exec(&db, p, NULL, "serial_insert", 4, serial, "hash", "ec-p256", now_s(p));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return cnca_db_exec(&db, p, NULL, "cert_insert", 8, cnca_db_int(p, person_id), serial,
                        "ec-p256", now_s(p), cnca_db_int(p, NOW + 86400 * 365),
                        "-----BEGIN CERTIFICATE-----PEM", "KEY-ENC", now_s(p));
}

static const char *cell(apr_array_header_t *rows, int r, int c)
{
    return rows && r < rows->nelts ? CNCA_DB_ROW(rows, r)[c] : "(no row)";
}

/* "name:col1,col2,...;" for each table, and "index:name;" for each named
 * index, in name order: what both schema files must agree on. */
static const char *pg_shape(apr_pool_t *p)
{
    static const char *const sql =
        "SELECT s FROM (SELECT table_name || ':' ||"
        "  string_agg(column_name::text, ',' ORDER BY column_name::text COLLATE \"C\") AS s"
        "  FROM information_schema.columns WHERE table_schema = current_schema()"
        "  GROUP BY table_name"
        " UNION ALL SELECT 'index:' || indexname FROM pg_indexes"
        "  WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey'"
        "  AND indexname NOT LIKE '%_key') AS shape ORDER BY s COLLATE \"C\"";
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *shape = "";
    int rc = apr_dbd_select(db.driver, p, db.handle, &res, sql, 1);

    if (rc != 0) {
        printf("#   %s\n", apr_dbd_error(db.driver, db.handle, rc));
        return "(query failed)";
    }
    while (apr_dbd_get_row(db.driver, p, res, &row, -1) == 0) {
        shape = apr_pstrcat(p, shape, apr_dbd_get_entry(db.driver, row, 0), ";", NULL);
    }
    return shape;
}

/* The same of the SQLite files, loaded into an in-memory database one
 * statement at a time (a statement ends with the line that ends in ';';
 * "--" comments are dropped; PRAGMAs are skipped). */
static const char *sqlite_shape(apr_pool_t *p, const char *argv0)
{
    static const char *const files[] = {"sql/schema.sqlite.sql", "sql/sandbox.sqlite.sql"};
    static const char *const sql =
        "SELECT m.name || ':' || (SELECT group_concat(name, ',') FROM"
        "  (SELECT name FROM pragma_table_info(m.name) ORDER BY name))"
        "  FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        " UNION ALL SELECT 'index:' || name FROM sqlite_master"
        "  WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY 1";
    const apr_dbd_driver_t *lite;
    apr_dbd_t *h = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *shape = "", *err = NULL;
    apr_size_t i;

    if (apr_dbd_get_driver(p, "sqlite3", &lite) != APR_SUCCESS ||
        apr_dbd_open_ex(lite, p, ":memory:", &h, &err) != APR_SUCCESS) {
        return "(no sqlite3)";
    }
    for (i = 0; i < sizeof(files) / sizeof(files[0]); ++i) {
        apr_file_t *f;
        char line[1024];
        const char *stmt = "";
        if (apr_file_open(&f, top_path(p, argv0, files[i]), APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
            return apr_pstrcat(p, "(cannot read ", files[i], ")", NULL);
        }
        while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS) {
            char *dash = strstr(line, "--");
            apr_size_t n;
            int nrows = 0;
            if (dash) {
                *dash = '\0';
            }
            for (n = strlen(line); n > 0 && strchr(" \t\r\n", line[n - 1]); --n) {
                line[n - 1] = '\0';
            }
            if (n == 0) {
                continue;
            }
            stmt = apr_pstrcat(p, stmt, " ", line, NULL);
            if (line[n - 1] == ';') {
                if (strncasecmp(stmt, " PRAGMA", 7) && apr_dbd_query(lite, h, &nrows, stmt) != 0) {
                    printf("#   sqlite: %s\n#   %s\n", stmt, apr_dbd_error(lite, h, 1));
                }
                stmt = "";
            }
        }
        apr_file_close(f);
    }
    if (apr_dbd_select(lite, p, h, &res, sql, 1) != 0) {
        apr_dbd_close(lite, h);
        return "(query failed)";
    }
    while (apr_dbd_get_row(lite, p, res, &row, -1) == 0) {
        shape = apr_pstrcat(p, shape, apr_dbd_get_entry(lite, row, 0), ";", NULL);
    }
    apr_dbd_close(lite, h);
    return shape;
}

/* ---- tests ---- */

static void test_same_schema(const char *argv0)
{
    apr_pool_t *p = tap_pool();
    const char *pg = pg_shape(p), *lite = sqlite_shape(p, argv0);

    ok(strstr(pg, "persons:") && strstr(pg, "sandbox_sms:") && strstr(pg, "index:"),
       "the PostgreSQL schema lists tables and indexes");
    is_str(pg, lite, "sql/*.pgsql.sql and sql/*.sqlite.sql: same tables, columns and indexes");
}

static void test_null_args(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;
    int ncols = 0;

    is_int(cnca_db_select(&db, p, &rows, &ncols, "t_is_null", 2, NULL, NULL), APR_SUCCESS,
           "select with NULL arguments");
    is_int(ncols, 2, "two columns");
    is_str(cell(rows, 0, 0), "null", "a NULL argument is SQL NULL");
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[1] == NULL,
       "an SQL NULL comes back as a NULL pointer (not '')");
    cnca_db_select(&db, p, &rows, NULL, "t_is_null", 2, "", "");
    is_str(cell(rows, 0, 0), "value", "an empty string is a value, not NULL");
    is_str(cell(rows, 0, 1), "", "and comes back empty");
}

/* The pgsql driver reads a select's rows asynchronously unless asked for
 * random access: then an error while running it looks like "no rows" and an
 * empty answer costs a 100 ms sleep. */
static void test_errors_are_errors(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = (apr_array_header_t *)&rows;
    apr_time_t t0;
    int lines = log_lines;

    is_int(cnca_db_select(&db, p, &rows, NULL, "t_divide", 1, "4"), APR_SUCCESS,
           "a select that works");
    is_str(cell(rows, 0, 0), "25", "and its answer");
    ok(cnca_db_select(&db, p, &rows, NULL, "t_divide", 1, "0") != APR_SUCCESS,
       "a select that fails while it runs (division by zero) is an error, not 'no rows'");
    ok(rows == NULL, "failed select: no rows");
    ok(log_lines > lines && strstr(log_last, "t_divide"), "and a log line naming it");
    ok(cnca_db_exec(&db, p, NULL, "person_insert", 6, "h", "e", "n", "m", "not a number", "1") !=
           APR_SUCCESS,
       "a write with a bad integer argument is an error");

    t0 = apr_time_now();
    is_int(cnca_db_select(&db, p, &rows, NULL, "t_nothing", 1, "nobody"), APR_SUCCESS,
           "a select with no rows");
    is_int(rows ? rows->nelts : -1, 0, "gives no rows");
    ok(apr_time_now() - t0 < apr_time_from_msec(90),
       apr_psprintf(p, "and answers at once (%.3f s)",
                    (double)(apr_time_now() - t0) / APR_USEC_PER_SEC));
}

static void test_person(void)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    const char *hash = cnca_person_id_hash(p, &key, "31010119900307123X");
    apr_array_header_t *rows = NULL;
    const char *pid;
    int nrows = -1;

    is_int(cnca_person_find(&person, &db, p, hash), APR_NOTFOUND, "not there yet: APR_NOTFOUND");
    is_int(add_person(p, "31010119900307123X", "张三", "13812345678"), APR_SUCCESS,
           "person_insert");
    is_int(cnca_person_find(&person, &db, p, hash), APR_SUCCESS, "found");
    if (!person) {
        return;
    }
    ok(person->id > 0, "found: an id");
    is_str(person->name, "张三", "found: name (UTF-8 both ways)");
    is_str(person->mobile, "13812345678", "found: mobile");
    ok(person->serial == NULL, "no certificate: serial NULL");
    ok(add_person(p, "31010119900307123X", "李四", "13900000000") != APR_SUCCESS,
       "a second person with the same ID hash: refused (UNIQUE)");

    pid = cnca_db_int(p, person->id);
    is_int(cnca_db_exec(&db, p, &nrows, "person_update_mobile", 3, "13700000000",
                        cnca_db_int(p, NOW + 5), pid),
           APR_SUCCESS, "person_update_mobile");
    is_int(nrows, 1, "person_update_mobile: one row changed");
    is_int(cnca_db_select(&db, p, &rows, NULL, "person_by_id", 1, pid), APR_SUCCESS,
           "person_by_id");
    is_str(cell(rows, 0, 2), "13700000000", "person_by_id: the new mobile");
    is_str(cell(rows, 0, 4), hash, "person_by_id: the ID hash");
    ok(rows && rows->nelts == 1 && !strstr(cell(rows, 0, 3), "31010119900307123X"),
       "person_by_id: the ID number is not stored in the clear");
    cnca_db_exec(&db, p, &nrows, "person_update_mobile", 3, "13700000000", now_s(p), "424242");
    is_int(nrows, 0, "person_update_mobile of nobody: no row changed");
}

static void test_one_valid_certificate(void)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    const char *hash = cnca_person_id_hash(p, &key, "31010119900307123X");
    apr_array_header_t *rows = NULL;
    const char *pid;

    if (cnca_person_find(&person, &db, p, hash) != APR_SUCCESS) {
        ok(0, "the person of test_person");
        return;
    }
    pid = cnca_db_int(p, person->id);
    is_int(add_cert(p, person->id, "1111111111111111"), APR_SUCCESS, "first certificate");
    cnca_person_find(&person, &db, p, hash);
    is_str(person ? person->serial : NULL, "1111111111111111",
           "person_by_id_hash: the valid certificate's serial");
    ok(add_cert(p, person->id, "2222222222222222") != APR_SUCCESS,
       "a second valid certificate for the same person: refused (partial unique index)");
    cnca_db_exec(&db, p, NULL, "t_cert_revoke", 1, "1111111111111111");
    is_int(add_cert(p, person->id, "3333333333333333"), APR_SUCCESS,
           "after a revocation, a new valid certificate");
    cnca_person_find(&person, &db, p, hash);
    is_str(person ? person->serial : NULL, "3333333333333333",
           "person_by_id_hash: the valid certificate, one row");
    is_int(cnca_db_select(&db, p, &rows, NULL, "cert_by_person", 1, pid), APR_SUCCESS,
           "cert_by_person");
    is_int(rows ? rows->nelts : -1, 1, "cert_by_person: only the valid one");
    is_str(cell(rows, 0, 0), "3333333333333333", "cert_by_person: its serial");
    is_str(cell(rows, 0, 3), cnca_db_int(p, NOW + 86400 * 365), "cert_by_person: not_after");
    ok(cnca_db_exec(&db, p, NULL, "serial_insert", 4, "3333333333333333", "h", "ec-p256",
                    now_s(p)) != APR_SUCCESS,
       "a serial is recorded once only");
    ok(cnca_db_exec(&db, p, NULL, "cert_insert", 8, "424242", "4444444444444444", "ec-p256",
                    now_s(p), now_s(p), "pem", "key", now_s(p)) != APR_SUCCESS,
       "a certificate of no person, with no recorded serial: refused (foreign keys)");
}

static void test_signature(void)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    apr_array_header_t *rows = NULL;
    const char *pid;

    if (cnca_person_find(&person, &db, p, cnca_person_id_hash(p, &key, "31010119900307123X")) !=
        APR_SUCCESS) {
        ok(0, "the person of test_person");
        return;
    }
    pid = cnca_db_int(p, person->id);
    is_int(cnca_db_exec(&db, p, NULL, "signature_upsert", 4, pid, "iVBORw0KGgoFIRST", "handwrite",
                        now_s(p)),
           APR_SUCCESS, "signature_upsert: insert");
    cnca_db_select(&db, p, &rows, NULL, "signature_get", 1, pid);
    is_str(cell(rows, 0, 0), "iVBORw0KGgoFIRST", "signature_get: the first");
    is_int(cnca_db_exec(&db, p, NULL, "signature_upsert", 4, pid, "iVBORw0KGgoSECOND", "photo",
                        cnca_db_int(p, NOW + 1)),
           APR_SUCCESS, "signature_upsert: replace (ON CONFLICT ... DO UPDATE)");
    cnca_db_select(&db, p, &rows, NULL, "signature_get", 1, pid);
    is_str(cell(rows, 0, 0), "iVBORw0KGgoSECOND", "signature_get: the replacement");
    cnca_db_select(&db, p, &rows, NULL, "t_signature_count", 1, pid);
    is_str(cell(rows, 0, 0), "1", "still one signature row");
    cnca_db_select(&db, p, &rows, NULL, "signature_get", 1, "424242");
    is_int(rows ? rows->nelts : -1, 0, "signature_get of nobody: no row");
}

static void test_sms(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;
    cnca_sms_limits_t limits = {60, 5, 10, 100};
    const char *reason = NULL;
    int i, wait = -1;
    static const struct {
        int ago;
        const char *hash, *client;
    } sends[] = {
        {100, "HASH-A", "10.0.0.1"}, {50, "HASH-A", "10.0.0.2"},     {10, "HASH-A", "10.0.0.1"},
        {5, "HASH-B", "10.0.0.1"},   {100000, "HASH-A", "10.0.0.1"},
    };

    for (i = 0; i < (int)(sizeof(sends) / sizeof(sends[0])); ++i) {
        if (cnca_db_exec(&db, p, NULL, "sms_insert", 3, cnca_db_int(p, NOW - sends[i].ago),
                         sends[i].hash, sends[i].client) != APR_SUCCESS) {
            ok(0, "sms_insert");
        }
    }
    is_int(cnca_db_select(&db, p, &rows, NULL, "sms_stats_mobile", 2, "HASH-A",
                          cnca_db_int(p, NOW - 86400)),
           APR_SUCCESS, "sms_stats_mobile");
    is_str(cell(rows, 0, 0), "3", "sms_stats_mobile: 3 sends of A in the last day");
    is_str(cell(rows, 0, 1), cnca_db_int(p, NOW - 100), "sms_stats_mobile: the first in the day");
    is_str(cell(rows, 0, 2), cnca_db_int(p, NOW - 10), "sms_stats_mobile: the latest send");
    cnca_db_select(&db, p, &rows, NULL, "sms_stats_mobile", 2, "HASH-C",
                   cnca_db_int(p, NOW - 86400));
    is_str(cell(rows, 0, 0), "0", "sms_stats_mobile: none for C");
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[1] == NULL,
       "sms_stats_mobile: no first send for C (NULL)");
    is_int(cnca_db_select(&db, p, &rows, NULL, "sms_stats_client", 2, "10.0.0.1",
                          cnca_db_int(p, NOW - 86400)),
           APR_SUCCESS, "sms_stats_client");
    is_str(cell(rows, 0, 0), "3", "sms_stats_client: 3 from 10.0.0.1 in the last day");

    /* the whole reservation, in its transaction */
    is_int(cnca_sms_reserve(&wait, &reason, &db, p, &limits, "HASH-D", "10.0.0.9", NOW),
           APR_SUCCESS, "cnca_sms_reserve: a first code");
    is_int(wait, 0, "cnca_sms_reserve: may be sent now");
    is_int(cnca_sms_reserve(&wait, &reason, &db, p, &limits, "HASH-D", "10.0.0.9", NOW + 20),
           APR_SUCCESS, "cnca_sms_reserve: a second code 20 s later");
    is_int(wait, 40, "cnca_sms_reserve: refused for the 40 s left of the interval");
    is_str(reason, "interval", "cnca_sms_reserve: by the interval");
    cnca_db_select(&db, p, &rows, NULL, "sms_stats_mobile", 2, "HASH-D",
                   cnca_db_int(p, NOW - 86400));
    is_str(cell(rows, 0, 0), "1", "the refused code was not counted");
    is_int(cnca_sms_reserve(&wait, &reason, &db, p, &limits, "HASH-D", "10.0.0.9", NOW + 60),
           APR_SUCCESS, "cnca_sms_reserve: 60 s later");
    is_int(wait, 0, "cnca_sms_reserve: allowed again");
}

static void test_audit(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;
    cnca_audit_t a;
    const char **r;

    memset(&a, 0, sizeof(a));
    a.at = NOW;
    a.event = "session.create";
    a.outcome = "ok";
    is_int(cnca_audit_write(&db, p, &a), APR_SUCCESS, "audit: minimal line");
    a.at = NOW + 1;
    a.client = "192.0.2.7";
    a.event = "verify.mobile";
    a.outcome = "fail";
    a.person_id = 5000000000LL;
    a.subject = "f00dfeed";
    a.detail = "mobile=138****5678 reason=carrier";
    is_int(cnca_audit_write(&db, p, &a), APR_SUCCESS, "audit: full line");

    cnca_db_select(&db, p, &rows, NULL, "t_audit_all", 0);
    is_int(rows ? rows->nelts : -1, 2, "two audit rows");
    if (!rows || rows->nelts != 2) {
        return;
    }
    r = CNCA_DB_ROW(rows, 0);
    is_str(r[0], cnca_db_int(p, NOW), "minimal: at");
    is_str(r[1], "-", "minimal: no client is '-'");
    ok(r[4] == NULL && r[5] == NULL && r[6] == NULL,
       "minimal: person_id, subject and detail are NULL");
    r = CNCA_DB_ROW(rows, 1);
    is_str(r[4], "5000000000", "full: person_id past 32 bits");
    is_str(r[5], "f00dfeed", "full: subject");
    is_str(r[6], "mobile=138****5678 reason=carrier", "full: detail");
}

static void test_transactions(void)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    const char *h1 = cnca_person_id_hash(p, &key, "440101199001011231");
    const char *h2 = cnca_person_id_hash(p, &key, "440101199001011258");

    is_int(cnca_db_begin(&db, p), APR_SUCCESS, "begin");
    is_int(add_person(p, "440101199001011231", "赵六", "13800000001"), APR_SUCCESS,
           "insert in the transaction");
    is_int(cnca_person_find(&person, &db, p, h1), APR_SUCCESS, "seen inside the transaction");
    cnca_db_rollback(&db, p);
    is_int(cnca_person_find(&person, &db, p, h1), APR_NOTFOUND, "rolled back: gone");

    is_int(cnca_db_begin(&db, p), APR_SUCCESS, "begin again");
    add_person(p, "440101199001011231", "赵六", "13800000001");
    is_int(cnca_db_commit(&db, p), APR_SUCCESS, "commit");
    is_int(cnca_person_find(&person, &db, p, h1), APR_SUCCESS, "committed: there");

    /* PostgreSQL: after a failed statement the transaction takes nothing
     * more but ROLLBACK, so every failure path must roll back */
    is_int(cnca_db_begin(&db, p), APR_SUCCESS, "begin a transaction that fails");
    is_int(add_person(p, "440101199001011258", "钱七", "13800000002"), APR_SUCCESS,
           "first insert of a transaction");
    ok(add_person(p, "440101199001011231", "赵六", "13800000001") != APR_SUCCESS,
       "second insert fails (duplicate)");
    ok(cnca_person_find(&person, &db, p, h1) != APR_SUCCESS,
       "after a failure, the transaction refuses even a select");
    cnca_db_rollback(&db, p);
    is_int(cnca_person_find(&person, &db, p, h2), APR_NOTFOUND,
           "the failed transaction's first insert is gone too");
    is_int(cnca_person_find(&person, &db, p, h1), APR_SUCCESS,
           "the connection is usable after the failed transaction");

    cnca_db_begin(&db, p);
    add_person(p, "440101199001011231", "赵六", "13800000001");
    cnca_db_rollback(&db, p);
    is_int(cnca_db_begin(&db, p), APR_SUCCESS, "begin after a rollback");
    cnca_db_rollback(&db, p);
}

/* Two connections, as two httpd children (or two servers of a farm) have:
 * the second writer's begin waits until the first commits, as SQLite's
 * BEGIN IMMEDIATE does, so a check-then-write cannot interleave. */
typedef struct {
    cnca_db_t db;
    apr_pool_t *pool;
    apr_status_t begin_rv, insert_rv, commit_rv;
    apr_time_t waited;
} writer_t;

static void *APR_THREAD_FUNC second_writer(apr_thread_t *thread, void *data)
{
    writer_t *w = data;
    apr_time_t t0 = apr_time_now();
    const char *enc = NULL;

    w->begin_rv = cnca_db_begin(&w->db, w->pool);
    w->waited = apr_time_now() - t0;
    if (w->begin_rv == APR_SUCCESS) {
        cnca_seal(&enc, w->pool, &key, "id", "second", 6);
        w->insert_rv = cnca_db_exec(&w->db, w->pool, NULL, "person_insert", 6,
                                    cnca_person_id_hash(w->pool, &key, "second-writer"), enc,
                                    "孙八", "13800000004", "1", "1");
        w->commit_rv = cnca_db_commit(&w->db, w->pool);
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static void test_two_writers(void)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    apr_thread_t *thread;
    apr_status_t trv;
    writer_t w;

    memset(&w, 0, sizeof(w));
    apr_pool_create_unmanaged_ex(&w.pool, NULL, NULL);
    w.db.driver = db.driver;
    if (!connect_db(&w.db, w.pool) || prepare_all(w.pool, &w.db, cnca_db_statements, 0) != 0) {
        ok(0, "a second connection");
        apr_pool_destroy(w.pool);
        return;
    }

    is_int(cnca_db_begin(&db, p), APR_SUCCESS, "first writer begins");
    add_person(p, "first-writer", "周九", "13800000003");
    if (apr_thread_create(&thread, NULL, second_writer, &w, p) != APR_SUCCESS) {
        ok(0, "second writer thread");
        cnca_db_rollback(&db, p);
        apr_pool_destroy(w.pool);
        return;
    }
    apr_sleep(apr_time_from_msec(300));
    is_int(cnca_db_commit(&db, p), APR_SUCCESS, "first writer commits");
    apr_thread_join(&trv, thread);
    is_int(w.begin_rv, APR_SUCCESS, "second writer's begin succeeds once the first commits");
    ok(w.waited >= apr_time_from_msec(200),
       apr_psprintf(p, "second writer's begin waited for the first to commit (%.2f s)",
                    (double)w.waited / APR_USEC_PER_SEC));
    is_int(w.insert_rv, APR_SUCCESS, "second writer inserts");
    is_int(w.commit_rv, APR_SUCCESS, "second writer commits");
    is_int(cnca_person_find(&person, &db, p, cnca_person_id_hash(p, &key, "first-writer")),
           APR_SUCCESS, "the first writer's row is there");
    is_int(cnca_person_find(&person, &db, p, cnca_person_id_hash(p, &key, "second-writer")),
           APR_SUCCESS, "the second writer's row is there");
    apr_dbd_close(w.db.driver, w.db.handle);
    apr_pool_destroy(w.pool);
}

int main(int argc, char **argv)
{
    apr_pool_t *p;

    (void)argc;
    params = getenv("CNCA_PG_PARAMS");
    if (!params || !*params) {
        printf("1..0 # SKIP CNCA_PG_PARAMS is not set (tools/test.sh starts PostgreSQL and "
               "sets it)\n");
        return 0;
    }
    p = tap_pool();
    cnca_log_set_sink(log_sink, NULL);
    if (cnca_random(key.bytes, sizeof(key.bytes)) != APR_SUCCESS) {
        printf("Bail out! no randomness\n");
        return 1;
    }
    if (!setup(p, argv[0])) {
        teardown(p);
        return 1;
    }
    test_same_schema(argv[0]);
    test_null_args();
    test_errors_are_errors();
    test_person();
    test_one_valid_certificate();
    test_signature();
    test_sms();
    test_audit();
    test_transactions();
    test_two_writers();
    teardown(p);
    return tap_done();
}
