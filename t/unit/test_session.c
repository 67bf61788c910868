/* Unit tests for cnca_session.c: ids and CSRF tokens (128-bit, lowercase
 * hex, never twice), the sealed document (every field round-trips, nothing
 * in the clear, bound to its id and key, any change refused), and load /
 * save / rotate / destroy against a real memcached this test starts
 * (idle timeout, maximum age, compare-and-swap conflicts, fail-closed). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <apr_encode.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "tap.h"
#include "testlib.h"
#include "cnca_log.h"
#include "cnca_session.h"

#define NOW ((apr_int64_t)1700000000)

static int is_lower_hex(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (!s || strlen(s) != len) {
        return 0;
    }
    for (i = 0; i < len; ++i) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static void random_key(cnca_key_t *key)
{
    if (cnca_random(key->bytes, sizeof(key->bytes)) != APR_SUCCESS) {
        printf("Bail out! cnca_random failed\n");
        exit(1);
    }
}

/* ---- ids ---- */

static void test_create(void)
{
    apr_pool_t *p = tap_pool();
    apr_hash_t *seen = apr_hash_make(p);
    cnca_session_t *sess = NULL;
    long counts[16] = {0};
    int i, j, shape_bad = 0, dups = 0, uneven = 0;

    is_int(cnca_session_create(&sess, p, NOW), APR_SUCCESS, "create");
    if (!sess) {
        return;
    }
    ok(is_lower_hex(sess->id, 32), "id is 32 lowercase hex (128 bits)");
    ok(is_lower_hex(sess->csrf, 32), "csrf is 32 lowercase hex (128 bits)");
    ok(strcmp(sess->id, sess->csrf) != 0, "csrf is not the id");
    ok(cnca_session_id_valid(sess->id), "the id passes cnca_session_id_valid");
    is_int(sess->created, NOW, "created is now");
    is_int(sess->touched, NOW, "touched is now");
    ok(sess->is_new && sess->dirty, "new and dirty");
    ok(!sess->flow && !sess->person_id && !sess->name && !sess->proof_sms_mobile,
       "nothing proven, no flow, not logged in");

    for (i = 0; i < 1000; ++i) {
        const char *vals[2];
        if (cnca_session_create(&sess, p, NOW) != APR_SUCCESS || !sess) {
            ++shape_bad;
            continue;
        }
        vals[0] = sess->id;
        vals[1] = sess->csrf;
        for (j = 0; j < 2; ++j) {
            const char *c;
            if (!is_lower_hex(vals[j], 32)) {
                ++shape_bad;
                continue;
            }
            if (apr_hash_get(seen, vals[j], APR_HASH_KEY_STRING)) {
                ++dups;
            }
            apr_hash_set(seen, vals[j], APR_HASH_KEY_STRING, vals[j]);
            for (c = vals[j]; *c; ++c) {
                ++counts[*c <= '9' ? *c - '0' : *c - 'a' + 10];
            }
        }
    }
    is_int(shape_bad, 0, "1000 more sessions: every id and csrf well-formed");
    is_int(dups, 0, "1000 ids and 1000 csrf tokens: 2000 different values");
    /* 64000 hex digits: each digit about 4000 times (sd ~61); far off means
     * the values are not uniformly random */
    for (i = 0; i < 16; ++i) {
        if (counts[i] < 3400 || counts[i] > 4600) {
            ++uneven;
            printf("#   digit %x seen %ld times\n", i, counts[i]);
        }
    }
    is_int(uneven, 0, "hex digits evenly spread over 2000 values");
}

static void test_id_valid(void)
{
    ok(cnca_session_id_valid("0123456789abcdef0123456789abcdef"), "32 lowercase hex: valid");
    ok(cnca_session_id_valid("ffffffffffffffffffffffffffffffff"), "all f: valid");
    ok(!cnca_session_id_valid("0123456789ABCDEF0123456789abcdef"), "uppercase: invalid");
    ok(!cnca_session_id_valid("0123456789abcdef0123456789abcdeF"), "last char uppercase: invalid");
    ok(!cnca_session_id_valid("0123456789abcdef0123456789abcde"), "31 chars: invalid");
    ok(!cnca_session_id_valid("0123456789abcdef0123456789abcdef0"), "33 chars: invalid");
    ok(!cnca_session_id_valid("0123456789abcdef0123456789abcdeg"), "a g: invalid");
    ok(!cnca_session_id_valid("0123456789abcdef-123456789abcdef"), "a dash: invalid");
    ok(!cnca_session_id_valid("0123456789abcdef 123456789abcdef"), "a space: invalid");
    ok(!cnca_session_id_valid("../../../../../../etc/passwd...."), "a path: invalid");
    ok(!cnca_session_id_valid("0123456789abcdef0123456789abcde\n"), "a newline: invalid");
    ok(!cnca_session_id_valid(""), "empty: invalid");
    ok(!cnca_session_id_valid(NULL), "NULL: invalid");
}

/* ---- the sealed document ---- */

#define NAME "欧阳·娜娜"
#define ID_NUMBER "31010119900307123X"
#define MOBILE "13812345678"

/* Every stored field with a value of its own. */
static cnca_session_t *full_session(apr_pool_t *p)
{
    cnca_session_t *s = NULL;

    s = testlib_session(p, NOW);
    s->created = 5000000001LL;
    s->touched = 5000000002LL;
    s->person_id = 5000000003LL;
    s->login_at = 5000000004LL;
    s->flow = CNCA_FLOW_CHANGE_MOBILE;
    s->name = NAME;
    s->id_number = ID_NUMBER;
    s->mobile = MOBILE;
    s->captcha_hash = "c4a9f0e1d2b3a4958677c4a9f0e1d2b3a4958677c4a9f0e1d2b3a4958677aaaa";
    s->captcha_exp = 5000000005LL;
    s->sms_hash = "5a5a9f0e1d2b3a4958677c4a9f0e1d2b3a4958677c4a9f0e1d2b3a495867bbbb";
    s->sms_mobile = "13900000001";
    s->sms_exp = 5000000006LL;
    s->sms_tries = 4;
    s->proof_sms_mobile = "13900000002";
    s->proof_carrier_mobile = "13900000003";
    s->proof_bank_mobile = "13900000004";
    s->face_token = "face-token-\"quoted\"\\slash";
    s->face_started = 5000000007LL;
    s->proof_face_at = 5000000008LL;
    s->face_status = "fail";
    s->face_message = "认证失败：“人脸比对不通过”\n第二行\t<b>&amp;</b>";
    s->busy_until = 5000000009LL;
    s->just_enrolled = 1;
    s->cas = 77;
    return s;
}

#define SAME_STR(f) is_str(b->f, a->f, "round trip: " #f)
#define SAME_INT(f) is_int(b->f, a->f, "round trip: " #f)

static void same_session(const cnca_session_t *a, const cnca_session_t *b)
{
    SAME_STR(id);
    SAME_STR(csrf);
    SAME_INT(created);
    SAME_INT(touched);
    SAME_INT(person_id);
    SAME_INT(login_at);
    SAME_STR(flow);
    SAME_STR(name);
    SAME_STR(id_number);
    SAME_STR(mobile);
    SAME_STR(captcha_hash);
    SAME_INT(captcha_exp);
    SAME_STR(sms_hash);
    SAME_STR(sms_mobile);
    SAME_INT(sms_exp);
    SAME_INT(sms_tries);
    SAME_STR(proof_sms_mobile);
    SAME_STR(proof_carrier_mobile);
    SAME_STR(proof_bank_mobile);
    SAME_STR(face_token);
    SAME_INT(face_started);
    SAME_INT(proof_face_at);
    SAME_STR(face_status);
    SAME_STR(face_message);
    SAME_INT(busy_until);
    SAME_INT(just_enrolled);
}

static void test_round_trip(void)
{
    apr_pool_t *p = tap_pool();
    cnca_key_t key;
    cnca_session_t *a = full_session(p), *b = NULL, *e = NULL;
    const char *sealed = NULL, *sealed2 = NULL;

    random_key(&key);
    is_int(cnca_session_encode(&sealed, a, &key, p), APR_SUCCESS, "encode a full session");
    ok(sealed && *sealed, "a sealed document");
    is_int(cnca_session_decode(&b, sealed, a->id, &key, p), APR_SUCCESS, "decode it");
    if (!b) {
        return;
    }
    same_session(a, b);
    ok(b->id != a->id, "decoded id is a copy");
    is_int(b->cas, 0, "cas is not stored");
    ok(!b->is_new && !b->dirty, "decoded session is neither new nor dirty");

    cnca_session_encode(&sealed2, a, &key, p);
    ok(sealed2 && strcmp(sealed, sealed2) != 0, "sealing twice gives two documents (nonce)");

    /* a fresh session: unset fields stay unset */
    a = testlib_session(p, NOW);
    cnca_session_encode(&sealed, a, &key, p);
    cnca_session_decode(&e, sealed, a->id, &key, p);
    ok(e && !e->flow && !e->name && !e->mobile && !e->person_id && !e->proof_face_at &&
           !e->face_message && !e->sms_tries && !e->busy_until && !e->just_enrolled,
       "fresh session: unset fields decode unset");
    ok(e && e->csrf && !strcmp(e->csrf, a->csrf), "fresh session: csrf kept");

    /* empty strings and negative numbers are values too */
    a->name = "";
    a->login_at = -5;
    cnca_session_encode(&sealed, a, &key, p);
    cnca_session_decode(&e, sealed, a->id, &key, p);
    ok(e && e->name && !*e->name, "empty string survives as empty, not NULL");
    is_int(e ? e->login_at : 0, -5, "negative number survives");
}

static void test_refused(void)
{
    apr_pool_t *p = tap_pool();
    cnca_key_t key, other;
    cnca_session_t *a = full_session(p), *b, *c = NULL;
    const char *sealed = NULL, *other_id = NULL;
    char *bad;
    apr_size_t len, i;
    int opened = 0;
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    random_key(&key);
    random_key(&other);
    cnca_session_encode(&sealed, a, &key, p);
    len = strlen(sealed);

    b = a;
    is_int(cnca_session_decode(&b, sealed, a->id, &other, p), APR_EINVAL, "wrong key: refused");
    ok(b == NULL, "wrong key: no session");

    cnca_random_hex(&other_id, p, 16);
    b = a;
    is_int(cnca_session_decode(&b, sealed, other_id, &key, p), APR_EINVAL,
           "another session's id: refused (the id is bound as AAD)");
    ok(b == NULL, "another id: no session");

    b = a;
    is_int(cnca_session_decode(&b, sealed, apr_pstrndup(p, a->id, 31), &key, p), APR_EINVAL,
           "the id less its last character: refused");

    /* every one-character change anywhere in the document (the top bit of
     * each 6-bit group: the last character's low bits are padding) */
    bad = apr_pstrdup(p, sealed);
    for (i = 0; i < len; ++i) {
        char was = bad[i];
        bad[i] = b64url[(strchr(b64url, was) - b64url) ^ 32];
        if (cnca_session_decode(&c, bad, a->id, &key, p) == APR_SUCCESS) {
            ++opened;
            printf("#   a change at %" APR_SIZE_T_FMT " opened\n", i);
        }
        bad[i] = was;
    }
    is_int(opened, 0,
           apr_psprintf(p, "all %" APR_SIZE_T_FMT " one-character changes refused", len));

    is_int(cnca_session_decode(&c, apr_pstrndup(p, sealed, len - 1), a->id, &key, p), APR_EINVAL,
           "truncated by one character: refused");
    is_int(cnca_session_decode(&c, apr_pstrndup(p, sealed, len - 4), a->id, &key, p), APR_EINVAL,
           "truncated by four characters: refused");
    is_int(cnca_session_decode(&c, apr_pstrndup(p, sealed, len / 2), a->id, &key, p), APR_EINVAL,
           "truncated by half: refused");
    is_int(cnca_session_decode(&c, apr_pstrcat(p, sealed, "AAAA", NULL), a->id, &key, p),
           APR_EINVAL, "four characters appended: refused");
    is_int(cnca_session_decode(&c, "", a->id, &key, p), APR_EINVAL, "empty document: refused");
    is_int(cnca_session_decode(&c, "not base64 at all!", a->id, &key, p), APR_EINVAL,
           "garbage: refused");
    is_int(cnca_session_decode(&c, NULL, a->id, &key, p), APR_EINVAL, "NULL document: refused");

    /* a document without a CSRF token is no session */
    a->csrf = NULL;
    cnca_session_encode(&sealed, a, &key, p);
    c = a;
    is_int(cnca_session_decode(&c, sealed, a->id, &key, p), APR_EINVAL,
           "a document without csrf: refused");
    ok(c == NULL, "no csrf: no session");
}

static int contains(const void *hay, apr_size_t hlen, const char *needle)
{
    return memmem(hay, hlen, needle, strlen(needle)) != NULL;
}

static void test_no_clear_text(void)
{
    apr_pool_t *p = tap_pool();
    cnca_key_t key;
    cnca_session_t *a = full_session(p);
    const char *sealed = NULL, *secrets[] = {NAME,   "欧阳",  ID_NUMBER,     "310101199003",
                                             MOBILE, a->csrf, "13900000002", "face-token"};
    const unsigned char *raw;
    apr_size_t rlen = 0, i;
    int shown = 0;

    random_key(&key);
    cnca_session_encode(&sealed, a, &key, p);
    raw = apr_pdecode_base64_binary(p, sealed, APR_ENCODE_STRING,
                                    APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, &rlen);
    ok(raw && rlen > 28, "the document is base64url of nonce, ciphertext and tag");
    for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); ++i) {
        if (contains(sealed, strlen(sealed), secrets[i]) ||
            (raw && contains(raw, rlen, secrets[i]))) {
            ++shown;
            printf("#   '%s' is in the clear\n", secrets[i]);
        }
    }
    is_int(shown, 0, "no name, ID number, mobile, csrf or token in the text or its bytes");
    ok(!contains(sealed, strlen(sealed), "{") && !(raw && contains(raw, rlen, "\"csrf\"")),
       "no JSON in the clear either");
}

/* ---- load / save / rotate / destroy, on a memcached of our own ---- */

static testlib_mc_t mc = {NULL, "127.0.0.1", 0, 0, NULL};

static void mc_stop(void)
{
    testlib_mc_stop(&mc, SIGKILL);
}

#define IDLE 900
#define MAX_AGE 28800

static void test_stored(cnca_session_ctx_t *ctx)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *s = NULL, *a = NULL, *b = NULL, *c = NULL;

    s = testlib_session(p, NOW);
    s->name = NAME;
    s->flow = CNCA_FLOW_APPLY;
    is_int(cnca_session_save(s, ctx, p, NOW), APR_SUCCESS, "save a new session");
    ok(!s->is_new && !s->dirty, "saved: no longer new or dirty");

    is_int(cnca_session_load(&a, ctx, p, s->id, NOW), APR_SUCCESS, "load it");
    is_str(a ? a->name : NULL, NAME, "loaded: name");
    is_str(a ? a->csrf : NULL, s->csrf, "loaded: csrf");
    ok(a && a->cas != 0, "loaded: has a CAS");
    ok(a && !a->is_new && !a->dirty, "loaded right away: not dirty");

    /* a second new save under the same id does not overwrite it */
    c = testlib_session(p, NOW);
    c->id = s->id;
    is_int(cnca_session_save(c, ctx, p, NOW), APR_EEXIST,
           "a new session under an id in use: APR_EEXIST");

    /* two requests load the same session; the second writer loses */
    cnca_session_load(&b, ctx, p, s->id, NOW);
    if (a && b) {
        a->mobile = MOBILE;
        is_int(cnca_session_save(a, ctx, p, NOW + 1), APR_SUCCESS, "first writer saves");
        b->mobile = "13900000009";
        is_int(cnca_session_save(b, ctx, p, NOW + 1), APR_EEXIST,
               "second writer with the old CAS: APR_EEXIST");
        cnca_session_load(&c, ctx, p, s->id, NOW + 2);
        is_str(c ? c->mobile : NULL, MOBILE, "the first writer's change stands");
        /* a second save of the same object (a handler that saves, then
         * changes the session again) */
        a->face_status = "pass";
        a->dirty = 1;
        is_int(cnca_session_save(a, ctx, p, NOW + 2), APR_SUCCESS,
               "the same session object saved twice in a row");
        cnca_session_load(&c, ctx, p, s->id, NOW + 2);
        is_str(c ? c->face_status : NULL, "pass", "the second save is what is stored");

        /* saved once, then another request writes, then this one again */
        a->face_status = "fail";
        a->dirty = 1;
        is_int(cnca_session_save(a, ctx, p, NOW + 2), APR_SUCCESS, "a saves (third time)");
        cnca_session_load(&b, ctx, p, s->id, NOW + 2);
        b->mobile = "13900000010";
        b->dirty = 1;
        is_int(cnca_session_save(b, ctx, p, NOW + 2), APR_SUCCESS,
               "another request saves after it");
        a->face_message = "late";
        a->dirty = 1;
        is_int(cnca_session_save(a, ctx, p, NOW + 3), APR_EEXIST,
               "a saves again over the other request's write: APR_EEXIST");
        cnca_session_load(&c, ctx, p, s->id, NOW + 3);
        ok(c && c->mobile && !strcmp(c->mobile, "13900000010") && !c->face_message,
           "the other request's write stands");
    }

    /* the idle timer is refreshed at most once a minute */
    cnca_session_load(&c, ctx, p, s->id, NOW + 59);
    ok(c && !c->dirty && c->touched == NOW, "loaded 59 s later: touched kept, not dirty");
    cnca_session_load(&c, ctx, p, s->id, NOW + 60);
    ok(c && !c->dirty && c->touch_due && c->touched == NOW + 60,
       "loaded 60 s later: touched now, a refresh due (not a change)");

    /* idle timeout */
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW + IDLE), APR_SUCCESS,
           "idle exactly the timeout: still there");
    c = s;
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW + IDLE + 1), APR_NOTFOUND,
           "idle past the timeout: APR_NOTFOUND");
    ok(c == NULL, "idle past the timeout: no session");
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW), APR_NOTFOUND,
           "an idle-expired session is deleted");
}

static void test_max_age(cnca_session_ctx_t *ctx)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *s = NULL, *c = NULL;
    apr_int64_t late = NOW + MAX_AGE - 10;

    s = testlib_session(p, NOW);
    s->touched = late; /* busy all along */
    is_int(cnca_session_save(s, ctx, p, late), APR_SUCCESS, "save an old, busy session");
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW + MAX_AGE), APR_SUCCESS,
           "exactly max age: still there");
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW + MAX_AGE + 1), APR_NOTFOUND,
           "past max age, though recently used: APR_NOTFOUND");
}

static void test_rotate_destroy(cnca_session_ctx_t *ctx)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *s = NULL, *c = NULL;
    const char *old_id, *old_csrf;

    s = testlib_session(p, NOW);
    s->name = NAME;
    s->person_id = 12;
    cnca_session_save(s, ctx, p, NOW);
    cnca_session_load(&s, ctx, p, s->id, NOW);
    if (!s) {
        ok(0, "load before rotate");
        return;
    }
    old_id = s->id;
    old_csrf = s->csrf;
    is_int(cnca_session_rotate(s, ctx, p, NOW + 5), APR_SUCCESS, "rotate");
    ok(cnca_session_id_valid(s->id) && strcmp(s->id, old_id), "rotate: a new valid id");
    ok(s->csrf && strcmp(s->csrf, old_csrf), "rotate: a new csrf");
    is_int(cnca_session_load(&c, ctx, p, old_id, NOW + 5), APR_NOTFOUND,
           "rotate: the old id is gone");
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW + 5), APR_SUCCESS, "rotate: the new id loads");
    ok(c && c->person_id == 12 && c->name && !strcmp(c->name, NAME) && !strcmp(c->csrf, s->csrf),
       "rotate: the contents moved with it");

    /* a handler that rotates the id at login, then records more */
    s->login_at = NOW + 5;
    s->dirty = 1;
    is_int(cnca_session_save(s, ctx, p, NOW + 5), APR_SUCCESS,
           "save after rotate (rotate, then change the session)");
    cnca_session_load(&c, ctx, p, s->id, NOW + 5);
    is_int(c ? c->login_at : 0, NOW + 5, "the change after rotate is stored");

    is_int(cnca_session_destroy(s, ctx, p), APR_SUCCESS, "destroy");
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW + 5), APR_NOTFOUND, "destroyed: gone");
}

static void test_load_refusals(cnca_session_ctx_t *ctx)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *s = NULL, *t = NULL, *c = NULL;
    const char *sealed = NULL;
    cnca_key_t other;

    is_int(cnca_session_load(&c, ctx, p, "0123456789abcdef0123456789abcdef", NOW), APR_NOTFOUND,
           "unknown id: APR_NOTFOUND");
    is_int(cnca_session_load(&c, ctx, p, "0123456789ABCDEF0123456789ABCDEF", NOW), APR_NOTFOUND,
           "malformed id: APR_NOTFOUND");
    is_int(cnca_session_load(&c, ctx, p, NULL, NOW), APR_NOTFOUND, "NULL id: APR_NOTFOUND");

    /* the store keeps documents under cnca_store_key("s", id) */
    s = testlib_session(p, NOW);
    t = testlib_session(p, NOW);
    cnca_session_save(s, ctx, p, NOW);
    cnca_session_encode(&sealed, t, ctx->key, p);
    cnca_store_set(ctx->store, cnca_store_key(p, "s", s->id), sealed, strlen(sealed), 60);
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW), APR_NOTFOUND,
           "another session's document under this id: APR_NOTFOUND");
    cnca_store_set(ctx->store, cnca_store_key(p, "s", s->id), "garbage", 7, 60);
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW), APR_NOTFOUND,
           "garbage under the id: APR_NOTFOUND");
    random_key(&other);
    cnca_session_encode(&sealed, s, &other, p);
    cnca_store_set(ctx->store, cnca_store_key(p, "s", s->id), sealed, strlen(sealed), 60);
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW), APR_NOTFOUND,
           "a document sealed under another key: APR_NOTFOUND");
}

static void test_memcached_down(cnca_session_ctx_t *ctx)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *s = NULL, *c = NULL;

    s = testlib_session(p, NOW);
    cnca_session_save(s, ctx, p, NOW);
    mc_stop();
    is_int(cnca_session_load(&c, ctx, p, s->id, NOW), APR_EGENERAL,
           "memcached down: load is APR_EGENERAL, never 'no session'");
    s = testlib_session(p, NOW);
    is_int(cnca_session_save(s, ctx, p, NOW), APR_EGENERAL, "memcached down: save fails");
}

static void test_with_memcached(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_ctx_t ctx;
    cnca_key_t key;

    if (!(mc.bin = testlib_find_memcached()) || !testlib_mc_start(&mc)) {
        printf("ok %d # SKIP memcached not found or did not start\n", ++tap_count);
        return;
    }
    random_key(&key);
    memset(&ctx, 0, sizeof(ctx));
    ctx.key = &key;
    ctx.idle_timeout = IDLE;
    ctx.max_age = MAX_AGE;
    if (cnca_store_create(&ctx.store, p, apr_psprintf(p, "127.0.0.1:%d", mc.port), 2) !=
        APR_SUCCESS) {
        ok(0, "a store on our memcached");
        mc_stop();
        return;
    }
    test_stored(&ctx);
    test_max_age(&ctx);
    test_rotate_destroy(&ctx);
    test_load_refusals(&ctx);
    test_memcached_down(&ctx);
    mc_stop();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    cnca_log_set_sink(testlib_log_sink, NULL);
    atexit(mc_stop);
    test_create();
    test_id_valid();
    test_round_trip();
    test_refused();
    test_no_clear_text();
    test_with_memcached();
    return tap_done();
}
