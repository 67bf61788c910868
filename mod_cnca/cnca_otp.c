#include <string.h>

#include <apr_strings.h>

#include "cnca_otp.h"

static const char *bound_hash(apr_pool_t *p, const cnca_key_t *key, const char *what,
                              const char *session_id, const char *mobile, const char *value)
{
    const char *msg =
        apr_pstrcat(p, what, "\n", session_id, "\n", mobile ? mobile : "", "\n", value, NULL);
    return cnca_hmac_hex(p, key->bytes, CNCA_KEY_LEN, msg, strlen(msg));
}

void cnca_captcha_remember(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                           const char *answer, apr_int64_t now)
{
    sess->captcha_hash = bound_hash(p, key, "captcha", sess->id, NULL, answer);
    sess->captcha_exp = now + CNCA_CAPTCHA_TTL;
    sess->dirty = 1;
}

cnca_otp_result_t cnca_captcha_check(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                                     const char *answer, apr_int64_t now)
{
    const char *want = sess->captcha_hash;
    apr_int64_t exp = sess->captcha_exp;

    if (!want) {
        /* nothing to burn: the session stays as it is (no write that could
         * make a parallel request which holds the captcha fail) */
        return CNCA_OTP_EXPIRED;
    }
    /* single use: a wrong try burns it as much as a right one */
    sess->captcha_hash = NULL;
    sess->captcha_exp = 0;
    sess->dirty = 1;
    if (now > exp) {
        return CNCA_OTP_EXPIRED;
    }
    if (!answer ||
        !cnca_str_equal_ct(bound_hash(p, key, "captcha", sess->id, NULL, answer), want)) {
        return CNCA_OTP_WRONG;
    }
    return CNCA_OTP_OK;
}

void cnca_sms_code_remember(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                            const char *mobile, const char *code, apr_int64_t now)
{
    sess->sms_hash = bound_hash(p, key, "sms", sess->id, mobile, code);
    sess->sms_mobile = apr_pstrdup(p, mobile);
    sess->sms_exp = now + CNCA_SMS_CODE_TTL;
    sess->sms_tries = 0;
    sess->dirty = 1;
}

/* The code is gone; sms_mobile stays to say one was sent (a later try is
 * "expired, ask again", not "ask for one first"). */
static void sms_void(cnca_session_t *sess)
{
    sess->sms_hash = NULL;
    sess->sms_exp = 0;
    sess->sms_tries = 0;
    sess->dirty = 1;
}

cnca_otp_result_t cnca_sms_code_check(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                                      const char *mobile, const char *code, apr_int64_t now,
                                      int *ptries_left)
{
    *ptries_left = 0;
    if (!sess->sms_hash || !sess->sms_mobile || !mobile || strcmp(sess->sms_mobile, mobile) ||
        now > sess->sms_exp || sess->sms_tries >= CNCA_SMS_CODE_TRIES) {
        if (sess->sms_hash && now > sess->sms_exp) {
            sms_void(sess);
        }
        return CNCA_OTP_EXPIRED;
    }
    if (code &&
        cnca_str_equal_ct(bound_hash(p, key, "sms", sess->id, mobile, code), sess->sms_hash)) {
        sms_void(sess);
        sess->sms_mobile = NULL; /* used: a repeat is a repeated step */
        return CNCA_OTP_OK;
    }
    sess->sms_tries++;
    sess->dirty = 1;
    *ptries_left = CNCA_SMS_CODE_TRIES - sess->sms_tries;
    if (*ptries_left <= 0) {
        sms_void(sess);
    }
    return CNCA_OTP_WRONG;
}

const char *cnca_sms_code_text(apr_pool_t *p, const char *sign, const char *code)
{
    return apr_pstrcat(p, "【", sign, "】您的验证码为", code, "，5分钟内有效，请勿泄露。", NULL);
}

/* The wait until the oldest send of a full window leaves it (at least 1 s),
 * kept with its reason when it is longer than the wait so far. */
static void longer_wait(int *pwait, const char **preason, apr_int64_t oldest, int window,
                        apr_int64_t now, const char *reason)
{
    apr_int64_t w = oldest + window - now;
    int wait = w < 1 ? 1 : (int)w;

    if (wait > *pwait) {
        *pwait = wait;
        *preason = reason;
    }
}

int cnca_sms_limit_wait(const cnca_sms_limits_t *limits, const cnca_sms_stats_t *stats,
                        apr_int64_t now, const char **preason)
{
    int wait = 0;

    *preason = NULL;
    if (stats->last_at > 0 && now - stats->last_at < limits->interval) {
        wait = (int)(stats->last_at + limits->interval - now);
        *preason = "interval";
    }
    if (stats->hour_count >= limits->hourly) {
        longer_wait(&wait, preason, stats->hour_oldest, 3600, now, "hourly");
    }
    if (stats->day_count >= limits->daily) {
        longer_wait(&wait, preason, stats->day_oldest, 86400, now, "daily");
    }
    if (limits->client_daily > 0 && stats->client_count >= limits->client_daily) {
        longer_wait(&wait, preason, stats->client_oldest, 86400, now, "client_daily");
    }
    return wait;
}
