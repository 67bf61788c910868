/* Unit tests for cnca_db.c, cnca_db_sql.c, cnca_person.c and cnca_audit.c
 * against a real SQLite database through APR DBD, as mod_dbd hands it out:
 * the schema of sql/schema.sqlite.sql, every statement of
 * cnca_db_statements prepared (a typo there would otherwise show only at
 * httpd start), SQL NULLs both ways, persons with and without a
 * certificate, one valid certificate per person, the signature upsert, SMS
 * counting, the audit trail and transactions. */
#include <fcntl.h>
#include <libgen.h>
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
    {"t_signature_count", "SELECT COUNT(*) FROM signatures WHERE person_id = %s"},
    {"t_cert_revoke", "UPDATE certificates SET status = 'revoked' WHERE serial = %s"},
    {"t_cert_count", "SELECT COUNT(*) FROM certificates WHERE person_id = %s"},
    {"t_is_null", "SELECT CASE WHEN %s IS NULL THEN 'null' ELSE 'value' END, %s"},
    {NULL, NULL},
};

static char db_path[64];
static cnca_db_t db;
static cnca_key_t key;

/* ---- setting up: database, schema, statements ---- */

static const char *schema_path(apr_pool_t *p, const char *argv0)
{
    const char *here = "sql/schema.sqlite.sql";
    char *dir;

    if (access(here, R_OK) == 0) {
        return here;
    }
    dir = dirname(apr_pstrdup(p, argv0)); /* build/unit */
    return apr_pstrcat(p, dir, "/../../sql/schema.sqlite.sql", NULL);
}

/* Runs each statement of an SQL file: splits at ';' outside quotes and
 * '--' comments (a comment may hold a ';'). */
static int run_sql_file(apr_pool_t *p, const char *path, int *pcount)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    char *text, *s, *stmt;
    int in_quote = 0, failed = 0;

    *pcount = 0;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return -1;
    }
    len = (apr_size_t)fi.size;
    text = apr_palloc(p, len + 1);
    apr_file_read_full(f, text, len, &len);
    text[len] = '\0';
    apr_file_close(f);

    /* blank out comments, keeping the offsets */
    for (s = text; *s; ++s) {
        if (*s == '\'') {
            in_quote = !in_quote;
        } else if (!in_quote && s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n') {
                *s++ = ' ';
            }
            if (!*s) {
                break;
            }
        }
    }
    in_quote = 0;
    for (stmt = s = text; *s; ++s) {
        if (*s == '\'') {
            in_quote = !in_quote;
        }
        if (*s == ';' && !in_quote) {
            const char *q;
            int nrows = 0, rc;
            *s = '\0';
            for (q = stmt; *q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'; ++q)
                ;
            if (*q) {
                if (!strncasecmp(q, "PRAGMA", 6)) {
                    apr_dbd_results_t *res = NULL;
                    apr_dbd_row_t *row = NULL;
                    rc = apr_dbd_select(db.driver, p, db.handle, &res, q, 0);
                    while (rc == 0 && apr_dbd_get_row(db.driver, p, res, &row, -1) == 0)
                        ;
                } else {
                    rc = apr_dbd_query(db.driver, db.handle, &nrows, q);
                }
                if (rc != 0) {
                    printf("#   schema statement failed: %s\n#   %s\n", q,
                           apr_dbd_error(db.driver, db.handle, rc));
                    ++failed;
                }
                ++*pcount;
            }
            stmt = s + 1;
        }
    }
    return failed;
}

static int prepare_all(apr_pool_t *p, const cnca_db_stmt_t *list, int report)
{
    const cnca_db_stmt_t *st;
    int failed = 0;

    for (st = list; st->label; ++st) {
        apr_dbd_prepared_t *prep = NULL;
        int rc = apr_dbd_prepare(db.driver, p, db.handle, st->sql, st->label, &prep);
        if (report) {
            ok(rc == 0 && prep, apr_psprintf(p, "statement '%s' prepares", st->label));
        }
        if (rc != 0 || !prep) {
            printf("#   %s: %s\n", st->label, apr_dbd_error(db.driver, db.handle, rc));
            ++failed;
            continue;
        }
        apr_hash_set(db.prepared, st->label, APR_HASH_KEY_STRING, prep);
    }
    return failed;
}

static int setup(apr_pool_t *p, const char *argv0)
{
    const char *err = NULL, *schema = schema_path(p, argv0);
    int fd, n = 0, labels = 0;
    const cnca_db_stmt_t *st;

    snprintf(db_path, sizeof(db_path), "/tmp/cnca-test-db-XXXXXX");
    if ((fd = mkstemp(db_path)) < 0) {
        printf("Bail out! no temporary file\n");
        return 0;
    }
    close(fd);
    if (apr_dbd_init(p) != APR_SUCCESS ||
        apr_dbd_get_driver(p, "sqlite3", &db.driver) != APR_SUCCESS) {
        printf("1..0 # SKIP APR DBD has no sqlite3 driver\n");
        unlink(db_path);
        exit(0);
    }
    if (apr_dbd_open_ex(db.driver, p, db_path, &db.handle, &err) != APR_SUCCESS) {
        printf("Bail out! cannot open %s: %s\n", db_path, err ? err : "?");
        return 0;
    }
    db.prepared = apr_hash_make(p);

    is_int(run_sql_file(p, schema, &n), 0, apr_psprintf(p, "%s runs without error", schema));
    ok(n >= 10, apr_psprintf(p, "the schema has its statements (%d)", n));

    for (st = cnca_db_statements; st->label; ++st) {
        ok(apr_hash_get(db.prepared, st->label, APR_HASH_KEY_STRING) == NULL,
           apr_psprintf(p, "label '%s' appears once", st->label));
        apr_hash_set(db.prepared, st->label, APR_HASH_KEY_STRING, st);
        ++labels;
    }
    db.prepared = apr_hash_make(p);
    ok(labels >= 13, apr_psprintf(p, "cnca_db_statements lists %d statements", labels));
    is_int(prepare_all(p, cnca_db_statements, 1), 0,
           "every statement of cnca_db_statements prepares");
    is_int(prepare_all(p, test_statements, 0), 0, "the tests' own statements prepare");
    return 1;
}

static void teardown(apr_pool_t *p)
{
    (void)p;
    if (db.handle) {
        apr_dbd_close(db.driver, db.handle);
        db.handle = NULL;
    }
    unlink(db_path);
    unlink(apr_pstrcat(p, db_path, "-wal", NULL));
    unlink(apr_pstrcat(p, db_path, "-shm", NULL));
    unlink(apr_pstrcat(p, db_path, "-journal", NULL));
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
                        "-----BEGIN CERTIFICATE-----SECRETPEM", "KEY-ENC-SECRET", now_s(p));
}

static const char *cell(apr_array_header_t *rows, int r, int c)
{
    return rows && r < rows->nelts ? CNCA_DB_ROW(rows, r)[c] : "(no row)";
}

/* ---- tests ---- */

static void test_db_int(void)
{
    apr_pool_t *p = tap_pool();

    is_str(cnca_db_int(p, 0), "0", "cnca_db_int 0");
    is_str(cnca_db_int(p, -42), "-42", "cnca_db_int -42");
    is_str(cnca_db_int(p, APR_INT64_C(9223372036854775807)), "9223372036854775807",
           "cnca_db_int INT64_MAX");
    is_str(cnca_db_int(p, APR_INT64_C(5000000000)), "5000000000", "cnca_db_int 5000000000");
}

static void test_null_args(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;
    int ncols = 0;

    is_int(cnca_db_select(&db, p, &rows, &ncols, "t_is_null", 2, NULL, NULL), APR_SUCCESS,
           "select with NULL arguments");
    is_int(ncols, 2, "two columns");
    is_int(rows ? rows->nelts : -1, 1, "one row");
    is_str(cell(rows, 0, 0), "null", "a NULL argument is SQL NULL (not '' or '(null)')");
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[1] == NULL,
       "an SQL NULL comes back as a NULL pointer");
    cnca_db_select(&db, p, &rows, NULL, "t_is_null", 2, "", "");
    is_str(cell(rows, 0, 0), "value", "an empty string is a value, not NULL");
    is_str(cell(rows, 0, 1), "", "and comes back empty");
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[2] == NULL, "a row ends with NULL");
}

static void test_person(void)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = (cnca_person_t *)&person;
    const char *hash = cnca_person_id_hash(p, &key, "31010119900307123X");
    apr_array_header_t *rows = NULL;
    int nrows = -1;

    ok(hash && strlen(hash) == 64 && !strstr(hash, "310101"), "ID hash: 64 hex, no ID in it");
    is_str(cnca_person_id_hash(p, &key, "31010119900307123X"), hash, "ID hash is stable");

    is_int(cnca_person_find(&person, &db, p, hash), APR_NOTFOUND, "not there yet: APR_NOTFOUND");
    ok(person == NULL, "not found: no person");

    is_int(add_person(p, "31010119900307123X", "张三", "13812345678"), APR_SUCCESS,
           "person_insert");
    is_int(cnca_person_find(&person, &db, p, hash), APR_SUCCESS, "found");
    if (!person) {
        return;
    }
    ok(person->id > 0, "found: an id");
    is_str(person->name, "张三", "found: name");
    is_str(person->mobile, "13812345678", "found: mobile");
    ok(person->serial == NULL, "no certificate: serial NULL");

    ok(add_person(p, "31010119900307123X", "李四", "13900000000") != APR_SUCCESS,
       "a second person with the same ID hash: refused (UNIQUE)");
    ok(strstr(log_last, "person_insert") && !strstr(log_last, "李四"),
       "the failure is logged by label, without the values");

    cnca_db_select(&db, p, &rows, NULL, "person_by_id", 1, cnca_db_int(p, person->id));
    is_int(rows ? rows->nelts : -1, 1, "person_by_id: one row");
    is_str(cell(rows, 0, 4), hash, "person_by_id: the ID hash");
    ok(rows && rows->nelts && !strstr(cell(rows, 0, 3), "31010119900307123X"),
       "person_by_id: the ID number is stored sealed, not in the clear");

    is_int(cnca_db_exec(&db, p, &nrows, "person_update_mobile", 3, "13700000000", now_s(p),
                        cnca_db_int(p, person->id)),
           APR_SUCCESS, "person_update_mobile");
    is_int(nrows, 1, "person_update_mobile: one row changed");
    cnca_db_exec(&db, p, &nrows, "person_update_mobile", 3, "13700000000", now_s(p), "999999");
    is_int(nrows, 0, "person_update_mobile of nobody: no row changed");
    cnca_person_find(&person, &db, p, hash);
    is_str(person ? person->mobile : NULL, "13700000000", "the new mobile is found");

    is_int(add_cert(p, person->id, "0A1B2C3D4E5F6071"), APR_SUCCESS, "a certificate");
    cnca_person_find(&person, &db, p, hash);
    is_str(person ? person->serial : NULL, "0A1B2C3D4E5F6071", "with a certificate: its serial");
}

static void test_one_valid_certificate(void)
{
    apr_pool_t *p = tap_pool();
    cnca_person_t *person = NULL;
    const char *hash = cnca_person_id_hash(p, &key, "110101199001011237");
    apr_array_header_t *rows = NULL;
    const char *pid;
    int nrows = 0;

    add_person(p, "110101199001011237", "王五", "13811112222");
    cnca_person_find(&person, &db, p, hash);
    if (!person) {
        ok(0, "a person for the certificate tests");
        return;
    }
    pid = cnca_db_int(p, person->id);
    is_int(add_cert(p, person->id, "1111111111111111"), APR_SUCCESS, "first valid certificate");
    ok(add_cert(p, person->id, "2222222222222222") != APR_SUCCESS,
       "a second valid certificate for the same person: refused");
    ok(!strstr(log_last, "SECRETPEM") && !strstr(log_last, "KEY-ENC-SECRET"),
       "the failure's log line holds no certificate or key");
    cnca_db_select(&db, p, &rows, NULL, "t_cert_count", 1, pid);
    is_str(cell(rows, 0, 0), "1", "still one certificate");

    cnca_db_exec(&db, p, &nrows, "t_cert_revoke", 1, "1111111111111111");
    is_int(nrows, 1, "the first is revoked");
    is_int(add_cert(p, person->id, "3333333333333333"), APR_SUCCESS,
           "after a revocation, a new valid certificate");
    cnca_person_find(&person, &db, p, hash);
    is_str(person ? person->serial : NULL, "3333333333333333",
           "person_by_id_hash: the valid certificate's serial, one row");
    cnca_db_select(&db, p, &rows, NULL, "cert_by_person", 1, pid);
    is_int(rows ? rows->nelts : -1, 1, "cert_by_person: only the valid one");
    is_str(cell(rows, 0, 0), "3333333333333333", "cert_by_person: its serial");
    is_str(cell(rows, 0, 4), "valid", "cert_by_person: status valid");

    ok(cnca_db_exec(&db, p, NULL, "serial_insert", 4, "3333333333333333", "h", "ec-p256",
                    now_s(p)) != APR_SUCCESS,
       "a serial is recorded once only");
}

static void test_signature(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;

    is_int(cnca_db_exec(&db, p, NULL, "signature_upsert", 4, "1", "iVBORw0KGgoFIRST", "handwrite",
                        now_s(p)),
           APR_SUCCESS, "signature_upsert: insert");
    cnca_db_select(&db, p, &rows, NULL, "signature_get", 1, "1");
    is_str(cell(rows, 0, 0), "iVBORw0KGgoFIRST", "signature_get: the first");
    is_int(cnca_db_exec(&db, p, NULL, "signature_upsert", 4, "1", "iVBORw0KGgoSECOND", "photo",
                        cnca_db_int(p, NOW + 1)),
           APR_SUCCESS, "signature_upsert: replace");
    cnca_db_select(&db, p, &rows, NULL, "signature_get", 1, "1");
    is_str(cell(rows, 0, 0), "iVBORw0KGgoSECOND", "signature_get: the replacement");
    cnca_db_select(&db, p, &rows, NULL, "t_signature_count", 1, "1");
    is_str(cell(rows, 0, 0), "1", "still one signature row");
    cnca_db_select(&db, p, &rows, NULL, "signature_get", 1, "424242");
    is_int(rows ? rows->nelts : -1, 0, "signature_get of nobody: no row");
}

static void test_sms_stats(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = NULL;
    int i;
    static const struct {
        int ago;
        const char *hash, *client;
    } sends[] = {
        {100, "HASH-A", "10.0.0.1"}, {50, "HASH-A", "10.0.0.2"},     {10, "HASH-A", "10.0.0.1"},
        {5, "HASH-B", "10.0.0.1"},   {100000, "HASH-A", "10.0.0.1"}, /* yesterday: outside the
                                                                        window */
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
    cnca_db_select(&db, p, &rows, NULL, "sms_stats_mobile", 2, "HASH-A", cnca_db_int(p, NOW - 60));
    is_str(cell(rows, 0, 0), "2", "sms_stats_mobile: 2 in the last minute");
    is_str(cell(rows, 0, 1), cnca_db_int(p, NOW - 50), "sms_stats_mobile: first in the minute");
    cnca_db_select(&db, p, &rows, NULL, "sms_stats_mobile", 2, "HASH-C",
                   cnca_db_int(p, NOW - 86400));
    is_int(rows ? rows->nelts : -1, 1, "sms_stats_mobile for nobody: still one row");
    is_str(cell(rows, 0, 0), "0", "sms_stats_mobile: none for C");
    ok(rows && rows->nelts == 1 && CNCA_DB_ROW(rows, 0)[1] == NULL &&
           CNCA_DB_ROW(rows, 0)[2] == NULL,
       "sms_stats_mobile: no first or latest send for C (NULL)");
    is_int(cnca_db_select(&db, p, &rows, NULL, "sms_stats_client", 2, "10.0.0.1",
                          cnca_db_int(p, NOW - 86400)),
           APR_SUCCESS, "sms_stats_client");
    is_str(cell(rows, 0, 0), "3", "sms_stats_client: 3 from 10.0.0.1 in the last day");
    is_str(cell(rows, 0, 1), cnca_db_int(p, NOW - 100), "sms_stats_client: the first in the day");
    cnca_db_select(&db, p, &rows, NULL, "sms_stats_client", 2, "10.0.0.2",
                   cnca_db_int(p, NOW - 10));
    is_str(cell(rows, 0, 0), "0", "sms_stats_client: none from 10.0.0.2 in the last 10 s");
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
    is_str(r[2], "session.create", "minimal: event");
    is_str(r[3], "ok", "minimal: outcome");
    ok(r[4] == NULL && r[5] == NULL && r[6] == NULL,
       "minimal: person_id, subject and detail are NULL");
    r = CNCA_DB_ROW(rows, 1);
    is_str(r[1], "192.0.2.7", "full: client");
    is_str(r[2], "verify.mobile", "full: event");
    is_str(r[3], "fail", "full: outcome");
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
    ok(cnca_db_begin(&db, p) != APR_SUCCESS, "begin inside a transaction: an error");
    cnca_db_rollback(&db, p);
    is_int(cnca_person_find(&person, &db, p, h1), APR_NOTFOUND, "rolled back: gone");

    is_int(cnca_db_begin(&db, p), APR_SUCCESS, "begin again");
    add_person(p, "440101199001011231", "赵六", "13800000001");
    is_int(cnca_db_commit(&db, p), APR_SUCCESS, "commit");
    is_int(cnca_person_find(&person, &db, p, h1), APR_SUCCESS, "committed: there");
    ok(cnca_db_commit(&db, p) != APR_SUCCESS, "commit without a transaction: an error");

    /* a failure inside takes the whole transaction back */
    cnca_db_begin(&db, p);
    is_int(add_person(p, "440101199001011258", "钱七", "13800000002"), APR_SUCCESS,
           "first insert of a transaction");
    ok(add_person(p, "440101199001011231", "赵六", "13800000001") != APR_SUCCESS,
       "second insert fails (duplicate)");
    cnca_db_rollback(&db, p);
    is_int(cnca_person_find(&person, &db, p, h2), APR_NOTFOUND,
           "rollback after a failure: the first insert is gone too");
    is_int(cnca_db_begin(&db, p), APR_SUCCESS, "the connection is usable after the rollback");
    cnca_db_rollback(&db, p);
}

/* Two connections, as two httpd children have: the second writer waits for
 * the first to commit instead of failing or deadlocking. */
typedef struct {
    cnca_db_t db;
    apr_pool_t *pool;
    apr_status_t begin_rv, insert_rv, commit_rv;
    apr_time_t waited;
} writer_t;

static const char *sql_of(const char *label)
{
    const cnca_db_stmt_t *st;

    for (st = cnca_db_statements; st->label; ++st) {
        if (!strcmp(st->label, label)) {
            return st->sql;
        }
    }
    return "SELECT 'no such statement'";
}

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
    const char *err = NULL;
    apr_dbd_prepared_t *prep = NULL;
    apr_thread_t *thread;
    apr_status_t trv;
    writer_t w;

    memset(&w, 0, sizeof(w));
    apr_pool_create_unmanaged_ex(&w.pool, NULL, NULL);
    w.db.driver = db.driver;
    w.db.prepared = apr_hash_make(w.pool);
    if (apr_dbd_open_ex(db.driver, w.pool, db_path, &w.db.handle, &err) != APR_SUCCESS ||
        apr_dbd_prepare(db.driver, w.pool, w.db.handle, sql_of("person_insert"), "person_insert",
                        &prep) != 0) {
        ok(0, "a second connection");
        apr_pool_destroy(w.pool);
        return;
    }
    apr_hash_set(w.db.prepared, "person_insert", APR_HASH_KEY_STRING, prep);

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
       apr_psprintf(p, "second writer waited for the lock (%.2f s)",
                    (double)w.waited / APR_USEC_PER_SEC));
    is_int(w.insert_rv, APR_SUCCESS, "second writer inserts");
    is_int(w.commit_rv, APR_SUCCESS, "second writer commits");
    is_int(cnca_person_find(&person, &db, p, cnca_person_id_hash(p, &key, "first-writer")),
           APR_SUCCESS, "the first writer's row is there");
    is_int(cnca_person_find(&person, &db, p, cnca_person_id_hash(p, &key, "second-writer")),
           APR_SUCCESS, "the second writer's row is there");
    apr_dbd_close(db.driver, w.db.handle);
    apr_pool_destroy(w.pool);
}

static void test_misuse(void)
{
    apr_pool_t *p = tap_pool();
    apr_array_header_t *rows = (apr_array_header_t *)&rows;
    cnca_db_t none;
    int lines = log_lines;

    is_int(cnca_db_exec(&db, p, NULL, "no_such_label", 0), APR_EGENERAL,
           "exec of an unknown label: APR_EGENERAL");
    ok(log_lines > lines && strstr(log_last, "no_such_label"), "and a log line naming it");
    is_int(cnca_db_select(&db, p, &rows, NULL, "no_such_label", 0), APR_EGENERAL,
           "select of an unknown label: APR_EGENERAL");
    ok(rows == NULL, "failed select: no rows");
    is_int(cnca_db_exec(&db, p, NULL, "signature_get", 17, "1"), APR_EINVAL,
           "more than 16 arguments: APR_EINVAL");
    memset(&none, 0, sizeof(none));
    none.driver = db.driver;
    none.handle = db.handle;
    is_int(cnca_db_exec(&none, p, NULL, "audit_insert", 0), APR_EGENERAL,
           "no prepared statements at all (mod_dbd not set up): APR_EGENERAL");
    ok(cnca_db_error(&db, 1) != NULL, "cnca_db_error gives a text");
}

int main(int argc, char **argv)
{
    apr_pool_t *p = tap_pool();

    (void)argc;
    cnca_log_set_sink(log_sink, NULL);
    if (cnca_random(key.bytes, sizeof(key.bytes)) != APR_SUCCESS) {
        printf("Bail out! no randomness\n");
        return 1;
    }
    if (!setup(p, argv[0])) {
        teardown(p);
        return 1;
    }
    test_db_int();
    test_null_args();
    test_person();
    test_one_valid_certificate();
    test_signature();
    test_sms_stats();
    test_audit();
    test_transactions();
    test_two_writers();
    test_misuse();
    teardown(p);
    return tap_done();
}
