/* Unit tests for cnca_enroll.c's issuance (cnca_enroll_issue) against a
 * real SQLite database through APR DBD (sql/schema.sqlite.sql, every
 * statement of cnca_db_statements prepared, as mod_dbd hands them out) and
 * development CAs from tools/devca.sh: person + certificate + audit row
 * written together; the serial on record before anything is signed; the
 * private key and the ID number sealed and opening again; APR_EEXIST for a
 * second certificate (also when two issue at once); and every failure (a CA
 * that cannot sign, a serial that cannot be recorded, a certificate or
 * audit row that cannot be written, the certificates table gone) leaving
 * no person or certificate behind. Run from the project root (make does);
 * CNCA_TOP overrides. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tap.h"
#include "testlib.h"
#include "cnca_ca.h"
#include "cnca_enroll.h"
#include "cnca_log.h"
#include "cnca_person.h"

#define NAME "刘德华"
#define SUBJECT "C=CN, ST=上海, O=上海建筑业个人数字证书"
#define DAYS 365

static const char *top, *tmpdir;
static cnca_db_t db;
static cnca_key_t master, key_id_hash, key_id_enc, key_private;
static cnca_ca_t *ec_ca, *sm2_ca, *short_ca;
static apr_pool_t *root_pool; /* lives as long as the connection */

/* ---- log sink: every line, to look for numbers and for leaks ---- */

static char log_text[16384];
static int log_leak;

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    apr_size_t used = strlen(log_text);

    (void)baton, (void)file, (void)line, (void)level, (void)rv;
    if (strstr(msg, "PRIVATE KEY") || strstr(msg, NAME) || strstr(msg, "19900307")) {
        log_leak = 1;
    }
    if (used + strlen(msg) + 2 < sizeof(log_text)) {
        strcat(log_text, msg);
        strcat(log_text, "\n");
    }
}

static void log_clear(void)
{
    log_text[0] = '\0';
}

static int logged(const char *number)
{
    return strstr(log_text, number) != NULL;
}

/* ---- the database ---- */

/* Statements the tests use to look behind the module's own. */
static const cnca_db_stmt_t test_statements[] = {
    {"t_persons_of", "SELECT COUNT(*) FROM persons WHERE id_hash = %s"},
    {"t_person", "SELECT id, name, mobile, id_enc FROM persons WHERE id_hash = %s"},
    {"t_certs_of", "SELECT COUNT(*) FROM certificates c JOIN persons p ON p.id = c.person_id"
                   " WHERE p.id_hash = %s"},
    {"t_valid_certs_of", "SELECT COUNT(*) FROM certificates c JOIN persons p ON p.id = c.person_id"
                         " WHERE p.id_hash = %s AND c.status = 'valid'"},
    {"t_cert", "SELECT person_id, algorithm, not_before, not_after, cert_pem, key_enc, status"
               " FROM certificates WHERE serial = %s"},
    {"t_serial", "SELECT id_hash, algorithm, created_at FROM serials WHERE serial = %s"},
    {"t_serials_of", "SELECT COUNT(*) FROM serials WHERE id_hash = %s"},
    {"t_audit_of", "SELECT event, outcome, person_id, client, detail FROM audit"
                   " WHERE subject = %s ORDER BY id"},
    {"t_revoke", "UPDATE certificates SET status = 'revoked' WHERE serial = %s"},
    {NULL, NULL},
};

/* Prepares every statement (again: the APR DBD sqlite3 driver's statements
 * stop working after any schema change, so the tests that add a trigger
 * prepare them anew). */
static int prepare_all(cnca_db_t *d, apr_pool_t *p)
{
    d->prepared = apr_hash_make(p);
    return testlib_db_prepare(d, p, cnca_db_statements, NULL) == 0 &&
           testlib_db_prepare(d, p, test_statements, NULL) == 0;
}

/* A connection as mod_dbd hands it out with conf/cnca.conf's DBDInitSQL
 * (foreign keys on, busy_timeout), every statement prepared. */
static int open_db(cnca_db_t *d, apr_pool_t *p, const char *path)
{
    return testlib_db_open(d, p, "sqlite3", path) &&
           testlib_db_run(d, p, "PRAGMA busy_timeout = 10000") == 0 && prepare_all(d, p);
}

/* A schema change on the test's connection, with the statements prepared
 * again afterwards. */
static int schema_change(apr_pool_t *p, const char *sql)
{
    int rc = testlib_db_run(&db, p, sql);

    return prepare_all(&db, p) ? rc : -1;
}

/* The single value of a one-row select, or "(none)". */
static const char *value(apr_pool_t *p, const char *label, const char *arg, int col)
{
    apr_array_header_t *rows = NULL;

    if (cnca_db_select(&db, p, &rows, NULL, label, 1, arg) != APR_SUCCESS || rows->nelts < 1) {
        return "(none)";
    }
    return CNCA_DB_ROW(rows, 0)[col] ? CNCA_DB_ROW(rows, 0)[col] : "(null)";
}

static int count(apr_pool_t *p, const char *label, const char *arg)
{
    return atoi(value(p, label, arg, 0));
}

/* ---- the applicants ---- */

typedef struct {
    cnca_applicant_t who;
    cnca_audit_t audit;
    cnca_enroll_ctx_t ctx;
} issue_t;

static issue_t *applicant(apr_pool_t *p, const char *id_number, const char *mobile, cnca_ca_t *ca,
                          cnca_key_alg_t alg)
{
    issue_t *t = apr_pcalloc(p, sizeof(*t));

    t->who.name = NAME;
    t->who.id_number = id_number;
    t->who.id_hash = cnca_person_id_hash(p, &key_id_hash, id_number);
    t->who.mobile = mobile;
    t->audit.at = apr_time_sec(apr_time_now());
    t->audit.client = "192.0.2.1";
    t->audit.event = "issue";
    t->audit.outcome = "ok";
    t->audit.subject = t->who.id_hash;
    t->audit.detail = "mobile=138****5678";
    t->ctx.key_id_enc = &key_id_enc;
    t->ctx.key_private = &key_private;
    t->ctx.ca = ca;
    t->ctx.alg = alg;
    t->ctx.validity_days = DAYS;
    t->ctx.subject = SUBJECT;
    return t;
}

static apr_status_t issue(cnca_enrolled_t **pout, issue_t *t, apr_pool_t *p)
{
    return cnca_enroll_issue(pout, &t->ctx, &db, p, &t->who, &t->audit,
                             apr_time_sec(apr_time_now()));
}

/* No person and no certificate for t. */
static void nothing_kept(apr_pool_t *p, issue_t *t, const char *what)
{
    ok(count(p, "t_persons_of", t->who.id_hash) == 0 && count(p, "t_certs_of", t->who.id_hash) == 0,
       apr_psprintf(p, "%s: no person and no certificate kept", what));
    ok(cnca_db_begin(&db, p) == APR_SUCCESS,
       apr_psprintf(p, "%s: no transaction left open (a new one begins)", what));
    cnca_db_rollback(&db, p);
}

/* The certificate's private key, opened from key_enc, is the key of its
 * certificate. */
static int key_matches(apr_pool_t *p, const char *serial, const char *key_enc, const char *cert_pem)
{
    unsigned char *pem = NULL;
    apr_size_t len = 0;
    EVP_PKEY *pkey = NULL;
    BIO *bio;
    X509 *x = NULL;
    int match = 0;

    if (cnca_open(&pem, &len, p, &key_private, apr_pstrcat(p, "key:", serial, NULL), key_enc) !=
            APR_SUCCESS ||
        !strstr((const char *)pem, "-----BEGIN PRIVATE KEY-----") ||
        cnca_ca_key_parse(&pkey, (const char *)pem, p) != APR_SUCCESS) {
        return 0;
    }
    if ((bio = BIO_new_mem_buf(cert_pem, -1)) != NULL) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    match = x && X509_check_private_key(x, pkey) == 1;
    X509_free(x);
    return match;
}

/* ---- tests ---- */

static void test_issue(void)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, "31010119900307123X", "13812345678", ec_ca, CNCA_ALG_EC_P256);
    cnca_enrolled_t *out = NULL;
    apr_array_header_t *rows = NULL;
    const char **row;
    const char *serial, *id_enc, *key_enc, *cert_pem;
    unsigned char *plain = NULL;
    apr_size_t len = 0;
    apr_time_t before = apr_time_from_sec(apr_time_sec(apr_time_now()));

    log_clear();
    is_int(issue(&out, t, p), APR_SUCCESS, "issue: APR_SUCCESS");
    if (!out) {
        ok(0, "issue: an answer (nothing else can be checked)");
        return;
    }
    serial = out->serial;
    ok(serial && strlen(serial) == 32 && strspn(serial, "0123456789ABCDEF") == 32,
       "issue: a 128-bit serial in uppercase hex");
    ok(out->person_id > 0, "issue: the person's id");
    is_str(out->algorithm, "ec-p256", "issue: the algorithm");
    ok(out->not_before >= before && out->not_before <= apr_time_now(), "issue: valid from now");
    ok(out->not_after - out->not_before == apr_time_from_sec(DAYS * 86400 - 1),
       "issue: valid DAYS days, the end inclusive");
    is_int(t->audit.person_id, out->person_id, "issue: the audit row got the person's id");

    /* the serial on record, for the person, with the algorithm */
    is_str(value(p, "t_serial", serial, 0), t->who.id_hash, "serials: the serial, for the person");
    is_str(value(p, "t_serial", serial, 1), "ec-p256", "serials: its algorithm");

    /* the person */
    cnca_db_select(&db, p, &rows, NULL, "t_person", 1, t->who.id_hash);
    is_int(rows ? rows->nelts : -1, 1, "persons: one row for the ID hash");
    if (!rows || rows->nelts != 1) {
        return;
    }
    row = CNCA_DB_ROW(rows, 0);
    is_str(row[0], cnca_db_int(p, out->person_id), "persons: the id issue answered");
    is_str(row[1], NAME, "persons: the name");
    is_str(row[2], "13812345678", "persons: the verified mobile");
    id_enc = row[3];
    ok(id_enc && !strstr(id_enc, "19900307") && !strstr(id_enc, "123X"),
       "persons: the ID number is not in the clear");
    is_int(cnca_open(&plain, &len, p, &key_id_enc, apr_pstrcat(p, "id:", t->who.id_hash, NULL),
                     id_enc),
           APR_SUCCESS, "persons: id_enc opens under the id-enc key");
    is_str((const char *)plain, "31010119900307123X", "persons: to the ID number");
    ok(cnca_open(&plain, &len, p, &key_id_enc, "id:another", id_enc) != APR_SUCCESS,
       "persons: id_enc is bound to its ID hash");

    /* the certificate */
    is_str(value(p, "t_cert", serial, 0), cnca_db_int(p, out->person_id),
           "certificates: of the person");
    is_str(value(p, "t_cert", serial, 1), "ec-p256", "certificates: algorithm");
    is_str(value(p, "t_cert", serial, 2), cnca_db_int(p, apr_time_sec(out->not_before)),
           "certificates: not_before");
    is_str(value(p, "t_cert", serial, 3), cnca_db_int(p, apr_time_sec(out->not_after)),
           "certificates: not_after");
    is_str(value(p, "t_cert", serial, 6), "valid", "certificates: valid");
    cert_pem = value(p, "t_cert", serial, 4);
    is_int(cnca_ca_verify(ec_ca, cert_pem, p), APR_SUCCESS,
           "certificates: the PEM is a certificate the CA signed");
    key_enc = value(p, "t_cert", serial, 5);
    ok(!strstr(key_enc, "PRIVATE KEY") && !strstr(key_enc, "-----"),
       "certificates: key_enc holds no PEM");
    ok(key_matches(p, serial, key_enc, cert_pem),
       "certificates: key_enc opens with cnca_open to the certificate's private key");
    ok(cnca_open(&plain, &len, p, &key_private, "key:0000", key_enc) != APR_SUCCESS,
       "certificates: key_enc is bound to its serial");
    ok(cnca_open(&plain, &len, p, &key_id_enc, apr_pstrcat(p, "key:", serial, NULL), key_enc) !=
           APR_SUCCESS,
       "certificates: and to the private-key key");

    /* the audit row, written with them */
    cnca_db_select(&db, p, &rows, NULL, "t_audit_of", 1, t->who.id_hash);
    is_int(rows ? rows->nelts : -1, 1, "audit: one row");
    if (rows && rows->nelts == 1) {
        row = CNCA_DB_ROW(rows, 0);
        is_str(row[0], "issue", "audit: event");
        is_str(row[1], "ok", "audit: outcome");
        is_str(row[2], cnca_db_int(p, out->person_id), "audit: the person");
        is_str(row[3], "192.0.2.1", "audit: the client");
        is_str(row[4], apr_pstrcat(p, "serial=", serial, " mobile=138****5678", NULL),
               "audit: the serial, then the caller's detail");
    }
    ok(!log_leak, "nothing secret, no name, no ID number in any log line");

    /* a second certificate for the same person: APR_EEXIST, nothing written */
    {
        issue_t *again = applicant(p, "31010119900307123X", "13900000000", ec_ca, CNCA_ALG_EC_P256);
        cnca_enrolled_t *out2 = (cnca_enrolled_t *)&out2;
        int serials = count(p, "t_serials_of", t->who.id_hash);

        is_int(issue(&out2, again, p), APR_EEXIST, "again: APR_EEXIST");
        ok(out2 == NULL, "again: no answer");
        is_int(count(p, "t_certs_of", t->who.id_hash), 1, "again: still one certificate");
        is_int(count(p, "t_serials_of", t->who.id_hash), serials,
               "again: not even a serial recorded (nothing signed)");
        is_str(value(p, "t_person", t->who.id_hash, 2), "13812345678",
               "again: the verified mobile is unchanged");
        cnca_db_select(&db, p, &rows, NULL, "t_audit_of", 1, t->who.id_hash);
        is_int(rows ? rows->nelts : -1, 1, "again: no audit row");
    }
}

static void test_sm2(void)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, "110105194912310021", "13712345678", sm2_ca, CNCA_ALG_SM2);
    cnca_enrolled_t *out = NULL;
    const char *pem;

    is_int(issue(&out, t, p), APR_SUCCESS, "sm2: issue");
    if (!out) {
        return;
    }
    is_str(out->algorithm, "sm2", "sm2: the algorithm");
    pem = value(p, "t_cert", out->serial, 4);
    is_int(cnca_ca_verify(sm2_ca, pem, p), APR_SUCCESS,
           "sm2: the SM2 CA signed it (with the distinguishing ID)");
    ok(key_matches(p, out->serial, value(p, "t_cert", out->serial, 5), pem),
       "sm2: the sealed key opens and is the certificate's");
}

static void test_ca_cannot_sign(void)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, "440524199001011234", "13612345678", short_ca, CNCA_ALG_EC_P256);
    cnca_enrolled_t *out = (cnca_enrolled_t *)&out;

    log_clear();
    ok(issue(&out, t, p) != APR_SUCCESS, "a CA that ends before the certificate would: failure");
    ok(out == NULL, "no answer");
    ok(logged("CNCA00141"), "logged: issuing failed");
    nothing_kept(p, t, "CA cannot sign");
    is_int(count(p, "t_serials_of", t->who.id_hash), 1,
           "the serial was on record before signing was tried");
    /* the same person with a working CA afterwards: issued */
    t->ctx.ca = ec_ca;
    is_int(issue(&out, t, p), APR_SUCCESS, "then with a CA that can sign: issued");
}

static void test_serial_not_recorded(void)
{
    apr_pool_t *p = tap_pool();
    /* short_ca: signing would fail and log, so a silent log shows it was not tried */
    issue_t *t = applicant(p, "440524199001012234", "13612345679", short_ca, CNCA_ALG_EC_P256);
    cnca_enrolled_t *out = NULL;

    is_int(schema_change(root_pool, "CREATE TRIGGER t_no_serials BEFORE INSERT ON serials"
                                    " BEGIN SELECT RAISE(ABORT, 'serials refused'); END"),
           0, "a trigger refuses every serial");
    log_clear();
    ok(issue(&out, t, p) != APR_SUCCESS, "the serial cannot be recorded: failure");
    ok(logged("CNCA00132: database statement 'serial_insert' failed: "),
       "logged: the serial_insert statement failed");
    ok(!logged("CNCA00141") && !logged("CNCA00310"), "nothing was signed (the CA was not asked)");
    nothing_kept(p, t, "serial not recorded");
    is_int(count(p, "t_serials_of", t->who.id_hash), 0, "no serial");
    schema_change(root_pool, "DROP TRIGGER t_no_serials");
}

/* A trigger that refuses inserts into table: the write after the person
 * (certificate, audit) fails, and the transaction takes the person back. */
static void refused_insert(const char *table, const char *id_number, const char *what)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, id_number, "13512345678", ec_ca, CNCA_ALG_EC_P256);
    cnca_enrolled_t *out = (cnca_enrolled_t *)&out;
    const char *audit_before = value(p, "t_audit_of", t->who.id_hash, 0);

    is_int(schema_change(root_pool, apr_psprintf(p,
                                                 "CREATE TRIGGER t_refuse BEFORE INSERT ON %s"
                                                 " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                                 table)),
           0, apr_psprintf(p, "%s: a trigger refuses inserts into %s", what, table));
    log_clear();
    ok(issue(&out, t, p) != APR_SUCCESS, apr_psprintf(p, "%s: failure", what));
    ok(out == NULL, apr_psprintf(p, "%s: no answer", what));
    ok(logged("CNCA00142"), apr_psprintf(p, "%s: logged: nothing was kept", what));
    nothing_kept(p, t, what);
    is_str(value(p, "t_audit_of", t->who.id_hash, 0), audit_before,
           apr_psprintf(p, "%s: no audit row either", what));
    is_int(count(p, "t_serials_of", t->who.id_hash), 1,
           apr_psprintf(p, "%s: the serial stays on record (it was signed)", what));
    schema_change(root_pool, "DROP TRIGGER t_refuse");
    is_int(issue(&out, t, p), APR_SUCCESS, apr_psprintf(p, "%s: afterwards it issues", what));
    is_int(count(p, "t_certs_of", t->who.id_hash), 1,
           apr_psprintf(p, "%s: one certificate then", what));
}

static void test_certificates_renamed(void)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, "510104199001013334", "13412345678", ec_ca, CNCA_ALG_EC_P256);
    cnca_enrolled_t *out = NULL;

    is_int(testlib_db_run(&db, p, "ALTER TABLE certificates RENAME TO certificates_gone"), 0,
           "the certificates table is renamed");
    ok(issue(&out, t, p) != APR_SUCCESS, "certificates table gone: failure");
    ok(count(p, "t_persons_of", t->who.id_hash) == 0, "certificates table gone: no person");
    is_int(schema_change(root_pool, "ALTER TABLE certificates_gone RENAME TO certificates"), 0,
           "the table is back");
    nothing_kept(p, t, "certificates table gone");
    is_int(issue(&out, t, p), APR_SUCCESS, "then it issues");
}

/* The holder of the valid certificate, the ID number opened; an error
 * (logged) with another key; none for an unknown id or after a
 * revocation. */
static void test_holder_load(void)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, "440106199001018888", "13512345678", ec_ca, CNCA_ALG_EC_P256);
    cnca_enrolled_t *out = NULL;
    cnca_holder_t *h = NULL;
    cnca_key_t wrong = key_id_enc;
    int n = 0;

    if (issue(&out, t, p) != APR_SUCCESS || !out) {
        ok(0, "holder: a certificate");
        return;
    }
    is_int(cnca_holder_load(&h, &db, p, &key_id_enc, out->person_id), APR_SUCCESS, "holder: loads");
    if (!h) {
        ok(0, "holder: an answer (nothing else can be checked)");
        return;
    }
    is_int(h->id, out->person_id, "holder: the person's id");
    is_str(h->name, NAME, "holder: the name");
    is_str(h->mobile, "13512345678", "holder: the mobile");
    is_str(h->id_number, "440106199001018888", "holder: the ID number, opened");
    is_str(h->id_hash, t->who.id_hash, "holder: the ID hash");
    is_str(h->serial, out->serial, "holder: the serial");
    is_str(h->algorithm, "ec-p256", "holder: the algorithm");
    is_int(h->not_before, apr_time_sec(out->not_before), "holder: not_before");
    is_int(h->not_after, apr_time_sec(out->not_after), "holder: not_after");
    is_str(h->status, "valid", "holder: status valid");
    is_str(h->cert_pem, value(p, "t_cert", out->serial, 4), "holder: the certificate's PEM");
    is_int(h->has_signature, 0, "holder: no signature kept yet");
    {
        cnca_audit_t a;
        memset(&a, 0, sizeof(a));
        a.at = apr_time_sec(out->not_before);
        a.event = "signature.set";
        a.outcome = "ok";
        a.person_id = out->person_id;
        is_int(cnca_signature_save(&db, p, out->person_id, "\x89PNG", 4, "handwrite", &a, a.at),
               APR_SUCCESS, "holder: a signature is saved");
        h = NULL;
        cnca_holder_load(&h, &db, p, &key_id_enc, out->person_id);
        is_int(h ? h->has_signature : -1, 1, "holder: then has_signature");
    }

    wrong.bytes[0] ^= 1;
    log_clear();
    is_int(cnca_holder_load(&h, &db, p, &wrong, out->person_id), APR_EGENERAL,
           "holder: another key: APR_EGENERAL");
    ok(h == NULL, "holder: another key: no holder");
    ok(logged(apr_psprintf(p,
                           "CNCA00143: the ID number of person %" APR_INT64_T_FMT
                           " does not open (wrong master key?)\n",
                           out->person_id)),
       "holder: another key: CNCA00143 logged, naming the person");
    is_int(cnca_holder_load(&h, &db, p, &key_id_enc, out->person_id + 1000000), APR_NOTFOUND,
           "holder: an unknown id: APR_NOTFOUND");
    cnca_db_exec(&db, p, &n, "t_revoke", 1, out->serial);
    is_int(n, 1, "holder: the certificate is revoked");
    is_int(cnca_holder_load(&h, &db, p, &key_id_enc, out->person_id), APR_NOTFOUND,
           "holder: no valid certificate: APR_NOTFOUND");
    ok(h == NULL, "holder: no valid certificate: no holder");
}

static void test_person_without_certificate(void)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, "320102199001014444", "13312345678", ec_ca, CNCA_ALG_EC_P256);
    cnca_enrolled_t *out = NULL, *out2 = NULL;
    int n = 0;

    if (issue(&out, t, p) != APR_SUCCESS || !out) {
        ok(0, "revoked: a first certificate");
        return;
    }
    cnca_db_exec(&db, p, &n, "t_revoke", 1, out->serial);
    is_int(n, 1, "revoked: the first certificate is revoked");
    t->who.mobile = "13312340000";
    is_int(issue(&out2, t, p), APR_SUCCESS, "revoked: a new certificate is issued");
    if (!out2) {
        return;
    }
    is_int(out2->person_id, out->person_id, "revoked: for the same person row");
    is_int(count(p, "t_persons_of", t->who.id_hash), 1, "revoked: still one person");
    is_int(count(p, "t_valid_certs_of", t->who.id_hash), 1, "revoked: one valid certificate");
    is_int(count(p, "t_certs_of", t->who.id_hash), 2, "revoked: two in all");
    is_str(value(p, "t_person", t->who.id_hash, 2), "13312340000",
           "revoked: the new verified mobile");
}

/* Two issue for the same person at once: the other connection holds its
 * write transaction with the person and a certificate while this one
 * issues; this one passes the early check, signs, and finds the
 * certificate inside its own transaction. */
typedef struct {
    issue_t *t;
    apr_pool_t *pool;
    apr_status_t rv;
} racer_t;

static void *APR_THREAD_FUNC racer(apr_thread_t *thread, void *data)
{
    racer_t *r = data;
    cnca_enrolled_t *out = NULL;

    r->rv = issue(&out, r->t, r->pool);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static void test_two_at_once(const char *path)
{
    apr_pool_t *p = tap_pool();
    issue_t *t = applicant(p, "330106199001015555", "13212345678", ec_ca, CNCA_ALG_EC_P256);
    cnca_db_t other;
    const char *enc = NULL, *pid;
    apr_array_header_t *rows = NULL;
    apr_thread_t *thread;
    apr_status_t trv;
    racer_t r = {t, NULL, APR_EGENERAL};

    memset(&other, 0, sizeof(other));
    if (!open_db(&other, p, path)) {
        ok(0, "race: a second connection");
        return;
    }
    apr_pool_create(&r.pool, p);
    cnca_seal(&enc, p, &key_id_enc, "id", "x", 1);
    is_int(cnca_db_begin(&other, p), APR_SUCCESS, "race: the other connection begins");
    cnca_db_exec(&other, p, NULL, "person_insert", 6, t->who.id_hash, enc, NAME, "13200000000", "1",
                 "1");
    cnca_db_select(&other, p, &rows, NULL, "t_person", 1, t->who.id_hash);
    pid = rows && rows->nelts ? CNCA_DB_ROW(rows, 0)[0] : "0";
    cnca_db_exec(&other, p, NULL, "serial_insert", 4, "0BADC0DE0BADC0DE", t->who.id_hash, "ec-p256",
                 "1");
    is_int(cnca_db_exec(&other, p, NULL, "cert_insert", 8, pid, "0BADC0DE0BADC0DE", "ec-p256", "1",
                        "2", "PEM", "KEY", "1"),
           APR_SUCCESS, "race: it holds a person and a certificate, not committed");
    apr_thread_create(&thread, NULL, racer, &r, p);
    apr_sleep(apr_time_from_msec(300));
    is_int(cnca_db_commit(&other, p), APR_SUCCESS, "race: the other commits");
    apr_thread_join(&trv, thread);
    is_int(r.rv, APR_EEXIST, "race: the issue that lost: APR_EEXIST");
    is_int(count(p, "t_certs_of", t->who.id_hash), 1, "race: one certificate");
    is_int(count(p, "t_persons_of", t->who.id_hash), 1, "race: one person");
    is_int(count(p, "t_serials_of", t->who.id_hash), 2,
           "race: the loser's serial stays on record, unused");
    apr_dbd_close(other.driver, other.handle);
}

/* ---- setting up ---- */

static int run(apr_pool_t *p, const char *cmd)
{
    return system(apr_pstrcat(p, cmd, " >/dev/null 2>&1", NULL));
}

static cnca_ca_t *load_ca(apr_pool_t *p, const char *dir, const char *what)
{
    cnca_ca_t *ca = NULL;
    const char *err = NULL;

    is_int(cnca_ca_load(&ca, p, apr_pstrcat(p, dir, "/ca.crt", NULL),
                        apr_pstrcat(p, dir, "/ca.key", NULL), &err),
           APR_SUCCESS, apr_psprintf(p, "%s loads", what));
    if (err) {
        printf("#   %s\n", err);
    }
    return ca;
}

int main(void)
{
    apr_pool_t *root = root_pool = tap_pool();
    const char *path;
    char *dir;
    int i;

    cnca_log_set_sink(log_sink, NULL);
    top = getenv("CNCA_TOP") ? getenv("CNCA_TOP") : ".";
    dir = apr_pstrdup(root, "/tmp/cnca-test-enroll.XXXXXX");
    if (!mkdtemp(dir)) {
        ok(0, "a temporary directory");
        return tap_done();
    }
    tmpdir = dir;
    for (i = 0; i < CNCA_KEY_LEN; ++i) {
        master.bytes[i] = (unsigned char)(i * 7 + 1);
    }
    cnca_key_derive(&key_id_hash, &master, "id-hash");
    cnca_key_derive(&key_id_enc, &master, "id-enc");
    cnca_key_derive(&key_private, &master, "private-key");

    path = apr_pstrcat(root, tmpdir, "/cnca.db", NULL);
    is_int(run(root, apr_psprintf(root, "sqlite3 %s < %s/sql/schema.sqlite.sql", path, top)), 0,
           "the schema loads into a new SQLite database");
    is_int(apr_dbd_init(root), APR_SUCCESS, "APR DBD");
    if (!open_db(&db, root, path)) {
        ok(0, "the database opens and every statement prepares");
        return tap_done();
    }
    is_int(run(root, apr_psprintf(root, "sh %s/tools/devca.sh ec %s/ec", top, tmpdir)), 0,
           "devca.sh makes an EC CA");
    is_int(run(root, apr_psprintf(root, "sh %s/tools/devca.sh sm2 %s/sm2", top, tmpdir)), 0,
           "devca.sh makes an SM2 CA");
    /* a CA valid for 5 days: it cannot sign a 365-day certificate */
    is_int(run(root, apr_psprintf(root,
                                  "mkdir -p %s/short && openssl req -x509 -newkey ec -pkeyopt"
                                  " ec_paramgen_curve:P-256 -nodes -days 5 -subj /CN=short"
                                  " -addext basicConstraints=critical,CA:TRUE"
                                  " -addext keyUsage=critical,keyCertSign,cRLSign"
                                  " -keyout %s/short/ca.key -out %s/short/ca.crt",
                                  tmpdir, tmpdir, tmpdir)),
           0, "a CA that ends in 5 days");
    ec_ca = load_ca(root, apr_pstrcat(root, tmpdir, "/ec", NULL), "the EC CA");
    sm2_ca = load_ca(root, apr_pstrcat(root, tmpdir, "/sm2", NULL), "the SM2 CA");
    short_ca = load_ca(root, apr_pstrcat(root, tmpdir, "/short", NULL), "the short CA");

    if (ec_ca && sm2_ca && short_ca) {
        test_issue();
        test_sm2();
        test_ca_cannot_sign();
        test_serial_not_recorded();
        refused_insert("certificates", "350102199001016666", "certificate row refused");
        refused_insert("audit", "350102199001017777", "audit row refused");
        test_certificates_renamed();
        test_holder_load();
        test_person_without_certificate();
        test_two_at_once(path);
    } else {
        ok(0, "the CAs load (nothing else can be tested)");
    }
    apr_dbd_close(db.driver, db.handle);
    run(root, apr_psprintf(root, "rm -rf '%s'", tmpdir));
    return tap_done();
}
