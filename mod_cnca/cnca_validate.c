#include <string.h>

#include <apr_strings.h>

#include "cnca_validate.h"

#define MSG_NAME_MISSING "请输入姓名"
#define MSG_NAME_CHARS "姓名只能包含汉字和间隔号“·”"
#define MSG_NAME_LENGTH "姓名应为2至30个字"
#define MSG_NAME_DOT "姓名中的“·”不能在开头或结尾，也不能连用"
#define MSG_ID_MISSING "请输入身份证号码"
#define MSG_ID_FORMAT "身份证号码应为18位，最后一位可以是数字或X"
#define MSG_ID_DATE "身份证号码中的出生日期不正确"
#define MSG_ID_WRONG "请输入正确的身份证号码"
#define MSG_MOBILE_MISSING "请输入手机号码"
#define MSG_MOBILE_WRONG "请输入正确的11位手机号码"
#define MSG_CARD_MISSING "请输入您的银行卡号码"
#define MSG_CARD_FORMAT "银行卡号码应为12至19位数字"
#define MSG_CARD_WRONG "请输入正确的银行卡号码"

/* China Standard Time, which birth dates on ID cards are in (no DST). */
#define CHINA_UTC_OFFSET (8 * 60 * 60)

#define CP_MIDDLE_DOT 0x00B7
#define CP_IDEOGRAPHIC_SPACE 0x3000

/* The trimmed text of an input that passed the common checks. */
typedef struct {
    const char *s;
    apr_size_t len;
} text_t;

typedef enum { TEXT_OK, TEXT_MISSING, TEXT_TOO_LONG, TEXT_BAD } text_status_t;

static apr_status_t fail(const char **pnorm, const char **pmsg, const char *msg)
{
    if (pnorm) {
        *pnorm = NULL;
    }
    if (pmsg) {
        *pmsg = msg;
    }
    return APR_EINVAL;
}

static apr_status_t pass(const char **pnorm, const char **pmsg, const char *norm)
{
    if (pnorm) {
        *pnorm = norm;
    }
    if (pmsg) {
        *pmsg = NULL;
    }
    return APR_SUCCESS;
}

/* Decodes the code point at s[*pos] and advances *pos; 0 on malformed UTF-8
 * (bad lead or continuation byte, truncation, overlong form, surrogate,
 * beyond U+10FFFF), following the well-formed table of Unicode ch. 3. */
static int utf8_next(apr_uint32_t *pcp, const unsigned char *s, apr_size_t len, apr_size_t *pos)
{
    apr_size_t i = *pos, n, k;
    unsigned char c = s[i], lo = 0x80, hi = 0xBF;
    apr_uint32_t cp;

    if (c < 0x80) {
        *pcp = c;
        *pos = i + 1;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0F;
        lo = (c == 0xE0) ? 0xA0 : 0x80; /* no overlong forms */
        hi = (c == 0xED) ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07;
        lo = (c == 0xF0) ? 0x90 : 0x80; /* no overlong forms */
        hi = (c == 0xF4) ? 0x8F : 0xBF; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (len - i - 1 < n) {
        return 0;
    }
    for (k = 1; k <= n; ++k) {
        unsigned char b = s[i + k];
        if (b < lo || b > hi) {
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
    }
    *pcp = cp;
    *pos = i + n + 1;
    return 1;
}

static int is_control(apr_uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static int is_trimmed_space(apr_uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == CP_IDEOGRAPHIC_SPACE;
}

/* The checks every input gets before any other work: present, at most
 * CNCA_VALIDATE_MAX_BYTES, valid UTF-8, no control character other than a
 * tab; then trimmed. TEXT_MISSING when nothing is left. */
static text_status_t text_prepare(text_t *t, const char *in)
{
    const unsigned char *s = (const unsigned char *)in;
    apr_size_t len, pos = 0, start = 0, end = 0;
    int seen = 0;

    t->s = NULL;
    t->len = 0;
    if (!in) {
        return TEXT_MISSING;
    }
    len = strnlen(in, CNCA_VALIDATE_MAX_BYTES + 1);
    if (len > CNCA_VALIDATE_MAX_BYTES) {
        return TEXT_TOO_LONG;
    }
    while (pos < len) {
        apr_size_t at = pos;
        apr_uint32_t cp;

        if (!utf8_next(&cp, s, len, &pos)) {
            return TEXT_BAD;
        }
        if (cp != '\t' && is_control(cp)) {
            return TEXT_BAD;
        }
        if (!is_trimmed_space(cp)) {
            if (!seen) {
                start = at;
                seen = 1;
            }
            end = pos;
        }
    }
    if (!seen) {
        return TEXT_MISSING;
    }
    t->s = in + start;
    t->len = end - start;
    return TEXT_OK;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Copies the digits of t into out (room for max digits and a NUL). Runs of
 * the bytes in seps may stand between two digits and are dropped; anything
 * else, or more than max digits, gives 0. */
static int collect_digits(char *out, apr_size_t *pn, apr_size_t max, const text_t *t,
                          const char *seps)
{
    apr_size_t i, n = 0;

    for (i = 0; i < t->len; ++i) {
        char c = t->s[i];
        if (is_digit(c)) {
            if (n == max) {
                return 0;
            }
            out[n++] = c;
        } else if (n == 0 || !strchr(seps, c)) {
            return 0; /* not a separator, or one before the first digit */
        }
    }
    if (!is_digit(t->s[t->len - 1])) {
        return 0; /* a separator after the last digit */
    }
    out[n] = '\0';
    *pn = n;
    return 1;
}

/* ---- name ---------------------------------------------------------------- */

static int is_cjk_ideograph(apr_uint32_t cp)
{
    return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FA1F);
}

static int is_dot_lookalike(apr_uint32_t cp)
{
    return cp == CP_MIDDLE_DOT || cp == 0x2022 || cp == 0x30FB || cp == 0x22C5 || cp == 0x2027;
}

static apr_size_t utf8_put(char *out, apr_uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

apr_status_t cnca_validate_name(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                const char *in)
{
    const unsigned char *s;
    char *out;
    text_t t;
    apr_size_t pos = 0, olen = 0;
    int nchars = 0, dot_misplaced = 0, prev_dot = 0;

    switch (text_prepare(&t, in)) {
        case TEXT_MISSING:
            return fail(pnorm, pmsg, MSG_NAME_MISSING);
        case TEXT_TOO_LONG:
            return fail(pnorm, pmsg, MSG_NAME_LENGTH);
        case TEXT_BAD:
            return fail(pnorm, pmsg, MSG_NAME_CHARS);
        case TEXT_OK:
            break;
    }
    /* Every character is checked before the count, so that a name with a
     * letter in it is told about the letter. */
    s = (const unsigned char *)t.s;
    out = apr_palloc(p, t.len + 1); /* U+00B7 is shorter than each look-alike */
    while (pos < t.len) {
        apr_uint32_t cp;
        int dot;

        utf8_next(&cp, s, t.len, &pos); /* text_prepare saw it was well-formed */
        dot = is_dot_lookalike(cp);
        if (!dot && !is_cjk_ideograph(cp)) {
            return fail(pnorm, pmsg, MSG_NAME_CHARS);
        }
        if (dot && (nchars == 0 || prev_dot)) {
            dot_misplaced = 1;
        }
        olen += utf8_put(out + olen, dot ? CP_MIDDLE_DOT : cp);
        prev_dot = dot;
        ++nchars;
    }
    out[olen] = '\0';
    if (nchars < CNCA_NAME_MIN_CHARS || nchars > CNCA_NAME_MAX_CHARS) {
        return fail(pnorm, pmsg, MSG_NAME_LENGTH);
    }
    if (dot_misplaced || prev_dot) {
        return fail(pnorm, pmsg, MSG_NAME_DOT);
    }
    return pass(pnorm, pmsg, out);
}

/* ---- ID number ----------------------------------------------------------- */

static int is_region_code(int code)
{
    return (code >= 11 && code <= 15) || (code >= 21 && code <= 23) || (code >= 31 && code <= 37) ||
           (code >= 41 && code <= 46) || (code >= 50 && code <= 54) || (code >= 61 && code <= 65) ||
           code == 71 || code == 81 || code == 82;
}

static int number_at(const char *s, int n)
{
    int v = 0, i;
    for (i = 0; i < n; ++i) {
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap_year(y)) ? 29 : days[m - 1];
}

/* A real date from CNCA_ID_MIN_YEAR-01-01 up to and including today. */
static int is_birth_date(int y, int m, int d, const apr_time_exp_t *today)
{
    int ty = today->tm_year + 1900, tm = today->tm_mon + 1, td = today->tm_mday;

    if (y < CNCA_ID_MIN_YEAR || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        return 0;
    }
    return y < ty || (y == ty && (m < tm || (m == tm && d <= td)));
}

/* GB 11643-1999 MOD 11-2 over the first 17 digits. */
static char id_check_char(const char *id)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";
    int i, sum = 0;

    for (i = 0; i < 17; ++i) {
        sum += (id[i] - '0') * weights[i];
    }
    return checks[sum % 11];
}

apr_status_t cnca_validate_id_number_at(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                        const char *in, apr_time_t now)
{
    apr_time_exp_t today;
    char id[CNCA_ID_NUMBER_LEN + 1];
    text_t t;
    int i;

    switch (text_prepare(&t, in)) {
        case TEXT_MISSING:
            return fail(pnorm, pmsg, MSG_ID_MISSING);
        case TEXT_TOO_LONG:
        case TEXT_BAD:
            return fail(pnorm, pmsg, MSG_ID_FORMAT);
        case TEXT_OK:
            break;
    }
    if (t.len != CNCA_ID_NUMBER_LEN) {
        return fail(pnorm, pmsg, MSG_ID_FORMAT);
    }
    for (i = 0; i < CNCA_ID_NUMBER_LEN; ++i) {
        char c = t.s[i];
        if (i == CNCA_ID_NUMBER_LEN - 1 && (c == 'x' || c == 'X')) {
            c = 'X';
        } else if (!is_digit(c)) {
            return fail(pnorm, pmsg, MSG_ID_FORMAT);
        }
        id[i] = c;
    }
    id[CNCA_ID_NUMBER_LEN] = '\0';

    if (!is_region_code(number_at(id, 2))) {
        return fail(pnorm, pmsg, MSG_ID_WRONG);
    }
    if (apr_time_exp_tz(&today, now, CHINA_UTC_OFFSET) != APR_SUCCESS ||
        !is_birth_date(number_at(id + 6, 4), number_at(id + 10, 2), number_at(id + 12, 2),
                       &today)) {
        return fail(pnorm, pmsg, MSG_ID_DATE);
    }
    if (id_check_char(id) != id[17]) {
        return fail(pnorm, pmsg, MSG_ID_WRONG);
    }
    return pass(pnorm, pmsg, apr_pstrdup(p, id));
}

apr_status_t cnca_validate_id_number(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                     const char *in)
{
    return cnca_validate_id_number_at(pnorm, pmsg, p, in, apr_time_now());
}

/* ---- mobile, bank card, digit codes -------------------------------------- */

apr_status_t cnca_validate_mobile(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                  const char *in)
{
    char digits[CNCA_MOBILE_LEN + 1];
    apr_size_t n;
    text_t t;

    switch (text_prepare(&t, in)) {
        case TEXT_MISSING:
            return fail(pnorm, pmsg, MSG_MOBILE_MISSING);
        case TEXT_TOO_LONG:
        case TEXT_BAD:
            return fail(pnorm, pmsg, MSG_MOBILE_WRONG);
        case TEXT_OK:
            break;
    }
    if (!collect_digits(digits, &n, CNCA_MOBILE_LEN, &t, " -") || n != CNCA_MOBILE_LEN ||
        digits[0] != '1' || digits[1] < '3') {
        return fail(pnorm, pmsg, MSG_MOBILE_WRONG);
    }
    return pass(pnorm, pmsg, apr_pstrdup(p, digits));
}

static int luhn_ok(const char *digits, apr_size_t n)
{
    apr_size_t i;
    int sum = 0;

    for (i = 0; i < n; ++i) {
        int d = digits[n - 1 - i] - '0';
        if (i % 2) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
    }
    return sum % 10 == 0;
}

apr_status_t cnca_validate_bank_card(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                     const char *in)
{
    char digits[CNCA_BANK_CARD_MAX + 1];
    apr_size_t n;
    text_t t;

    switch (text_prepare(&t, in)) {
        case TEXT_MISSING:
            return fail(pnorm, pmsg, MSG_CARD_MISSING);
        case TEXT_TOO_LONG:
        case TEXT_BAD:
            return fail(pnorm, pmsg, MSG_CARD_FORMAT);
        case TEXT_OK:
            break;
    }
    if (!collect_digits(digits, &n, CNCA_BANK_CARD_MAX, &t, " ") || n < CNCA_BANK_CARD_MIN) {
        return fail(pnorm, pmsg, MSG_CARD_FORMAT);
    }
    if (!luhn_ok(digits, n)) {
        return fail(pnorm, pmsg, MSG_CARD_WRONG);
    }
    return pass(pnorm, pmsg, apr_pstrdup(p, digits));
}

apr_status_t cnca_validate_digits(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                  const char *in, int ndigits, const char *what)
{
    char digits[33];
    apr_size_t n;
    text_t t;

    if (!what) {
        what = "验证码";
    }
    if (ndigits < 1 || ndigits > 32) {
        return fail(pnorm, pmsg, apr_pstrcat(p, "请输入正确的", what, NULL));
    }
    switch (text_prepare(&t, in)) {
        case TEXT_MISSING:
            return fail(pnorm, pmsg, apr_pstrcat(p, "请输入", what, NULL));
        case TEXT_TOO_LONG:
        case TEXT_BAD:
            return fail(pnorm, pmsg, apr_psprintf(p, "%s应为%d位数字", what, ndigits));
        case TEXT_OK:
            break;
    }
    if (!collect_digits(digits, &n, (apr_size_t)ndigits, &t, "") || n != (apr_size_t)ndigits) {
        return fail(pnorm, pmsg, apr_psprintf(p, "%s应为%d位数字", what, ndigits));
    }
    return pass(pnorm, pmsg, apr_pstrdup(p, digits));
}
