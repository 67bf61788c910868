/* Unit tests for cnca_db.c, cnca_db_sql.c, cnca_person.c, cnca_audit.c and
 * cnca_sms_limit.c through APR DBD, as mod_dbd hands the connections out,
 * on each database the module runs on: SQLite always (a file of its own),
 * PostgreSQL when CNCA_PG_PARAMS is set (a libpq connection string, as
 * DBDParams takes it; tools/test.sh starts a throwaway cluster and sets
 * it; each run works in a schema of its own, dropped at the end).
 *
 * On each: sql/schema.*.sql and sql/sandbox.*.sql load, every statement of
 * cnca_db_statements prepares (a typo there would otherwise show only at
 * httpd start; PostgreSQL is stricter: a parameter's type must fit its
 * column), SQL NULLs both ways, a failing select is an error and never an
 * empty answer, persons with and without a certificate, one valid
 * certificate per person, the signature upsert, SMS counting and the
 * reservation, the audit trail, transactions, two writers that take turns,
 * and misuse. Both schemas have the same tables, columns and indexes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "tap.h"
#include "testlib.h"
#include "cnca_audit.h"
#include "cnca_db.h"
#include "cnca_log.h"
#include "cnca_person.h"
#include "cnca_sms_limit.h"

/* Statements the tests use to look behind the module's own (portable, as
 * the module's are). */
static const cnca_db_stmt_t test_statements[] = {
    {"t_audit_all", "SELECT at, client, event, outcome, person_id, subject, detail"
                    " FROM audit ORDER BY id"},
    {"t_signature_count", "SELECT COUNT(*) FROM signatures WHERE person_id = %lld"},
    {"t_cert_revoke", "UPDATE certificates SET status = 'revoked' WHERE serial = %s"},
    {"t_cert_count", "SELECT COUNT(*) FROM certificates WHERE person_id = %lld"},
    {"t_is_null", "SELECT CASE WHEN CAST(%s AS TEXT) IS NULL THEN 'null' ELSE 'value' END, %s"},
    {"t_divide", "SELECT 100 / %lld"},
    {"t_nothing", "SELECT id FROM persons WHERE id_hash = %s"},
    {NULL, NULL},
};

/* One database the tests run on. */
typedef struct {
    const char *name;   /* the APR DBD driver: "sqlite3" or "pgsql" */
    const char *params; /* what apr_dbd_open takes: the SQLite file, or the libpq string */
    const char *schema; /* PostgreSQL: this run's schema; NULL for SQLite */
    cnca_db_t db;       /* driver, handle, prepared statements */
} conn_t;

static cnca_key_t key;

/* ON(what): the TAP text with the driver in front ("pgsql: what"); each test
 * has its connection c and its pool p. */
#define ON(what) apr_pstrcat(p, c->name, ": ", (what), NULL)

static int is_pg(const conn_t *c)
{
    return !strcmp(c->name, "pgsql");
}

/* ---- setting up: connection, schema, statements ---- */

/* Another connection to c's database (as another httpd child has). */
static int conn_open(const conn_t *c, cnca_db_t *d, apr_pool_t *p)
{
    if (!testlib_db_open(d, p, c->name, c->params)) {
        return 0;
    }
    return !c->schema ||
           testlib_db_run(d, p, apr_pstrcat(p, "SET search_path TO ", c->schema, NULL)) == 0;
}

/* Loads the schema and the sandbox tables, then prepares the statements. */
static int conn_setup(conn_t *c, apr_pool_t *p, const char *argv0)
{
    static const char *const files[] = {"schema", "sandbox"};
    apr_size_t i;
    int n = 0;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); ++i) {
        const char *rel = apr_psprintf(p, "sql/%s.%s.sql", files[i], is_pg(c) ? "pgsql" : "sqlite");
        is_int(testlib_db_load(&c->db, p, testlib_path(p, argv0, rel), &n), 0,
               ON(apr_psprintf(p, "%s runs without error", rel)));
        if (!is_pg(c) && i == 0) {
            /* SQLite's is run a statement at a time */
            ok(n >= 10, ON(apr_psprintf(p, "the schema has its statements (%d)", n)));
        }
    }
    is_int(testlib_db_prepare(&c->db, p, cnca_db_statements, ON("")), 0,
           ON("every statement of cnca_db_statements prepares"));
    is_int(testlib_db_prepare(&c->db, p, test_statements, NULL), 0,
           ON("the tests' own statements prepare"));
    return 1;
}

/* SQLite in a temporary file. 0: no sqlite3 driver (a skip); -1: failed. */
static int sqlite_setup(conn_t *c, apr_pool_t *p, const char *argv0)
{
    char *path = apr_pstrdup(p, "/tmp/cnca-test-db-XXXXXX");
    const apr_dbd_driver_t *driver;
    int fd;

    memset(c, 0, sizeof(*c));
    c->name = "sqlite3";
    if (apr_dbd_get_driver(p, "sqlite3", &driver) != APR_SUCCESS) {
        return 0;
    }
    if ((fd = mkstemp(path)) < 0) {
        ok(0, "sqlite3: a temporary file");
        return -1;
    }
    close(fd);
    c->params = path;
    if (!conn_open(c, &c->db, p)) {
        ok(0, apr_psprintf(p, "sqlite3: %s opens", path));
        return -1;
    }
    return conn_setup(c, p, argv0);
}

/* PostgreSQL in a schema of this run's own. 1, or 0 after a failure. */
static int pg_setup(conn_t *c, apr_pool_t *p, const char *argv0, const char *params)
{
    memset(c, 0, sizeof(*c));
    c->name = "pgsql";
    c->params = params;
    c->schema = apr_psprintf(p, "cnca_unit_%ld", (long)getpid());
    if (!testlib_db_open(&c->db, p, "pgsql", params)) {
        ok(0, apr_psprintf(p,
                           "pgsql: connects with CNCA_PG_PARAMS='%s' (the pgsql driver of APR"
                           " DBD is Debian's libaprutil1-dbd-pgsql)",
                           params));
        return 0;
    }
    if (testlib_db_run(&c->db, p,
                       apr_pstrcat(p, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS ",
                                   c->schema, " CASCADE; CREATE SCHEMA ", c->schema,
                                   "; SET search_path TO ", c->schema, NULL)) != 0) {
        ok(0, apr_psprintf(p, "pgsql: makes the schema %s", c->schema));
        return 0;
    }
    return conn_setup(c, p, argv0);
}

static void conn_close(conn_t *c, apr_pool_t *p)
{
    if (c->db.handle) {
        if (c->schema) {
            testlib_db_run(&c->db, p, "ROLLBACK"); /* a test that stopped inside a transaction */
            testlib_db_run(&c->db, p,
                           apr_pstrcat(p, "SET client_min_messages = warning; DROP SCHEMA ",
                                       c->schema, " CASCADE", NULL));
        }
        apr_dbd_close(c->db.driver, c->db.handle);
        c->db.handle = NULL;
    }
    if (c->params && !c->schema) {
        testlib_sqlite_remove(p, c->params);
    }
}

/* ---- helpers ---- */

#define NOW 1700000000

static const char *now_s(apr_pool_t *p)
{
    return cnca_db_int(p, NOW);
}

static apr_status_t add_person(conn_t *c, apr_pool_t *p, const char *id_number, const char *name,
                               const char *mobile)
{
    const char *enc = NULL;
    cnca_seal(&enc, p, &key, "id", id_number, strlen(id_number));
    return cnca_db_exec(&c->db, p, NULL, "person_insert", 6,
                        cnca_person_id_hash(p, &key, id_number), enc, name, mobile, now_s(p),
                        now_s(p));
}

static apr_status_t add_cert(conn_t *c, apr_pool_t *p, apr_int64_t person_id, const char *serial)
{
    apr_status_t rv =
        cnca_db_exec(&c->db, p, NULL, "serial_insert", 4, serial, "hash", "ec-p256", now_s(p));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return cnca_db_exec(&c->db, p, NULL, "cert_insert", 8, cnca_db_int(p, person_id), serial,
                        "ec-p256", now_s(p), cnca_db_int(p, NOW + 86400 * 365),
                        "-----BEGIN CERTIFICATE-----SECRETPEM", "KEY-ENC-SECRET", now_s(p));
}

static const char *cell(apr_array_header_t *rows, int r, int c)
{
    return rows && r < rows->nelts ? CNCA_DB_ROW(rows, r)[c] : "(no row)";
}

/* "name:col1,col2,...;" for each table, and "index:name;" for each named
 * index, in name order: what both schema files must agree on. */
static const char *shape(const conn_t *c, apr_pool_t *p)
{
    static const char *const pg_sql =
        "SELECT s FROM (SELECT table_name || ':' ||"
        "  string_agg(column_name::text, ',' ORDER BY column_name::text COLLATE \"C\") AS s"
        "  FROM information_schema.columns WHERE table_schema = current_schema()"
        "  GROUP BY table_name"
        " UNION ALL SELECT 'index:' || indexname FROM pg_indexes"
        "  WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey'"
        "  AND indexname NOT LIKE '%_key') AS shape ORDER BY s COLLATE \"C\"";
    static const char *const sqlite_sql =
        "SELECT m.name || ':' || (SELECT group_concat(name, ',') FROM"
        "  (SELECT name FROM pragma_table_info(m.name) ORDER BY name))"
        "  FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        " UNION ALL SELECT 'index:' || name FROM sqlite_master"
        "  WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY 1";
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *s = "";
    int rc;

    if (!c->db.handle) {
        return apr_pstrcat(p, "(no ", c->name, " connection)", NULL);
    }
    rc = apr_dbd_select(c->db.driver, p, c->db.handle, &res, is_pg(c) ? pg_sql : sqlite_sql, 1);
    if (rc != 0) {
        printf("#   %s\n", apr_dbd_error(c->db.driver, c->db.handle, rc));
        return "(query failed)";
    }
    while (apr_dbd_get_row(c->db.driver, p, res, &row, -1) == 0) {
        s = apr_pstrcat(p, s, apr_dbd_get_entry(c->db.driver, row, 0), ";", NULL);
    }
    return s;
}

/* ---- tests without a database ---- */

static void test_db_int(void)
{
    apr_pool_t *p = tap_pool();

    is_str(cnca_db_int(p, 0), "0", "cnca_db_int 0");
    is_str(cnca_db_int(p, -42), "-42", "cnca_db_int -42");
    is_str(cnca_db_int(p, APR_INT64_C(9223372036854775807)), "9223372036854775807",
           "cnca_db_int INT64_MAX");
    is_str(cnca_db_int(p, APR_INT64_C(5000000000)), "5000000000", "cnca_db_int 5000000000");
}

static void test_labels(void)
{
    apr_pool_t *p = tap_pool();
    apr_hash_t *seen = apr_hash_make(p);
    const cnca_db_stmt_t *st;
    int labels = 0;

    for (st = cnca_db_statements; st->label; ++st) {
        ok(apr_hash_get(seen, st->label, APR_HASH_KEY_STRING) == NULL,
           apr_psprintf(p, "label '%s' appears once", st->label));
        apr_hash_set(seen, st->label, APR_HASH_KEY_STRING, st);
        ++labels;
    }
    ok(labels >= 13, apr_psprintf(p, "cnca_db_statements lists %d statements", labels));
}

/* ---- tests on each database ---- */

static void test_same_schema(const conn_t *lite, const conn_t *pg)
{
    apr_pool_t *p = tap_pool();
    const char *pg_shape = shape(pg, p), *lite_shape = shape(lite, p);

    ok(strstr(pg_shape, "persons:") && strstr(pg_shape, "sandbox_sms:") &&
           strstr(pg_shape, "index:"),
       "the PostgreSQL schema lists tables and indexes");
    is_str(pg_shape, lite_shape,
           "sql/*.pgsql.sql and sql/*.sqlite.sql: same tables, columns and indexes");
}

static void test_null_args(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;
    int ncols = 0;

    is_int(cnca_db_select(&c->db, p, &rows, &ncols, "t_is_null", 2, NULL, NULL), APR_SUCCESS,
           ON("select with NULL arguments"));
    is_int(ncols, 2, ON("two columns"));
    is_int(rows ? rows->nelts : -1, 1, ON("one row"));
    is_str(cell(rows, 0, 0), "null", ON("a NULL argument is SQL NULL (not '' or '(null)')"));
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[1] == NULL,
       ON("an SQL NULL comes back as a NULL pointer (not '')"));
    cnca_db_select(&c->db, p, &rows, NULL, "t_is_null", 2, "", "");
    is_str(cell(rows, 0, 0), "value", ON("an empty string is a value, not NULL"));
    is_str(cell(rows, 0, 1), "", ON("and comes back empty"));
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[2] == NULL, ON("a row ends with NULL"));
}

/* The pgsql driver reads a select's rows asynchronously unless asked for
 * random access: then an error while running it looks like "no rows" and an
 * empty answer costs a 100 ms sleep. */
static void test_errors_are_errors(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = (apr_array_header_t *)&rows;
    apr_time_t t0;
    int lines = testlib_log_lines;

    is_int(cnca_db_select(&c->db, p, &rows, NULL, "t_divide", 1, "4"), APR_SUCCESS,
           ON("a select that works"));
    is_str(cell(rows, 0, 0), "25", ON("and its answer"));
    /* SQLite answers NULL for a division by zero and keeps any text in an
     * INTEGER column: nothing there fails while it runs */
    if (is_pg(c)) {
        ok(cnca_db_select(&c->db, p, &rows, NULL, "t_divide", 1, "0") != APR_SUCCESS,
           ON("a select that fails while it runs (division by zero) is an error, not 'no rows'"));
        ok(rows == NULL, ON("failed select: no rows"));
        ok(testlib_log_lines > lines &&
               testlib_log_starts("CNCA00133: database query 't_divide' failed: "),
           ON("and a log line naming it"));
        ok(cnca_db_exec(&c->db, p, NULL, "person_insert", 6, "h", "e", "n", "m", "not a number",
                        "1") != APR_SUCCESS,
           ON("a write with a bad integer argument is an error"));
    }

    t0 = apr_time_now();
    is_int(cnca_db_select(&c->db, p, &rows, NULL, "t_nothing", 1, "nobody"), APR_SUCCESS,
           ON("a select with no rows"));
    is_int(rows ? rows->nelts : -1, 0, ON("gives no rows"));
    ok(apr_time_now() - t0 < apr_time_from_msec(90),
       ON(apr_psprintf(p, "and answers at once (%.3f s)",
                       (double)(apr_time_now() - t0) / APR_USEC_PER_SEC)));
}

static void test_person(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = (cnca_person_t *)&person;
    const char *hash = cnca_person_id_hash(p, &key, "31010119900307123X");
    apr_array_header_t *rows = NULL;
    const char *pid;
    int nrows = -1;

    ok(hash && strlen(hash) == 64 && !strstr(hash, "310101"), ON("ID hash: 64 hex, no ID in it"));
    is_str(cnca_person_id_hash(p, &key, "31010119900307123X"), hash, ON("ID hash is stable"));

    is_int(cnca_person_find(&person, &c->db, p, hash), APR_NOTFOUND,
           ON("not there yet: APR_NOTFOUND"));
    ok(person == NULL, ON("not found: no person"));

    is_int(add_person(c, p, "31010119900307123X", "张三", "13812345678"), APR_SUCCESS,
           ON("person_insert"));
    is_int(cnca_person_find(&person, &c->db, p, hash), APR_SUCCESS, ON("found"));
    if (!person) {
        return;
    }
    ok(person->id > 0, ON("found: an id"));
    is_str(person->name, "张三", ON("found: name (UTF-8 both ways)"));
    is_str(person->mobile, "13812345678", ON("found: mobile"));
    ok(person->serial == NULL, ON("no certificate: serial NULL"));

    ok(add_person(c, p, "31010119900307123X", "李四", "13900000000") != APR_SUCCESS,
       ON("a second person with the same ID hash: refused (UNIQUE)"));
    ok(testlib_log_starts("CNCA00132: database statement 'person_insert' failed: ") &&
           !strstr(testlib_log_last, "李四"),
       ON("the failure is logged by label, without the values"));

    pid = cnca_db_int(p, person->id);
    is_int(cnca_db_exec(&c->db, p, &nrows, "person_update_mobile", 3, "13700000000",
                        cnca_db_int(p, NOW + 5), pid),
           APR_SUCCESS, ON("person_update_mobile"));
    is_int(nrows, 1, ON("person_update_mobile: one row changed"));
    is_int(cnca_db_select(&c->db, p, &rows, NULL, "holder_by_id", 1, pid), APR_SUCCESS,
           ON("holder_by_id"));
    is_int(rows ? rows->nelts : -1, 1, ON("holder_by_id: one row"));
    is_str(cell(rows, 0, 1), "13700000000", ON("holder_by_id: the new mobile"));
    is_str(cell(rows, 0, 3), hash, ON("holder_by_id: the ID hash"));
    ok(rows && rows->nelts == 1 && !strstr(cell(rows, 0, 2), "31010119900307123X"),
       ON("holder_by_id: the ID number is stored sealed, not in the clear"));
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[4] == NULL &&
           CNCA_DB_ROW(rows, 0)[9] == NULL,
       ON("holder_by_id: no certificate yet: its columns are NULL"));
    cnca_db_exec(&c->db, p, &nrows, "person_update_mobile", 3, "13700000000", now_s(p), "424242");
    is_int(nrows, 0, ON("person_update_mobile of nobody: no row changed"));
    cnca_person_find(&person, &c->db, p, hash);
    is_str(person ? person->mobile : NULL, "13700000000", ON("the new mobile is found"));
}

static void test_one_valid_certificate(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    const char *hash = cnca_person_id_hash(p, &key, "31010119900307123X");
    apr_array_header_t *rows = NULL;
    const char *pid;
    int nrows = 0;

    if (cnca_person_find(&person, &c->db, p, hash) != APR_SUCCESS) {
        ok(0, ON("the person of test_person"));
        return;
    }
    pid = cnca_db_int(p, person->id);
    is_int(add_cert(c, p, person->id, "1111111111111111"), APR_SUCCESS,
           ON("first valid certificate"));
    cnca_person_find(&person, &c->db, p, hash);
    is_str(person ? person->serial : NULL, "1111111111111111",
           ON("person_by_id_hash: the valid certificate's serial"));
    ok(add_cert(c, p, person->id, "2222222222222222") != APR_SUCCESS,
       ON("a second valid certificate for the same person: refused (partial unique index)"));
    ok(!strstr(testlib_log_last, "SECRETPEM") && !strstr(testlib_log_last, "KEY-ENC-SECRET"),
       ON("the failure's log line holds no certificate or key"));
    cnca_db_select(&c->db, p, &rows, NULL, "t_cert_count", 1, pid);
    is_str(cell(rows, 0, 0), "1", ON("still one certificate"));

    cnca_db_exec(&c->db, p, &nrows, "t_cert_revoke", 1, "1111111111111111");
    is_int(nrows, 1, ON("the first is revoked"));
    is_int(add_cert(c, p, person->id, "3333333333333333"), APR_SUCCESS,
           ON("after a revocation, a new valid certificate"));
    cnca_person_find(&person, &c->db, p, hash);
    is_str(person ? person->serial : NULL, "3333333333333333",
           ON("person_by_id_hash: the valid certificate's serial, one row"));
    is_int(cnca_db_select(&c->db, p, &rows, NULL, "holder_by_id", 1, pid), APR_SUCCESS,
           ON("holder_by_id"));
    is_int(rows ? rows->nelts : -1, 1, ON("holder_by_id: only the valid one"));
    is_str(cell(rows, 0, 4), "3333333333333333", ON("holder_by_id: its serial"));
    is_str(cell(rows, 0, 7), cnca_db_int(p, NOW + 86400 * 365), ON("holder_by_id: not_after"));
    is_str(cell(rows, 0, 8), "valid", ON("holder_by_id: status valid"));

    ok(cnca_db_exec(&c->db, p, NULL, "serial_insert", 4, "3333333333333333", "h", "ec-p256",
                    now_s(p)) != APR_SUCCESS,
       ON("a serial is recorded once only"));
    ok(cnca_db_exec(&c->db, p, NULL, "cert_insert", 8, "424242", "4444444444444444", "ec-p256",
                    now_s(p), now_s(p), "pem", "key", now_s(p)) != APR_SUCCESS,
       ON("a certificate of no person, with no recorded serial: refused (foreign keys)"));
}

static void test_signature(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    apr_array_header_t *rows = NULL;
    const char *pid;

    if (cnca_person_find(&person, &c->db, p, cnca_person_id_hash(p, &key, "31010119900307123X")) !=
        APR_SUCCESS) {
        ok(0, ON("the person of test_person"));
        return;
    }
    pid = cnca_db_int(p, person->id);
    is_int(cnca_db_exec(&c->db, p, NULL, "signature_upsert", 4, pid, "iVBORw0KGgoFIRST",
                        "handwrite", now_s(p)),
           APR_SUCCESS, ON("signature_upsert: insert"));
    cnca_db_select(&c->db, p, &rows, NULL, "signature_get", 1, pid);
    is_str(cell(rows, 0, 0), "iVBORw0KGgoFIRST", ON("signature_get: the first"));
    is_int(cnca_db_exec(&c->db, p, NULL, "signature_upsert", 4, pid, "iVBORw0KGgoSECOND", "photo",
                        cnca_db_int(p, NOW + 1)),
           APR_SUCCESS, ON("signature_upsert: replace (ON CONFLICT ... DO UPDATE)"));
    cnca_db_select(&c->db, p, &rows, NULL, "signature_get", 1, pid);
    is_str(cell(rows, 0, 0), "iVBORw0KGgoSECOND", ON("signature_get: the replacement"));
    cnca_db_select(&c->db, p, &rows, NULL, "t_signature_count", 1, pid);
    is_str(cell(rows, 0, 0), "1", ON("still one signature row"));
    cnca_db_select(&c->db, p, &rows, NULL, "signature_get", 1, "424242");
    is_int(rows ? rows->nelts : -1, 0, ON("signature_get of nobody: no row"));
}

static void test_sms(conn_t *c)
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
        {5, "HASH-B", "10.0.0.1"},   {100000, "HASH-A", "10.0.0.1"}, /* yesterday: outside the
                                                                        window */
    };

    for (i = 0; i < (int)(sizeof(sends) / sizeof(sends[0])); ++i) {
        if (cnca_db_exec(&c->db, p, NULL, "sms_insert", 3, cnca_db_int(p, NOW - sends[i].ago),
                         sends[i].hash, sends[i].client) != APR_SUCCESS) {
            ok(0, ON("sms_insert"));
        }
    }
    is_int(cnca_db_select(&c->db, p, &rows, NULL, "sms_stats_mobile", 4, cnca_db_int(p, NOW - 60),
                          cnca_db_int(p, NOW - 60), "HASH-A", cnca_db_int(p, NOW - 86400)),
           APR_SUCCESS, ON("sms_stats_mobile"));
    is_str(cell(rows, 0, 0), "3", ON("sms_stats_mobile: 3 sends of A in the last day"));
    is_str(cell(rows, 0, 1), cnca_db_int(p, NOW - 100),
           ON("sms_stats_mobile: the first in the day"));
    is_str(cell(rows, 0, 2), cnca_db_int(p, NOW - 10), ON("sms_stats_mobile: the latest send"));
    is_str(cell(rows, 0, 3), "2", ON("sms_stats_mobile: 2 in the last minute"));
    is_str(cell(rows, 0, 4), cnca_db_int(p, NOW - 50), ON("sms_stats_mobile: first in the minute"));
    cnca_db_select(&c->db, p, &rows, NULL, "sms_stats_mobile", 4, cnca_db_int(p, NOW - 3600),
                   cnca_db_int(p, NOW - 3600), "HASH-A", cnca_db_int(p, NOW - 60));
    is_str(cell(rows, 0, 0), "2", ON("sms_stats_mobile: 2 since the later start"));
    is_str(cell(rows, 0, 3), "2",
           ON("sms_stats_mobile: the hour counted among the day's rows only"));
    cnca_db_select(&c->db, p, &rows, NULL, "sms_stats_mobile", 4, cnca_db_int(p, NOW - 3600),
                   cnca_db_int(p, NOW - 3600), "HASH-C", cnca_db_int(p, NOW - 86400));
    is_int(rows ? rows->nelts : -1, 1, ON("sms_stats_mobile for nobody: still one row"));
    is_str(cell(rows, 0, 0), "0", ON("sms_stats_mobile: none for C"));
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[1] == NULL &&
           CNCA_DB_ROW(rows, 0)[2] == NULL,
       ON("sms_stats_mobile: no first or latest send for C (NULL)"));
    is_str(cell(rows, 0, 3), "0", ON("sms_stats_mobile: none for C in the hour"));
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[4] == NULL,
       ON("sms_stats_mobile: no first send in the hour for C (NULL)"));
    is_int(cnca_db_select(&c->db, p, &rows, NULL, "sms_stats_client", 3, "10.0.0.1",
                          cnca_db_int(p, NOW - 86400), "50"),
           APR_SUCCESS, ON("sms_stats_client"));
    is_str(cell(rows, 0, 0), "3", ON("sms_stats_client: 3 from 10.0.0.1 in the last day"));
    is_str(cell(rows, 0, 1), cnca_db_int(p, NOW - 100),
           ON("sms_stats_client: the first in the day"));
    cnca_db_select(&c->db, p, &rows, NULL, "sms_stats_client", 3, "10.0.0.2",
                   cnca_db_int(p, NOW - 10), "50");
    is_str(cell(rows, 0, 0), "0", ON("sms_stats_client: none from 10.0.0.2 in the last 10 s"));
    cnca_db_select(&c->db, p, &rows, NULL, "sms_stats_client", 3, "10.0.0.1",
                   cnca_db_int(p, NOW - 86400), "2");
    is_str(cell(rows, 0, 0), "2", ON("sms_stats_client: counts up to the cap only"));
    is_str(cell(rows, 0, 1), cnca_db_int(p, NOW - 10),
           ON("sms_stats_client: the oldest of the newest two"));

    /* the whole reservation, in its transaction */
    is_int(cnca_sms_reserve(&wait, &reason, &c->db, p, &limits, "HASH-D", "10.0.0.9", NOW),
           APR_SUCCESS, ON("cnca_sms_reserve: a first code"));
    is_int(wait, 0, ON("cnca_sms_reserve: may be sent now"));
    is_int(cnca_sms_reserve(&wait, &reason, &c->db, p, &limits, "HASH-D", "10.0.0.9", NOW + 20),
           APR_SUCCESS, ON("cnca_sms_reserve: a second code 20 s later"));
    is_int(wait, 40, ON("cnca_sms_reserve: refused for the 40 s left of the interval"));
    is_str(reason, "interval", ON("cnca_sms_reserve: by the interval"));
    cnca_db_select(&c->db, p, &rows, NULL, "sms_stats_mobile", 4, cnca_db_int(p, NOW - 3600),
                   cnca_db_int(p, NOW - 3600), "HASH-D", cnca_db_int(p, NOW - 86400));
    is_str(cell(rows, 0, 0), "1", ON("the refused code was not counted"));
    is_int(cnca_sms_reserve(&wait, &reason, &c->db, p, &limits, "HASH-D", "10.0.0.9", NOW + 60),
           APR_SUCCESS, ON("cnca_sms_reserve: 60 s later"));
    is_int(wait, 0, ON("cnca_sms_reserve: allowed again"));
}

static void test_audit(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;
    cnca_audit_t a;
    const char **r;

    memset(&a, 0, sizeof(a));
    a.at = NOW;
    a.event = "session.create";
    a.outcome = "ok";
    is_int(cnca_audit_write(&c->db, p, &a), APR_SUCCESS, ON("audit: minimal line"));

    a.at = NOW + 1;
    a.client = "192.0.2.7";
    a.event = "verify.mobile";
    a.outcome = "fail";
    a.person_id = 5000000000LL;
    a.subject = "f00dfeed";
    a.detail = "mobile=138****5678 reason=carrier";
    is_int(cnca_audit_write(&c->db, p, &a), APR_SUCCESS, ON("audit: full line"));

    cnca_db_select(&c->db, p, &rows, NULL, "t_audit_all", 0);
    is_int(rows ? rows->nelts : -1, 2, ON("two audit rows"));
    if (!rows || rows->nelts != 2) {
        return;
    }
    r = CNCA_DB_ROW(rows, 0);
    is_str(r[0], cnca_db_int(p, NOW), ON("minimal: at"));
    is_str(r[1], "-", ON("minimal: no client is '-'"));
    is_str(r[2], "session.create", ON("minimal: event"));
    is_str(r[3], "ok", ON("minimal: outcome"));
    ok(r[4] == NULL && r[5] == NULL && r[6] == NULL,
       ON("minimal: person_id, subject and detail are NULL"));
    r = CNCA_DB_ROW(rows, 1);
    is_str(r[1], "192.0.2.7", ON("full: client"));
    is_str(r[2], "verify.mobile", ON("full: event"));
    is_str(r[3], "fail", ON("full: outcome"));
    is_str(r[4], "5000000000", ON("full: person_id past 32 bits"));
    is_str(r[5], "f00dfeed", ON("full: subject"));
    is_str(r[6], "mobile=138****5678 reason=carrier", ON("full: detail"));
}

static void test_transactions(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    const char *h1 = cnca_person_id_hash(p, &key, "440101199001011231");
    const char *h2 = cnca_person_id_hash(p, &key, "440101199001011258");

    is_int(cnca_db_begin(&c->db, p), APR_SUCCESS, ON("begin"));
    is_int(add_person(c, p, "440101199001011231", "赵六", "13800000001"), APR_SUCCESS,
           ON("insert in the transaction"));
    is_int(cnca_person_find(&person, &c->db, p, h1), APR_SUCCESS,
           ON("seen inside the transaction"));
    if (!is_pg(c)) { /* PostgreSQL only warns */
        ok(cnca_db_begin(&c->db, p) != APR_SUCCESS, ON("begin inside a transaction: an error"));
    }
    cnca_db_rollback(&c->db, p);
    is_int(cnca_person_find(&person, &c->db, p, h1), APR_NOTFOUND, ON("rolled back: gone"));

    is_int(cnca_db_begin(&c->db, p), APR_SUCCESS, ON("begin again"));
    add_person(c, p, "440101199001011231", "赵六", "13800000001");
    is_int(cnca_db_commit(&c->db, p), APR_SUCCESS, ON("commit"));
    is_int(cnca_person_find(&person, &c->db, p, h1), APR_SUCCESS, ON("committed: there"));
    if (!is_pg(c)) { /* PostgreSQL only warns */
        ok(cnca_db_commit(&c->db, p) != APR_SUCCESS, ON("commit without a transaction: an error"));
    }

    /* a failure inside takes the whole transaction back (PostgreSQL: after
     * a failed statement the transaction takes nothing more but ROLLBACK,
     * so every failure path must roll back) */
    is_int(cnca_db_begin(&c->db, p), APR_SUCCESS, ON("begin a transaction that fails"));
    is_int(add_person(c, p, "440101199001011258", "钱七", "13800000002"), APR_SUCCESS,
           ON("first insert of a transaction"));
    ok(add_person(c, p, "440101199001011231", "赵六", "13800000001") != APR_SUCCESS,
       ON("second insert fails (duplicate)"));
    if (is_pg(c)) {
        ok(cnca_person_find(&person, &c->db, p, h1) != APR_SUCCESS,
           ON("after a failure, the transaction refuses even a select"));
    }
    cnca_db_rollback(&c->db, p);
    is_int(cnca_person_find(&person, &c->db, p, h2), APR_NOTFOUND,
           ON("rollback after a failure: the first insert is gone too"));
    is_int(cnca_person_find(&person, &c->db, p, h1), APR_SUCCESS,
           ON("the connection is usable after the failed transaction"));

    cnca_db_begin(&c->db, p);
    add_person(c, p, "440101199001011231", "赵六", "13800000001");
    cnca_db_rollback(&c->db, p);
    is_int(cnca_db_begin(&c->db, p), APR_SUCCESS, ON("begin after a rollback"));
    cnca_db_rollback(&c->db, p);
}

/* Two connections, as two httpd children (or two servers of a farm) have:
 * the second writer's begin waits until the first commits (SQLite: BEGIN
 * IMMEDIATE; PostgreSQL: the advisory lock), so a check-then-write cannot
 * interleave, and nothing fails or deadlocks. */
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

static void test_two_writers(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    apr_thread_t *thread;
    apr_status_t trv;
    writer_t w;

    memset(&w, 0, sizeof(w));
    apr_pool_create_unmanaged_ex(&w.pool, NULL, NULL);
    if (!conn_open(c, &w.db, w.pool) ||
        testlib_db_prepare(&w.db, w.pool, cnca_db_statements, NULL) != 0) {
        ok(0, ON("a second connection"));
        if (w.db.handle) {
            apr_dbd_close(w.db.driver, w.db.handle);
        }
        apr_pool_destroy(w.pool);
        return;
    }

    is_int(cnca_db_begin(&c->db, p), APR_SUCCESS, ON("first writer begins"));
    add_person(c, p, "first-writer", "周九", "13800000003");
    if (apr_thread_create(&thread, NULL, second_writer, &w, p) != APR_SUCCESS) {
        ok(0, ON("second writer thread"));
        cnca_db_rollback(&c->db, p);
        apr_dbd_close(w.db.driver, w.db.handle);
        apr_pool_destroy(w.pool);
        return;
    }
    apr_sleep(apr_time_from_msec(300));
    is_int(cnca_db_commit(&c->db, p), APR_SUCCESS, ON("first writer commits"));
    apr_thread_join(&trv, thread);
    is_int(w.begin_rv, APR_SUCCESS, ON("second writer's begin succeeds once the first commits"));
    ok(w.waited >= apr_time_from_msec(200),
       ON(apr_psprintf(p, "second writer's begin waited for the first to commit (%.2f s)",
                       (double)w.waited / APR_USEC_PER_SEC)));
    is_int(w.insert_rv, APR_SUCCESS, ON("second writer inserts"));
    is_int(w.commit_rv, APR_SUCCESS, ON("second writer commits"));
    is_int(cnca_person_find(&person, &c->db, p, cnca_person_id_hash(p, &key, "first-writer")),
           APR_SUCCESS, ON("the first writer's row is there"));
    is_int(cnca_person_find(&person, &c->db, p, cnca_person_id_hash(p, &key, "second-writer")),
           APR_SUCCESS, ON("the second writer's row is there"));
    apr_dbd_close(w.db.driver, w.db.handle);
    apr_pool_destroy(w.pool);
}

/* The write lock: taken by begin, held until commit or rollback, taken
 * around a write outside a transaction and never around a read, released
 * on every failure path. A counting lock over a thread mutex. */
typedef struct {
    apr_thread_mutex_t *mutex;
    int held, taken, fail;
    apr_interval_time_t slow; /* held at least this long */
} test_lock_t;

static apr_status_t test_acquire(void *baton)
{
    test_lock_t *l = baton;

    if (l->fail) {
        return APR_EGENERAL;
    }
    apr_thread_mutex_lock(l->mutex);
    ++l->held;
    ++l->taken;
    if (l->slow) {
        apr_sleep(l->slow);
    }
    return APR_SUCCESS;
}

static void test_release(void *baton)
{
    test_lock_t *l = baton;

    --l->held;
    apr_thread_mutex_unlock(l->mutex);
}

static void test_write_lock(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    test_lock_t tl = {NULL, 0, 0, 0, 0};
    cnca_db_lock_t lock = {test_acquire, test_release, &tl};
    cnca_person_t *person = NULL;
    apr_array_header_t *rows;

    apr_thread_mutex_create(&tl.mutex, APR_THREAD_MUTEX_DEFAULT, p);
    c->db.lock = &lock;

    is_int(cnca_db_begin(&c->db, p), APR_SUCCESS, ON("lock: begin"));
    is_int(tl.held, 1, ON("lock: held inside the transaction"));
    add_person(c, p, "lock-one", "吴十", "13800000005");
    cnca_person_find(&person, &c->db, p, cnca_person_id_hash(p, &key, "lock-one"));
    is_int(tl.taken, 1, ON("lock: statements inside take it no more"));
    is_int(cnca_db_commit(&c->db, p), APR_SUCCESS, ON("lock: commit"));
    is_int(tl.held, 0, ON("lock: released by commit"));

    cnca_db_begin(&c->db, p);
    cnca_db_rollback(&c->db, p);
    is_int(tl.held, 0, ON("lock: released by rollback"));
    cnca_db_rollback(&c->db, p);
    is_int(tl.held, 0, ON("lock: a second rollback releases nothing more"));

    tl.taken = 0;
    is_int(cnca_db_exec(&c->db, p, NULL, "audit_insert", 7, now_s(p), "127.0.0.1", "lock", "ok",
                        NULL, NULL, NULL),
           APR_SUCCESS, ON("lock: a write outside a transaction"));
    is_int(tl.taken, 1, ON("lock: taken around it"));
    is_int(tl.held, 0, ON("lock: and released"));
    cnca_db_select(&c->db, p, &rows, NULL, "person_by_id_hash", 1, "nobody");
    is_int(tl.taken, 1, ON("lock: a read does not take it"));
    ok(add_person(c, p, "lock-one", "吴十", "13800000005") != APR_SUCCESS,
       ON("lock: a failing write outside a transaction"));
    is_int(tl.held, 0, ON("lock: released after the failure"));

    /* a COMMIT that fails (PostgreSQL: the transaction failed earlier;
     * SQLite: a deferred constraint) still ends the transaction and frees
     * the lock */
    cnca_db_begin(&c->db, p);
    add_person(c, p, "lock-one", "吴十", "13800000005");
    cnca_db_commit(&c->db, p);
    is_int(tl.held, 0, ON("lock: released by a commit after a failed statement"));
    is_int(cnca_db_begin(&c->db, p), APR_SUCCESS, ON("lock: the connection begins again"));
    cnca_db_rollback(&c->db, p);

    tl.fail = 1;
    ok(cnca_db_begin(&c->db, p) != APR_SUCCESS,
       ON("lock: begin fails when the lock cannot be had"));
    ok(cnca_db_exec(&c->db, p, NULL, "audit_insert", 7, now_s(p), "127.0.0.1", "lock", "ok", NULL,
                    NULL, NULL) != APR_SUCCESS,
       ON("lock: so does a write"));
    is_int(tl.held, 0, ON("lock: nothing held"));
    ok(cnca_db_commit(&c->db, p) != APR_SUCCESS, ON("lock: and no transaction is open"));
    tl.fail = 0;
    c->db.lock = NULL;
}

/* Group commit: threads of one process, each on its own connection, write
 * audit rows at the same moment; while one writes (the lock is slow here),
 * the others queue, and the next writer takes all of them in one
 * transaction. Every row is committed once, a bad row fails alone. */
#define QUEUE_THREADS 8

typedef struct {
    cnca_db_t db;
    apr_pool_t *pool;
    cnca_audit_queue_t *queue;
    cnca_audit_t row;
    apr_status_t rv;
} queuer_t;

static void *APR_THREAD_FUNC queue_one(apr_thread_t *thread, void *data)
{
    queuer_t *w = data;

    apr_sleep(apr_time_from_msec(20)); /* all threads are started by then */
    w->rv = cnca_audit_queue_write(w->queue, &w->db, w->pool, &w->row);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static int count_event(conn_t *c, apr_pool_t *p, const char *event)
{
    apr_array_header_t *rows = NULL;
    int i, n = 0;

    if (cnca_db_select(&c->db, p, &rows, NULL, "t_audit_all", 0) != APR_SUCCESS) {
        return -1;
    }
    for (i = 0; i < rows->nelts; ++i) {
        n += CNCA_DB_ROW(rows, i)[2] && !strcmp(CNCA_DB_ROW(rows, i)[2], event);
    }
    return n;
}

/* nthreads rows at once, row bad (event NULL) for thread `bad` (-1: none);
 * the lock's acquisitions in *ptaken. 0 when the threads could not run. */
static int queue_round(conn_t *c, cnca_audit_queue_t *q, test_lock_t *tl, cnca_db_lock_t *lock,
                       const char *event, int nthreads, int bad, apr_status_t *rvs, int *ptaken)
{
    apr_pool_t *p = tap_pool();
    queuer_t w[QUEUE_THREADS];
    apr_thread_t *threads[QUEUE_THREADS];
    apr_status_t trv;
    int i, started = 0;

    memset(w, 0, sizeof(w));
    tl->taken = 0;
    for (i = 0; i < nthreads; ++i) {
        apr_pool_create_unmanaged_ex(&w[i].pool, NULL, NULL);
        if (!conn_open(c, &w[i].db, w[i].pool) ||
            testlib_db_prepare(&w[i].db, w[i].pool, cnca_db_statements, NULL) != 0) {
            break;
        }
        w[i].db.lock = lock;
        w[i].queue = q;
        w[i].row.at = NOW;
        w[i].row.client = "192.0.2.9";
        w[i].row.event = i == bad ? NULL : event;
        w[i].row.outcome = "ok";
        w[i].row.detail = apr_psprintf(w[i].pool, "thread=%d", i);
        if (apr_thread_create(&threads[i], NULL, queue_one, &w[i], p) != APR_SUCCESS) {
            break;
        }
        ++started;
    }
    for (i = 0; i < started; ++i) {
        apr_thread_join(&trv, threads[i]);
        rvs[i] = w[i].rv;
    }
    for (i = 0; i < nthreads; ++i) {
        if (w[i].db.handle) {
            apr_dbd_close(w[i].db.driver, w[i].db.handle);
        }
        if (w[i].pool) {
            apr_pool_destroy(w[i].pool);
        }
    }
    *ptaken = tl->taken;
    return started == nthreads;
}

static void test_audit_queue(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    test_lock_t tl = {NULL, 0, 0, 0, apr_time_from_msec(30)};
    cnca_db_lock_t lock = {test_acquire, test_release, &tl};
    cnca_audit_queue_t *q = NULL;
    apr_status_t rvs[QUEUE_THREADS];
    cnca_audit_t a;
    int i, taken = 0, all_ok = 1;

    apr_thread_mutex_create(&tl.mutex, APR_THREAD_MUTEX_DEFAULT, p);
    is_int(cnca_audit_queue_create(&q, p), APR_SUCCESS, ON("queue: created"));
    if (!q || !queue_round(c, q, &tl, &lock, "queue.all", QUEUE_THREADS, -1, rvs, &taken)) {
        ok(0, ON("queue: threads and connections"));
        return;
    }
    for (i = 0; i < QUEUE_THREADS; ++i) {
        all_ok = all_ok && rvs[i] == APR_SUCCESS;
    }
    ok(all_ok, ON("queue: every writer is told its row is committed"));
    is_int(count_event(c, p, "queue.all"), QUEUE_THREADS, ON("queue: every row is there, once"));
    ok(taken >= 1 && taken < QUEUE_THREADS,
       ON(apr_psprintf(p,
                       "queue: %d rows in %d writes (rows queued while one was written go "
                       "together)",
                       QUEUE_THREADS, taken)));
    is_int(tl.held, 0, ON("queue: the write lock is free afterwards"));

    if (!queue_round(c, q, &tl, &lock, "queue.bad", 4, 2, rvs, &taken)) {
        ok(0, ON("queue: threads and connections, second round"));
        return;
    }
    ok(rvs[2] != APR_SUCCESS, ON("queue: a bad row (no event) fails"));
    ok(rvs[0] == APR_SUCCESS && rvs[1] == APR_SUCCESS && rvs[3] == APR_SUCCESS,
       ON("queue: the good rows queued with it succeed"));
    is_int(count_event(c, p, "queue.bad"), 3, ON("queue: and are there"));

    memset(&a, 0, sizeof(a));
    a.at = NOW;
    a.event = "queue.none";
    a.outcome = "ok";
    is_int(cnca_audit_queue_write(NULL, &c->db, p, &a), APR_SUCCESS,
           ON("queue: without a queue, the row is written directly"));
    is_int(count_event(c, p, "queue.none"), 1, ON("queue: and is there"));

    /* in a transaction: the row is the transaction's, never queued */
    a.event = "queue.txn";
    c->db.lock = &lock;
    cnca_db_begin(&c->db, p);
    is_int(cnca_audit_queue_write(q, &c->db, p, &a), APR_SUCCESS,
           ON("queue: in a transaction, the row is written there"));
    is_int(tl.held, 1, ON("queue: in a transaction, the write lock stays the transaction's"));
    cnca_db_rollback(&c->db, p);
    c->db.lock = NULL;
    is_int(count_event(c, p, "queue.txn"), 0, ON("queue: and goes with its rollback"));
    is_int(tl.held, 0, ON("queue: the write lock is free after the rollback"));
}

static void test_misuse(conn_t *c)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = (apr_array_header_t *)&rows;
    cnca_db_t none;
    int lines = testlib_log_lines;

    is_int(cnca_db_exec(&c->db, p, NULL, "no_such_label", 0), APR_EGENERAL,
           ON("exec of an unknown label: APR_EGENERAL"));
    ok(testlib_log_lines > lines, ON("exec of an unknown label: logged"));
    is_str(testlib_log_last,
           "CNCA00131: no prepared statement 'no_such_label' (is mod_dbd configured?)",
           ON("and the log line names it"));
    is_int(cnca_db_select(&c->db, p, &rows, NULL, "no_such_label", 0), APR_EGENERAL,
           ON("select of an unknown label: APR_EGENERAL"));
    ok(rows == NULL, ON("failed select: no rows"));
    is_int(cnca_db_exec(&c->db, p, NULL, "signature_get", 17, "1"), APR_EINVAL,
           ON("more than 16 arguments: APR_EINVAL"));
    memset(&none, 0, sizeof(none));
    none.driver = c->db.driver;
    none.handle = c->db.handle;
    is_int(cnca_db_exec(&none, p, NULL, "audit_insert", 0), APR_EGENERAL,
           ON("no prepared statements at all (mod_dbd not set up): APR_EGENERAL"));
    ok(cnca_db_error(&c->db, 1) != NULL, ON("cnca_db_error gives a text"));
}

static void test_all(conn_t *c)
{
    test_null_args(c);
    test_errors_are_errors(c);
    test_person(c);
    test_one_valid_certificate(c);
    test_signature(c);
    test_sms(c);
    test_audit(c);
    test_transactions(c);
    test_two_writers(c);
    test_write_lock(c);
    test_audit_queue(c);
    test_misuse(c);
}

int main(int argc, char **argv)
{
    apr_pool_t *p = tap_pool();
    const char *params = getenv("CNCA_PG_PARAMS");
    conn_t lite, pg;
    int rc;

    (void)argc;
    memset(&pg, 0, sizeof(pg));
    cnca_log_set_sink(testlib_log_sink, NULL);
    if (cnca_random(key.bytes, sizeof(key.bytes)) != APR_SUCCESS) {
        printf("Bail out! no randomness\n");
        return 1;
    }
    if (apr_dbd_init(p) != APR_SUCCESS) {
        printf("Bail out! apr_dbd_init failed\n");
        return 1;
    }
    test_db_int();
    test_labels();

    tap_diag("SQLite, in a file of its own");
    if ((rc = sqlite_setup(&lite, p, argv[0])) > 0) {
        test_all(&lite);
    } else if (rc == 0) {
        printf("ok %d # skip SQLite: APR DBD has no sqlite3 driver (Debian: "
               "libaprutil1-dbd-sqlite3)\n",
               ++tap_count);
    }

    if (!params || !*params) {
        printf("ok %d # skip PostgreSQL: CNCA_PG_PARAMS is not set (tools/test.sh starts a "
               "throwaway cluster and sets it)\n",
               ++tap_count);
    } else {
        tap_diag("PostgreSQL, in a schema of its own");
        if (pg_setup(&pg, p, argv[0], params)) {
            test_same_schema(&lite, &pg);
            test_all(&pg);
        }
    }
    conn_close(&pg, p);
    conn_close(&lite, p);
    return tap_done();
}
