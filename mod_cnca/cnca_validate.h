/* Validation of what applicants type into the forms: name, ID number
 * (GB 11643-1999), mobile, bank card, and the digit codes (captcha, SMS).
 *
 * Every validator first bounds the input (CNCA_VALIDATE_MAX_BYTES), refuses
 * invalid UTF-8 and control characters (CR, LF, ... anywhere), then trims
 * spaces, tabs and the full-width space U+3000 at both ends. On success it
 * returns APR_SUCCESS with *pnorm = the normalised value (pool-allocated) and
 * *pmsg = NULL; otherwise APR_EINVAL with *pnorm = NULL and *pmsg = the
 * Chinese message the page shows next to the field. A message never repeats
 * the input. in == NULL (field missing) or blank gives "请输入…". */
#ifndef CNCA_VALIDATE_H
#define CNCA_VALIDATE_H

#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_time.h>

/* Inputs longer than this (in bytes, before trimming) are refused unread. */
#define CNCA_VALIDATE_MAX_BYTES 256

#define CNCA_NAME_MIN_CHARS 2
#define CNCA_NAME_MAX_CHARS 30
#define CNCA_ID_NUMBER_LEN 18
#define CNCA_MOBILE_LEN 11
#define CNCA_BANK_CARD_MIN 12
#define CNCA_BANK_CARD_MAX 19
/* The earliest birth date an ID number may carry. */
#define CNCA_ID_MIN_YEAR 1850

/* CJK ideographs and the middle dot U+00B7 (U+2022, U+30FB, U+22C5 and
 * U+2027 become U+00B7); 2 to 30 characters; a dot neither first nor last
 * nor next to another dot. */
apr_status_t cnca_validate_name(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                const char *in);

/* 18 characters: 17 digits then a digit or X (x becomes X); a province-level
 * region code; a real birth date from 1850-01-01 to today (China time);
 * the MOD 11-2 check digit. */
apr_status_t cnca_validate_id_number(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                     const char *in);

/* The same with "today" taken from `now` (China time, UTC+8), for tests. */
apr_status_t cnca_validate_id_number_at(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                        const char *in, apr_time_t now);

/* 11 ASCII digits, 1[3-9]xxxxxxxxx. Spaces or dashes between digit groups
 * are dropped; no country code. */
apr_status_t cnca_validate_mobile(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                  const char *in);

/* 12 to 19 ASCII digits (spaces between groups dropped) passing the Luhn
 * check. */
apr_status_t cnca_validate_bank_card(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                     const char *in);

/* Exactly ndigits (1..32) ASCII digits; `what` names the field in the
 * message ("图形验证码", "短信验证码"; NULL: "验证码"). */
apr_status_t cnca_validate_digits(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                  const char *in, int ndigits, const char *what);

#endif
