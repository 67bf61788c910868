/* One-time secrets a session holds: the image captcha answer and the SMS
 * code. Only keyed hashes are kept, each bound to the session (and the SMS
 * code to its mobile); every rule of DESIGN.md's non-negotiables is here. */
#ifndef CNCA_OTP_H
#define CNCA_OTP_H

#include "cnca_crypto.h"
#include "cnca_session.h"

#define CNCA_CAPTCHA_TTL 300
#define CNCA_SMS_CODE_DIGITS 6
#define CNCA_SMS_CODE_TTL 300
#define CNCA_SMS_CODE_TRIES 5

typedef enum {
    CNCA_OTP_OK,      /* right, and now used up */
    CNCA_OTP_WRONG,   /* wrong; tries remain (SMS) or burnt (captcha) */
    CNCA_OTP_EXPIRED, /* none, expired, used, or voided by too many tries */
} cnca_otp_result_t;

/* Remembers a new captcha answer (replacing the last) for 5 minutes. */
void cnca_captcha_remember(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                           const char *answer, apr_int64_t now);

/* Checks an answer; the captcha is used up whatever the outcome (the
 * session is then dirty; with no captcha there it is left unchanged). */
cnca_otp_result_t cnca_captcha_check(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                                     const char *answer, apr_int64_t now);

/* Remembers a new SMS code for mobile (replacing any earlier one). */
void cnca_sms_code_remember(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                            const char *mobile, const char *code, apr_int64_t now);

/* Checks a code for mobile: right once, then used up; five wrong tries void
 * it. *ptries_left gets what remains after a wrong try. */
cnca_otp_result_t cnca_sms_code_check(cnca_session_t *sess, apr_pool_t *p, const cnca_key_t *key,
                                      const char *mobile, const char *code, apr_int64_t now,
                                      int *ptries_left);

/* The SMS text: 【SIGN】您的验证码为NNNNNN，5分钟内有效，请勿泄露。 */
const char *cnca_sms_code_text(apr_pool_t *p, const char *sign, const char *code);

/* SMS sending limits (counted in the database, so a memcached restart does
 * not reset them). */
typedef struct {
    int interval;     /* seconds between two codes to one number */
    int hourly;       /* codes per number per hour */
    int daily;        /* codes per number per day (24 h) */
    int client_daily; /* codes per client address per day; 0: no such cap */
} cnca_sms_limits_t;

typedef struct {
    apr_int64_t last_at;     /* newest send to the number, 0 when none */
    int hour_count;          /* sends to the number in the last hour */
    apr_int64_t hour_oldest; /* oldest of those */
    int day_count;           /* sends to the number in the last 24 h */
    apr_int64_t day_oldest;  /* oldest of those */
    int client_count;        /* sends from the client in the last 24 h */
    apr_int64_t client_oldest;
} cnca_sms_stats_t;

/* 0 when a code may be sent now; else the seconds to wait, with *preason
 * "interval", "hourly", "daily" or "client_daily". */
int cnca_sms_limit_wait(const cnca_sms_limits_t *limits, const cnca_sms_stats_t *stats,
                        apr_int64_t now, const char **preason);

#endif
