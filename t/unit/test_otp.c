/* Unit tests for cnca_otp.c and cnca_sms_limit.c: the captcha answer and
 * the SMS code (single use, expiry, five wrong tries then void, bound to the
 * session id and, for the code, to the mobile; only keyed hashes kept), the
 * SMS text, cnca_sms_limit_wait for each limit with its Retry-After, and
 * cnca_sms_reserve against a real SQLite database through APR DBD. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_strings.h>

#include "tap.h"
#include "testlib.h"
#include "cnca_log.h"
#include "cnca_otp.h"
#include "cnca_sms_limit.h"

#define NOW 1700000000
#define MOBILE "13812345678"
#define OTHER_MOBILE "13987654321"
#define SIGN "大家签"

static cnca_key_t key, other_key;

static cnca_session_t *fresh(apr_pool_t *p)
{
    return testlib_session(p, NOW);
}

/* ---- captcha ---- */

static void test_captcha_single_use(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    is_int(cnca_captcha_check(sess, p, &key, "1234", NOW), CNCA_OTP_EXPIRED,
           "captcha: none issued yet: expired");
    cnca_captcha_remember(sess, p, &key, "1234", NOW);
    ok(sess->dirty, "captcha: remembering marks the session for saving");
    ok(sess->captcha_hash && strlen(sess->captcha_hash) == 64,
       "captcha: a 64-hex keyed hash is kept");
    ok(sess->captcha_hash && strspn(sess->captcha_hash, "0123456789abcdef") == 64,
       "captcha: the answer is not kept in the clear (only lowercase hex)");
    {
        const char *mine = sess->captcha_hash;
        cnca_captcha_remember(sess, p, &other_key, "1234", NOW);
        ok(sess->captcha_hash && mine && strcmp(sess->captcha_hash, mine) != 0,
           "captcha: the kept hash depends on the key (a keyed hash, not a plain digest)");
        cnca_captcha_remember(sess, p, &key, "1234", NOW);
        is_str(sess->captcha_hash, mine, "captcha: and is the same again under the same key");
    }
    is_int(sess->captcha_exp, NOW + CNCA_CAPTCHA_TTL, "captcha: expires after 5 minutes");
    sess->dirty = 0;
    is_int(cnca_captcha_check(sess, p, &key, "1234", NOW + 1), CNCA_OTP_OK,
           "captcha: the right answer passes");
    ok(!sess->captcha_hash && !sess->captcha_exp, "captcha: used up by the right answer");
    ok(sess->dirty, "captcha: the session must be saved after a check");
    sess->dirty = 0;
    is_int(cnca_captcha_check(sess, p, &key, "1234", NOW + 2), CNCA_OTP_EXPIRED,
           "captcha: the same answer a second time: expired");
    ok(!sess->dirty, "captcha: none there: the session is left as it is (no write)");
}

static void test_captcha_wrong_burns(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    cnca_captcha_remember(sess, p, &key, "0042", NOW);
    is_int(cnca_captcha_check(sess, p, &key, "0043", NOW), CNCA_OTP_WRONG,
           "captcha: a wrong answer: wrong");
    ok(!sess->captcha_hash, "captcha: a wrong answer burns it");
    is_int(cnca_captcha_check(sess, p, &key, "0042", NOW), CNCA_OTP_EXPIRED,
           "captcha: wrong, then right: refused (expired)");

    cnca_captcha_remember(sess, p, &key, "0042", NOW);
    is_int(cnca_captcha_check(sess, p, &key, "42", NOW), CNCA_OTP_WRONG,
           "captcha: leading zeros count (42 is not 0042)");
    cnca_captcha_remember(sess, p, &key, "0042", NOW);
    is_int(cnca_captcha_check(sess, p, &key, NULL, NOW), CNCA_OTP_WRONG,
           "captcha: no answer: wrong");
    is_int(cnca_captcha_check(sess, p, &key, "0042", NOW), CNCA_OTP_EXPIRED,
           "captcha: and burnt by it");
}

static void test_captcha_expiry(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    cnca_captcha_remember(sess, p, &key, "5678", NOW);
    is_int(cnca_captcha_check(sess, p, &key, "5678", NOW + CNCA_CAPTCHA_TTL), CNCA_OTP_OK,
           "captcha: right at 300 s: still good");
    cnca_captcha_remember(sess, p, &key, "5678", NOW);
    is_int(cnca_captcha_check(sess, p, &key, "5678", NOW + CNCA_CAPTCHA_TTL + 1), CNCA_OTP_EXPIRED,
           "captcha: right at 301 s: expired");
    ok(!sess->captcha_hash, "captcha: an expired one is cleared");
}

static void test_captcha_binding(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *a = fresh(p), *b = fresh(p);

    cnca_captcha_remember(a, p, &key, "2468", NOW);
    cnca_captcha_remember(a, p, &key, "1357", NOW);
    is_int(cnca_captcha_check(a, p, &key, "2468", NOW), CNCA_OTP_WRONG,
           "captcha: a new one replaces the last (the old answer is wrong)");

    cnca_captcha_remember(a, p, &key, "2468", NOW);
    b->captcha_hash = a->captcha_hash;
    b->captcha_exp = a->captcha_exp;
    is_int(cnca_captcha_check(b, p, &key, "2468", NOW), CNCA_OTP_WRONG,
           "captcha: bound to the session id (another session's hash does not pass)");
    is_int(cnca_captcha_check(a, p, &other_key, "2468", NOW), CNCA_OTP_WRONG,
           "captcha: bound to the key");

    cnca_captcha_remember(a, p, &key, "2468", NOW);
    cnca_captcha_remember(b, p, &key, "2468", NOW);
    ok(strcmp(a->captcha_hash, b->captcha_hash),
       "captcha: the same answer hashes differently in two sessions");
}

/* ---- SMS code ---- */

static void test_sms_single_use(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);
    int left = -1;

    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "123456", NOW, &left), CNCA_OTP_EXPIRED,
           "sms: none sent yet: expired");
    cnca_sms_code_remember(sess, p, &key, MOBILE, "012345", NOW);
    ok(sess->sms_hash && strlen(sess->sms_hash) == 64, "sms: a 64-hex keyed hash is kept");
    ok(!strstr(sess->sms_hash, "012345"), "sms: the code is not kept in the clear");
    is_str(sess->sms_mobile, MOBILE, "sms: the mobile it went to");
    is_int(sess->sms_exp, NOW + CNCA_SMS_CODE_TTL, "sms: 5 minutes");
    is_int(sess->sms_tries, 0, "sms: no tries yet");
    sess->dirty = 0;
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "012345", NOW + 10, &left), CNCA_OTP_OK,
           "sms: the right code passes");
    ok(!sess->sms_hash && !sess->sms_mobile && !sess->sms_exp, "sms: used up");
    ok(sess->dirty, "sms: the session must be saved");
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "012345", NOW + 11, &left), CNCA_OTP_EXPIRED,
           "sms: the right code a second time: expired");
}

static void test_sms_tries(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);
    int i, left = -1;

    cnca_sms_code_remember(sess, p, &key, MOBILE, "654321", NOW);
    for (i = 1; i <= 4; ++i) {
        is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "111111", NOW, &left), CNCA_OTP_WRONG,
               apr_psprintf(p, "sms: wrong try %d: wrong", i));
        is_int(left, CNCA_SMS_CODE_TRIES - i, apr_psprintf(p, "sms: %d tries left", 5 - i));
    }
    is_int(sess->sms_tries, 4, "sms: the session counts the tries");
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "654321", NOW, &left), CNCA_OTP_OK,
           "sms: after 4 wrong tries the right code still passes");

    cnca_sms_code_remember(sess, p, &key, MOBILE, "654321", NOW);
    for (i = 1; i <= 5; ++i) {
        cnca_sms_code_check(sess, p, &key, MOBILE, "222222", NOW, &left);
    }
    is_int(left, 0, "sms: the fifth wrong try leaves none");
    ok(!sess->sms_hash && sess->sms_mobile, "sms: five wrong tries void the code");
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "654321", NOW, &left), CNCA_OTP_EXPIRED,
           "sms: the right code after five wrong tries: expired");

    /* a voided code whose session was saved before the void was written
     * (tries at the limit, hash still there) is refused too */
    cnca_sms_code_remember(sess, p, &key, MOBILE, "654321", NOW);
    sess->sms_tries = CNCA_SMS_CODE_TRIES;
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "654321", NOW, &left), CNCA_OTP_EXPIRED,
           "sms: tries at the limit: the right code is refused");

    cnca_sms_code_remember(sess, p, &key, MOBILE, "654321", NOW);
    cnca_sms_code_check(sess, p, &key, MOBILE, "222222", NOW, &left);
    cnca_sms_code_remember(sess, p, &key, MOBILE, "765432", NOW);
    is_int(sess->sms_tries, 0, "sms: a new code starts with all tries");
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "654321", NOW, &left), CNCA_OTP_WRONG,
           "sms: a new code replaces the last (the old code is wrong)");
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "765432", NOW, &left), CNCA_OTP_OK,
           "sms: the new code passes");
    cnca_sms_code_remember(sess, p, &key, MOBILE, "765432", NOW);
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, NULL, NOW, &left), CNCA_OTP_WRONG,
           "sms: no code: a wrong try");
    is_int(left, 4, "sms: counted");
}

static void test_sms_expiry(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);
    int left;

    cnca_sms_code_remember(sess, p, &key, MOBILE, "314159", NOW);
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "314159", NOW + CNCA_SMS_CODE_TTL, &left),
           CNCA_OTP_OK, "sms: right at 300 s: passes");
    cnca_sms_code_remember(sess, p, &key, MOBILE, "314159", NOW);
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "314159", NOW + CNCA_SMS_CODE_TTL + 1, &left),
           CNCA_OTP_EXPIRED, "sms: right at 301 s: expired");
    ok(!sess->sms_hash, "sms: an expired code is cleared");
    cnca_sms_code_remember(sess, p, &key, MOBILE, "314159", NOW);
    is_int(cnca_sms_code_check(sess, p, &key, MOBILE, "000000", NOW + CNCA_SMS_CODE_TTL + 1, &left),
           CNCA_OTP_EXPIRED, "sms: a wrong code after expiry: expired, not wrong");
    is_int(left, 0, "sms: and no tries left reported");
}

static void test_sms_binding(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *a = fresh(p), *b = fresh(p);
    int left;

    cnca_sms_code_remember(a, p, &key, MOBILE, "271828", NOW);
    is_int(cnca_sms_code_check(a, p, &key, OTHER_MOBILE, "271828", NOW, &left), CNCA_OTP_EXPIRED,
           "sms: the code for another mobile: refused");
    is_int(a->sms_tries, 0, "sms: (no code for that mobile: no try counted)");
    is_int(cnca_sms_code_check(a, p, &key, NULL, "271828", NOW, &left), CNCA_OTP_EXPIRED,
           "sms: no mobile: refused");
    /* the hash binds the mobile too, not only the sms_mobile field */
    a->sms_mobile = OTHER_MOBILE;
    is_int(cnca_sms_code_check(a, p, &key, OTHER_MOBILE, "271828", NOW, &left), CNCA_OTP_WRONG,
           "sms: the hash is bound to the mobile it was sent to");

    cnca_sms_code_remember(a, p, &key, MOBILE, "271828", NOW);
    b->sms_hash = a->sms_hash;
    b->sms_mobile = a->sms_mobile;
    b->sms_exp = a->sms_exp;
    is_int(cnca_sms_code_check(b, p, &key, MOBILE, "271828", NOW, &left), CNCA_OTP_WRONG,
           "sms: bound to the session id (another session's hash does not pass)");
    is_int(cnca_sms_code_check(a, p, &other_key, MOBILE, "271828", NOW, &left), CNCA_OTP_WRONG,
           "sms: bound to the key");
    is_int(cnca_sms_code_check(a, p, &key, MOBILE, "271828", NOW, &left), CNCA_OTP_OK,
           "sms: in its own session, with its key and mobile: passes");

    cnca_captcha_remember(a, p, &key, "123456", NOW);
    cnca_sms_code_remember(a, p, &key, MOBILE, "123456", NOW);
    ok(strcmp(a->captcha_hash, a->sms_hash), "a captcha and an SMS code hash apart");
}

/* The tries survive the session's trip through memcached (each try is a
 * request of its own). */
static void test_sms_tries_persist(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p), *back = NULL;
    const char *sealed = NULL;
    int left;

    cnca_sms_code_remember(sess, p, &key, MOBILE, "161803", NOW);
    cnca_captcha_remember(sess, p, &key, "9876", NOW);
    cnca_sms_code_check(sess, p, &key, MOBILE, "000000", NOW, &left);
    cnca_sms_code_check(sess, p, &key, MOBILE, "000001", NOW, &left);
    is_int(cnca_session_encode(&sealed, sess, &key, p), APR_SUCCESS, "session encodes");
    ok(sealed && !strstr(sealed, MOBILE) && !strstr(sealed, "161803"),
       "the stored session shows neither mobile nor code");
    is_int(cnca_session_decode(&back, sealed, sess->id, &key, p), APR_SUCCESS, "and decodes");
    if (!back) {
        return;
    }
    is_int(back->sms_tries, 2, "the tries come back");
    is_int(cnca_sms_code_check(back, p, &key, MOBILE, "161803", NOW, &left), CNCA_OTP_OK,
           "the code still passes after the trip");
    is_int(cnca_captcha_check(back, p, &key, "9876", NOW), CNCA_OTP_OK, "so does the captcha");
}

static void test_sms_text(void)
{
    apr_pool_t *p = tap_pool();

    is_str(cnca_sms_code_text(p, SIGN, "012345"),
           "【大家签】您的验证码为012345，5分钟内有效，请勿泄露。",
           "the SMS text: sign name, code, 5 minutes");
    is_str(cnca_sms_code_text(p, "上海CA", "999999"),
           "【上海CA】您的验证码为999999，5分钟内有效，请勿泄露。", "another sign name");
}

/* ---- cnca_sms_limit_wait ---- */

static const cnca_sms_limits_t limits = {60, 5, 10, 50};

static void test_limit_wait(void)
{
    cnca_sms_stats_t st;
    const char *why = "x";

    memset(&st, 0, sizeof(st));
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 0, "limits: nothing sent: go");
    ok(why == NULL, "limits: no reason");

    st.last_at = NOW - 10;
    st.hour_count = st.day_count = st.client_count = 1;
    st.hour_oldest = st.day_oldest = st.client_oldest = NOW - 10;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 50, "interval: 10 s after: wait 50");
    is_str(why, "interval", "interval: the reason");
    st.last_at = NOW - 59;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 1, "interval: 59 s after: wait 1");
    st.last_at = NOW - 60;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 0, "interval: 60 s after: go");
    ok(why == NULL, "interval: no reason when it may go");
    st.last_at = NOW;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 60, "interval: the same second: 60");

    memset(&st, 0, sizeof(st));
    st.last_at = NOW - 120;
    st.hour_count = 4;
    st.hour_oldest = NOW - 600;
    st.day_count = st.client_count = 4;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 0, "hourly: 4 in the hour: go");
    st.hour_count = st.day_count = st.client_count = 5;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 3000,
           "hourly: 5 in the hour, the oldest 600 s ago: wait 3000");
    is_str(why, "hourly", "hourly: the reason");
    st.hour_oldest = NOW - 3600;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 1,
           "hourly: the oldest just at the window's edge: wait at least 1");

    memset(&st, 0, sizeof(st));
    st.last_at = NOW - 4000;
    st.hour_count = 0;
    st.day_count = 9;
    st.day_oldest = NOW - 20000;
    st.client_count = 9;
    st.client_oldest = NOW - 20000;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 0, "daily: 9 in the day: go");
    st.day_count = 10;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 66400,
           "daily: 10 in the day, the oldest 20000 s ago: wait 66400");
    is_str(why, "daily", "daily: the reason");

    memset(&st, 0, sizeof(st));
    st.client_count = 49;
    st.client_oldest = NOW - 100;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 0,
           "client: 49 from the address (a new number): go");
    st.client_count = 50;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 86300,
           "client: 50 from the address, the oldest 100 s ago: wait 86300");
    is_str(why, "client_daily", "client: the reason");
    {
        cnca_sms_limits_t off = limits;
        off.client_daily = 0;
        is_int(cnca_sms_limit_wait(&off, &st, NOW, &why), 0, "client: no cap (off): go");
    }

    /* more than one limit: the longest wait, and its reason */
    memset(&st, 0, sizeof(st));
    st.last_at = NOW - 30;
    st.hour_count = 5;
    st.hour_oldest = NOW - 3500;
    st.day_count = 5;
    st.day_oldest = NOW - 3500;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 100,
           "interval (30) and hourly (100): the longer wait");
    is_str(why, "hourly", "and its reason");
    st.hour_oldest = NOW - 3590;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 30,
           "interval (30) and hourly (10): the interval");
    is_str(why, "interval", "and its reason");
    st.day_count = 10;
    st.day_oldest = NOW - 80000;
    st.client_count = 50;
    st.client_oldest = NOW - 86000;
    is_int(cnca_sms_limit_wait(&limits, &st, NOW, &why), 6400, "daily wins over the others");
    is_str(why, "daily", "and its reason");
}

/* ---- cnca_sms_reserve against SQLite ---- */

static char db_path[64];
static cnca_db_t db;

static int db_setup(apr_pool_t *p, const char *argv0)
{
    int fd;

    snprintf(db_path, sizeof(db_path), "/tmp/cnca-test-otp-XXXXXX");
    if ((fd = mkstemp(db_path)) < 0) {
        db_path[0] = '\0';
        return 0;
    }
    close(fd);
    return apr_dbd_init(p) == APR_SUCCESS && testlib_db_open(&db, p, "sqlite3", db_path) &&
           testlib_db_load(&db, p, testlib_path(p, argv0, "sql/schema.sqlite.sql"), NULL) == 0 &&
           testlib_db_prepare(&db, p, cnca_db_statements, NULL) == 0;
}

static int sends(apr_pool_t *p, const char *where)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *sql = apr_pstrcat(p, "SELECT COUNT(*) FROM sms_sends WHERE ", where, NULL);
    int n = -1;

    if (apr_dbd_select(db.driver, p, db.handle, &res, sql, 0) == 0 &&
        apr_dbd_get_row(db.driver, p, res, &row, -1) == 0) {
        n = atoi(apr_dbd_get_entry(db.driver, row, 0));
        while (apr_dbd_get_row(db.driver, p, res, &row, -1) == 0)
            ;
    }
    return n;
}

/* One reservation; returns the wait, -1 on a database error. */
static int reserve(apr_pool_t *p, const cnca_sms_limits_t *lim, const char *mobile_hash,
                   const char *client, apr_int64_t now, const char **pwhy)
{
    int wait = -2;

    if (cnca_sms_reserve(&wait, pwhy, &db, p, lim, mobile_hash, client, now) != APR_SUCCESS) {
        return -1;
    }
    return wait;
}

static void test_reserve(void)
{
    apr_pool_t *p = tap_pool();
    const cnca_sms_limits_t lim = {60, 5, 10, 12};
    const char *why = NULL;
    apr_int64_t t = NOW;
    int i, w;

    is_int(reserve(p, &lim, "HASH-A", "10.0.0.1", t, &why), 0, "reserve: the first send goes");
    ok(why == NULL, "reserve: no reason");
    is_int(sends(p, "mobile_hash = 'HASH-A'"), 1, "reserve: and is counted");
    is_int(reserve(p, &lim, "HASH-A", "10.0.0.1", t + 20, &why), 40,
           "reserve: 20 s later to the same number: wait 40");
    is_str(why, "interval", "reserve: by the interval");
    is_int(sends(p, "mobile_hash = 'HASH-A'"), 1, "reserve: a refused send is not counted");
    is_int(reserve(p, &lim, "HASH-B", "10.0.0.1", t + 20, &why), 0,
           "reserve: another number from the same address goes");
    is_int(reserve(p, &lim, "HASH-A", "10.0.0.1", t + 60, &why), 0,
           "reserve: 60 s after the first: goes");

    /* hourly: sends 2..5 of A within the hour, 61 s apart */
    t = NOW + 60;
    for (i = 0; i < 3; ++i) {
        t += 61;
        is_int(reserve(p, &lim, "HASH-A", "10.0.0.1", t, &why), 0,
               apr_psprintf(p, "reserve: send %d of the hour goes", i + 3));
    }
    is_int(sends(p, "mobile_hash = 'HASH-A'"), 5, "reserve: 5 sends of A");
    w = reserve(p, &lim, "HASH-A", "10.0.0.1", t + 61, &why);
    is_int(w, (int)(NOW + 3600 - (t + 61)), "reserve: the sixth in the hour waits for the oldest");
    is_str(why, "hourly", "reserve: by the hourly limit");
    is_int(reserve(p, &lim, "HASH-A", "10.0.0.2", NOW + 3600, &why), 1,
           "reserve: the oldest is just 3600 s old: one more second");
    is_int(reserve(p, &lim, "HASH-A", "10.0.0.2", NOW + 3601, &why), 0,
           "reserve: once the oldest has left the hour: goes again");

    /* daily: four more spread over the day reach 10 */
    for (t = NOW + 3601, i = 0; i < 4; ++i) {
        t += 3601;
        is_int(reserve(p, &lim, "HASH-A", "10.0.0.2", t, &why), 0,
               apr_psprintf(p, "reserve: send %d of the day goes", i + 7));
    }
    is_int(sends(p, "mobile_hash = 'HASH-A'"), 10, "reserve: 10 sends of A");
    w = reserve(p, &lim, "HASH-A", "10.0.0.3", t + 3601, &why);
    is_int(w, (int)(NOW + 86400 - (t + 3601)),
           "reserve: the eleventh in the day waits for the oldest");
    is_str(why, "daily", "reserve: by the daily limit");
    is_int(reserve(p, &lim, "HASH-A", "10.0.0.3", NOW + 86401, &why), 0,
           "reserve: once the oldest has left the day: goes again");

    /* client: 12 a day from one address, whatever the numbers */
    for (i = 0; i < 12; ++i) {
        w = reserve(p, &lim, apr_psprintf(p, "HASH-C%d", i), "10.9.9.9", NOW + i, &why);
        if (w != 0) {
            break;
        }
    }
    is_int(i, 12, "reserve: 12 numbers from one address go");
    w = reserve(p, &lim, "HASH-D", "10.9.9.9", NOW + 500, &why);
    is_int(w, 86400 - 500, "reserve: the 13th from that address waits for its oldest");
    is_str(why, "client_daily", "reserve: by the per-address limit");
    is_int(sends(p, "mobile_hash = 'HASH-D'"), 0, "reserve: and nothing was counted for it");
    is_int(reserve(p, &lim, "HASH-D", "10.9.9.8", NOW + 500, &why), 0,
           "reserve: the same number from another address goes");

    /* the cap lowered to 5 with 12 sends in the day: the wait is for the
     * fifth newest to turn a day old (the count stops at the cap) */
    {
        const cnca_sms_limits_t low = {60, 5, 10, 5};
        w = reserve(p, &low, "HASH-F", "10.9.9.9", NOW + 600, &why);
        is_int(w, 86400 - 600 + 7, "reserve: cap lowered: waits for the fifth newest send");
        is_str(why, "client_daily", "reserve: cap lowered: by the per-address limit");
    }
    /* off: no per-client cap, the per-number limits still hold */
    {
        const cnca_sms_limits_t off = {60, 5, 10, 0};
        is_int(reserve(p, &off, "HASH-G", "10.9.9.9", NOW + 700, &why), 0,
               "reserve: client cap off: the 13th from that address goes");
        is_int(reserve(p, &off, "HASH-G", "10.9.9.9", NOW + 710, &why), 50,
               "reserve: client cap off: the interval per number still holds");
        is_str(why, "interval", "reserve: client cap off: by the interval");
    }
}

static void test_reserve_db_down(void)
{
    apr_pool_t *p = tap_pool();
    const cnca_sms_limits_t lim = {60, 5, 10, 12};
    cnca_db_t none;
    const char *why = NULL;
    int wait = -2;

    memset(&none, 0, sizeof(none));
    none.driver = db.driver;
    none.handle = db.handle;
    none.prepared = apr_hash_make(p);
    ok(cnca_sms_reserve(&wait, &why, &none, p, &lim, "HASH-E", "10.0.0.5", NOW) != APR_SUCCESS,
       "reserve: a database that cannot answer is an error (refuse), not a go");
    is_int(sends(p, "mobile_hash = 'HASH-E'"), 0, "reserve: nothing counted");
    is_int(reserve(p, &lim, "HASH-E", "10.0.0.5", NOW, &why), 0,
           "reserve: the transaction was closed (the next one works)");
}

/* A stats select that answers no row (here: grouped, so a number with no
 * sends has none) is a database error too, never read as a row. */
static void test_reserve_no_row(void)
{
    apr_pool_t *p = tap_pool();
    const cnca_sms_limits_t lim = {60, 5, 10, 12};
    static const cnca_db_stmt_t grouped[] = {
        {"sms_stats_mobile", "SELECT COUNT(*), MIN(at), MAX(at), COUNT(CASE WHEN at >= %lld"
                             " THEN 1 END), MIN(CASE WHEN at >= %lld THEN at END) FROM sms_sends"
                             " WHERE mobile_hash = %s AND at > %lld GROUP BY mobile_hash"},
        {NULL, NULL},
    };
    cnca_db_t odd = db;
    const char *why = NULL;
    int wait = -2;

    odd.prepared = apr_hash_copy(p, db.prepared);
    is_int(testlib_db_prepare(&odd, p, grouped, NULL), 0,
           "reserve: a stats select that can answer no row");
    ok(cnca_sms_reserve(&wait, &why, &odd, p, &lim, "HASH-F", "10.0.0.6", NOW) == APR_EGENERAL,
       "reserve: no stats row is an error (APR_EGENERAL), not a go");
    is_int(sends(p, "mobile_hash = 'HASH-F'"), 0, "reserve: nothing counted without a stats row");
    is_int(reserve(p, &lim, "HASH-F", "10.0.0.6", NOW, &why), 0,
           "reserve: the transaction was closed after no row (the next one works)");
}

int main(int argc, char **argv)
{
    apr_pool_t *p = tap_pool();

    (void)argc;
    cnca_log_set_sink(testlib_log_sink, NULL);
    if (cnca_random(key.bytes, sizeof(key.bytes)) != APR_SUCCESS ||
        cnca_random(other_key.bytes, sizeof(other_key.bytes)) != APR_SUCCESS) {
        printf("Bail out! no randomness\n");
        return 1;
    }
    test_captcha_single_use();
    test_captcha_wrong_burns();
    test_captcha_expiry();
    test_captcha_binding();
    test_sms_single_use();
    test_sms_tries();
    test_sms_expiry();
    test_sms_binding();
    test_sms_tries_persist();
    test_sms_text();
    test_limit_wait();
    if (db_setup(p, argv[0])) {
        test_reserve();
        test_reserve_db_down();
        test_reserve_no_row();
    } else {
        ok(0, "an SQLite database for cnca_sms_reserve");
    }
    if (db.handle) {
        apr_dbd_close(db.driver, db.handle);
    }
    if (db_path[0]) {
        testlib_sqlite_remove(p, db_path);
    }
    return tap_done();
}
