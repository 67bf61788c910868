/* Unit tests for cnca_validate.c: each validator with good and bad input,
 * the normalised value, and the message the page shows. */
#include <string.h>

#include <apr_strings.h>

#include "tap.h"
#include "cnca_validate.h"

typedef apr_status_t validate_fn(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                 const char *in);

/* 2024-06-15 00:00:00 in China (UTC+8) = 2024-06-14 16:00:00 UTC. */
#define JUNE_15_2024_CHINA apr_time_from_sec(1718380800)

static apr_time_t id_now;

static apr_status_t id_at_now(const char **pnorm, const char **pmsg, apr_pool_t *p, const char *in)
{
    return cnca_validate_id_number_at(pnorm, pmsg, p, in, id_now);
}

static int digits_n;
static const char *digits_what;

static apr_status_t digits_fixed(const char **pnorm, const char **pmsg, apr_pool_t *p,
                                 const char *in)
{
    return cnca_validate_digits(pnorm, pmsg, p, in, digits_n, digits_what);
}

static void accepts(validate_fn *fn, const char *in, const char *want, const char *what)
{
    apr_pool_t *p = tap_pool();
    const char *norm = "unset", *msg = "unset";
    apr_status_t rv = fn(&norm, &msg, p, in);

    is_int(rv, APR_SUCCESS, apr_pstrcat(p, "accepts ", what, NULL));
    is_str(norm, want, apr_pstrcat(p, "  normalised ", what, NULL));
    ok(msg == NULL, apr_pstrcat(p, "  no message for ", what, NULL));
}

static void refuses(validate_fn *fn, const char *in, const char *want_msg, const char *what)
{
    apr_pool_t *p = tap_pool();
    const char *norm = "unset", *msg = NULL;
    apr_status_t rv = fn(&norm, &msg, p, in);

    is_int(rv, APR_EINVAL, apr_pstrcat(p, "refuses ", what, NULL));
    ok(norm == NULL, apr_pstrcat(p, "  no value for ", what, NULL));
    is_str(msg, want_msg, apr_pstrcat(p, "  message for ", what, NULL));
    if (in && strlen(in) >= 4 && msg) {
        ok(!strstr(msg, in), apr_pstrcat(p, "  message does not echo ", what, NULL));
    }
}

/* n copies of s. */
static const char *repeat(apr_pool_t *p, const char *s, int n)
{
    char *out = apr_palloc(p, strlen(s) * n + 1);
    int i;

    out[0] = '\0';
    for (i = 0; i < n; ++i) {
        strcat(out, s);
    }
    return out;
}

#define NAME_MISSING "请输入姓名"
#define NAME_CHARS "姓名只能包含汉字和间隔号“·”"
#define NAME_LENGTH "姓名应为2至30个字"
#define NAME_DOT "姓名中的“·”不能在开头或结尾，也不能连用"

/* UTF-8 of the code points at the edges of the accepted ranges. */
#define U3000 "\xe3\x80\x80"
#define U00B7 "\xc2\xb7"

static void test_name_good(void)
{
    apr_pool_t *p = tap_pool();

    accepts(cnca_validate_name, "刘成", "刘成", "two-character name");
    accepts(cnca_validate_name, "欧阳建国", "欧阳建国", "four-character name");
    accepts(cnca_validate_name, "阿依古丽·买买提", "阿依古丽·买买提", "name with middle dot");
    accepts(cnca_validate_name, "  刘成\t", "刘成", "ASCII space and tab trimmed");
    accepts(cnca_validate_name, U3000 "刘成" U3000 U3000, "刘成", "full-width space trimmed");
    accepts(cnca_validate_name, repeat(p, "刘", 30), repeat(p, "刘", 30), "30 characters");
    accepts(cnca_validate_name, "刘·成", "刘·成", "3 characters with a dot");
    /* the look-alikes of the middle dot become U+00B7 */
    accepts(cnca_validate_name, "阿依古丽\xe2\x80\xa2买买提", "阿依古丽" U00B7 "买买提",
            "U+2022 bullet normalised");
    accepts(cnca_validate_name, "阿依古丽\xe3\x83\xbb买买提", "阿依古丽" U00B7 "买买提",
            "U+30FB katakana dot normalised");
    accepts(cnca_validate_name, "阿依古丽\xe2\x8b\x85买买提", "阿依古丽" U00B7 "买买提",
            "U+22C5 dot operator normalised");
    accepts(cnca_validate_name, "阿依古丽\xe2\x80\xa7买买提", "阿依古丽" U00B7 "买买提",
            "U+2027 hyphenation point normalised");
    /* range edges */
    accepts(cnca_validate_name, "\xe3\x90\x80\xe4\xb6\xbf", "\xe3\x90\x80\xe4\xb6\xbf",
            "U+3400 and U+4DBF (extension A)");
    accepts(cnca_validate_name, "\xe4\xb8\x80\xe9\xbf\xbf", "\xe4\xb8\x80\xe9\xbf\xbf",
            "U+4E00 and U+9FFF");
    accepts(cnca_validate_name, "\xef\xa4\x80\xef\xab\xbf", "\xef\xa4\x80\xef\xab\xbf",
            "U+F900 and U+FAFF (compatibility)");
    accepts(cnca_validate_name, "\xf0\xa0\x80\x80\xf0\xaf\xa8\x9f",
            "\xf0\xa0\x80\x80\xf0\xaf\xa8\x9f", "U+20000 and U+2FA1F (supplementary)");
    accepts(cnca_validate_name, "\xf0\xa0\x80\x80刘", "\xf0\xa0\x80\x80刘",
            "extension B character in a name");
}

static void test_name_bad(void)
{
    apr_pool_t *p = tap_pool();

    refuses(cnca_validate_name, NULL, NAME_MISSING, "NULL name");
    refuses(cnca_validate_name, "", NAME_MISSING, "empty name");
    refuses(cnca_validate_name, "  \t" U3000, NAME_MISSING, "blank name");
    refuses(cnca_validate_name, "刘", NAME_LENGTH, "1 character");
    refuses(cnca_validate_name, repeat(p, "刘", 31), NAME_LENGTH, "31 characters");
    refuses(cnca_validate_name, repeat(p, "刘", 86), NAME_LENGTH, "over the byte bound");
    refuses(cnca_validate_name, apr_pstrcat(p, repeat(p, " ", 255), "刘成", NULL), NAME_LENGTH,
            "byte bound counts before trimming");
    refuses(cnca_validate_name, "刘\0成", NAME_LENGTH, "NUL ends the input");
    refuses(cnca_validate_name, "Liu Cheng", NAME_CHARS, "Latin letters");
    refuses(cnca_validate_name, "刘成1", NAME_CHARS, "digit");
    refuses(cnca_validate_name, "刘 成", NAME_CHARS, "space inside");
    refuses(cnca_validate_name, "刘" U3000 "成", NAME_CHARS, "full-width space inside");
    refuses(cnca_validate_name, "刘\t成", NAME_CHARS, "tab inside");
    refuses(cnca_validate_name, "刘成'; DROP TABLE persons;--", NAME_CHARS, "SQL injection");
    refuses(cnca_validate_name, "'; DROP TABLE persons;--", NAME_CHARS, "SQL only");
    refuses(cnca_validate_name, "刘\r\n成", NAME_CHARS, "CRLF inside");
    refuses(cnca_validate_name, "刘成\r\n", NAME_CHARS, "CRLF at the end");
    refuses(cnca_validate_name, "\n刘成", NAME_CHARS, "LF at the start");
    refuses(cnca_validate_name, "刘\x7f成", NAME_CHARS, "DEL");
    refuses(cnca_validate_name, "刘\xc2\x85成", NAME_CHARS, "C1 control U+0085");
    refuses(cnca_validate_name, "<b>刘成</b>", NAME_CHARS, "markup");
    refuses(cnca_validate_name, "刘成\xf0\x9f\x98\x80", NAME_CHARS, "emoji");
    refuses(cnca_validate_name, "刘．成", NAME_CHARS, "full-width full stop U+FF0E");
    refuses(cnca_validate_name, "刘.成", NAME_CHARS, "ASCII full stop");
    refuses(cnca_validate_name, "刘成ㄅ", NAME_CHARS, "bopomofo");
    refuses(cnca_validate_name, "さくら", NAME_CHARS, "hiragana");
    /* just outside the ranges */
    refuses(cnca_validate_name, "刘\xe3\x8f\xbf", NAME_CHARS, "U+33FF");
    refuses(cnca_validate_name, "刘\xe4\xb7\x80", NAME_CHARS, "U+4DC0 (hexagram)");
    refuses(cnca_validate_name, "刘\xea\x80\x80", NAME_CHARS, "U+A000 (Yi)");
    refuses(cnca_validate_name, "刘\xef\xac\x80", NAME_CHARS, "U+FB00");
    refuses(cnca_validate_name, "刘\xf0\xaf\xa8\xa0", NAME_CHARS, "U+2FA20");
    refuses(cnca_validate_name, "刘\xf0\x9f\xbf\xbf", NAME_CHARS, "U+1FFFF");
    /* malformed UTF-8 */
    refuses(cnca_validate_name, "\xff刘成", NAME_CHARS, "byte 0xFF");
    refuses(cnca_validate_name, "刘\x80成", NAME_CHARS, "lone continuation byte");
    refuses(cnca_validate_name, "刘成\xe5\x88", NAME_CHARS, "truncated sequence at the end");
    refuses(cnca_validate_name, "刘\xe5\x88成", NAME_CHARS, "truncated sequence inside");
    refuses(cnca_validate_name, "刘\xc0\xaf成", NAME_CHARS, "overlong 2-byte '/'");
    refuses(cnca_validate_name, "刘\xe0\x80\xaf成", NAME_CHARS, "overlong 3-byte '/'");
    refuses(cnca_validate_name, "刘\xf0\x82\x88\x98", NAME_CHARS, "overlong 4-byte U+2218");
    refuses(cnca_validate_name, "刘\xed\xa0\x80成", NAME_CHARS, "encoded surrogate");
    refuses(cnca_validate_name, "刘\xf4\x90\x80\x80", NAME_CHARS, "beyond U+10FFFF");
    refuses(cnca_validate_name, "刘\xf8\x88\x80\x80\x80", NAME_CHARS, "5-byte form");
    /* the dot */
    refuses(cnca_validate_name, "·刘成", NAME_DOT, "dot first");
    refuses(cnca_validate_name, "刘成·", NAME_DOT, "dot last");
    refuses(cnca_validate_name, "刘··成", NAME_DOT, "two dots in a row");
    refuses(cnca_validate_name, "刘\xe2\x80\xa2·成", NAME_DOT, "look-alike next to a dot");
    refuses(cnca_validate_name, "··", NAME_DOT, "only dots");
    refuses(cnca_validate_name, "·", NAME_LENGTH, "a lone dot");
}

#define ID_MISSING "请输入身份证号码"
#define ID_FORMAT "身份证号码应为18位，最后一位可以是数字或X"
#define ID_DATE "身份证号码中的出生日期不正确"
#define ID_WRONG "请输入正确的身份证号码"

static void test_id_number_good(void)
{
    id_now = JUNE_15_2024_CHINA;
    accepts(id_at_now, "11010519491231002X", "11010519491231002X", "GB 11643 example");
    accepts(id_at_now, "440524188001010014", "440524188001010014", "born 1880");
    accepts(id_at_now, "11010519491231002x", "11010519491231002X", "lowercase x");
    accepts(id_at_now, " 11010519491231002X" U3000, "11010519491231002X", "trimmed");
    accepts(id_at_now, "310101199003071230", "310101199003071230", "check digit 0");
    accepts(id_at_now, "110105185001010013", "110105185001010013", "born 1850-01-01");
    accepts(id_at_now, "110105200002290013", "110105200002290013", "Feb 29 2000 (leap)");
    accepts(id_at_now, "110105200402290012", "110105200402290012", "Feb 29 2004 (leap)");
    accepts(id_at_now, "110105202406150016", "110105202406150016", "born today");
    /* every region range, first and last */
    accepts(id_at_now, "150105194912310027", "150105194912310027", "region 15");
    accepts(id_at_now, "210105194912310023", "210105194912310023", "region 21");
    accepts(id_at_now, "230105194912310027", "230105194912310027", "region 23");
    accepts(id_at_now, "370105194912310028", "370105194912310028", "region 37");
    accepts(id_at_now, "410105194912310020", "410105194912310020", "region 41");
    accepts(id_at_now, "46010519491231002X", "46010519491231002X", "region 46");
    accepts(id_at_now, "500105194912310022", "500105194912310022", "region 50");
    accepts(id_at_now, "54010519491231002X", "54010519491231002X", "region 54");
    accepts(id_at_now, "610105194912310028", "610105194912310028", "region 61");
    accepts(id_at_now, "650105194912310025", "650105194912310025", "region 65");
    accepts(id_at_now, "710105194912310021", "710105194912310021", "region 71");
    accepts(id_at_now, "810105194912310025", "810105194912310025", "region 81");
    accepts(id_at_now, "820105194912310027", "820105194912310027", "region 82");
    accepts(id_at_now, "120105194912310021", "120105194912310021", "region 12");
    /* today is taken from the clock */
    accepts(cnca_validate_id_number, "11010519491231002X", "11010519491231002X",
            "with the real clock");
}

static void test_id_number_bad(void)
{
    apr_pool_t *p = tap_pool();

    id_now = JUNE_15_2024_CHINA;
    refuses(id_at_now, NULL, ID_MISSING, "NULL");
    refuses(id_at_now, "", ID_MISSING, "empty");
    refuses(id_at_now, U3000 " ", ID_MISSING, "blank");
    refuses(id_at_now, "110105194912310021", ID_WRONG, "wrong check digit");
    refuses(id_at_now, "110105194912310020", ID_WRONG, "wrong check digit 0");
    refuses(id_at_now, "440524188001010015", ID_WRONG, "wrong check digit (1880)");
    refuses(id_at_now, "11010519491231002", ID_FORMAT, "17 characters");
    refuses(id_at_now, "11010519491231002X1", ID_FORMAT, "19 characters");
    refuses(id_at_now, "110105194912310", ID_FORMAT, "old 15-digit number");
    refuses(id_at_now, "1101051949123100AX", ID_FORMAT, "letter inside");
    refuses(id_at_now, "X10105194912310021", ID_FORMAT, "X first");
    refuses(id_at_now, "11010519491231002Y", ID_FORMAT, "Y last");
    refuses(id_at_now, "110105 19491231002X", ID_FORMAT, "space inside");
    refuses(id_at_now, "110105-19491231-002X", ID_FORMAT, "dashes inside");
    refuses(id_at_now, "１１０１０５１９４９１２３１００２Ｘ", ID_FORMAT, "full-width digits");
    refuses(id_at_now, "11010519491231002X\r\n", ID_FORMAT, "CRLF");
    refuses(id_at_now, "11010519491231002\xff", ID_FORMAT, "invalid UTF-8");
    refuses(id_at_now, repeat(p, "1", 300), ID_FORMAT, "over the byte bound");
    refuses(id_at_now, "'; DROP TABLE persons;--", ID_FORMAT, "SQL");
    /* dates */
    refuses(id_at_now, "110105190002290017", ID_DATE, "Feb 29 1900 (not leap)");
    refuses(id_at_now, "110105200302290015", ID_DATE, "Feb 29 2003 (not leap)");
    refuses(id_at_now, "110105194902300012", ID_DATE, "Feb 30");
    refuses(id_at_now, "110105194904310011", ID_DATE, "Apr 31");
    refuses(id_at_now, "110105194900010011", ID_DATE, "month 00");
    refuses(id_at_now, "110105194913010010", ID_DATE, "month 13");
    refuses(id_at_now, "110105194901000018", ID_DATE, "day 00");
    refuses(id_at_now, "110105194901320011", ID_DATE, "day 32");
    refuses(id_at_now, "110105184912310012", ID_DATE, "born 1849-12-31");
    refuses(id_at_now, "110105202406160011", ID_DATE, "born tomorrow");
    refuses(id_at_now, "110105209901010012", ID_DATE, "born 2099");
    refuses(cnca_validate_id_number, "110105209901010012", ID_DATE,
            "born 2099 with the real clock");
    /* "today" is the date in China: a second before midnight there it is
     * still the 14th, though the 14th ended long ago further west */
    id_now = JUNE_15_2024_CHINA - apr_time_from_sec(1);
    refuses(id_at_now, "110105202406150016", ID_DATE, "born tomorrow, China time");
    /* regions */
    id_now = JUNE_15_2024_CHINA;
    refuses(id_at_now, "000105194912310024", ID_WRONG, "region 00");
    refuses(id_at_now, "100105194912310028", ID_WRONG, "region 10");
    refuses(id_at_now, "160105194912310029", ID_WRONG, "region 16");
    refuses(id_at_now, "200105194912310021", ID_WRONG, "region 20");
    refuses(id_at_now, "240105194912310029", ID_WRONG, "region 24");
    refuses(id_at_now, "300105194912310025", ID_WRONG, "region 30");
    refuses(id_at_now, "38010519491231002X", ID_WRONG, "region 38");
    refuses(id_at_now, "470105194912310021", ID_WRONG, "region 47");
    refuses(id_at_now, "550105194912310021", ID_WRONG, "region 55");
    refuses(id_at_now, "600105194912310026", ID_WRONG, "region 60");
    refuses(id_at_now, "660105194912310027", ID_WRONG, "region 66");
    refuses(id_at_now, "70010519491231002X", ID_WRONG, "region 70");
    refuses(id_at_now, "720105194912310023", ID_WRONG, "region 72");
    refuses(id_at_now, "800105194912310023", ID_WRONG, "region 80");
    refuses(id_at_now, "830105194912310029", ID_WRONG, "region 83");
    refuses(id_at_now, "900105194912310027", ID_WRONG, "region 90");
    refuses(id_at_now, "990105194912310023", ID_WRONG, "region 99");
}

#define MOBILE_MISSING "请输入手机号码"
#define MOBILE_WRONG "请输入正确的11位手机号码"

static void test_mobile(void)
{
    accepts(cnca_validate_mobile, "13812345678", "13812345678", "138 number");
    accepts(cnca_validate_mobile, "19912345678", "19912345678", "199 number");
    accepts(cnca_validate_mobile, "14012345678", "14012345678", "140 number");
    accepts(cnca_validate_mobile, U3000 "13812345678 ", "13812345678", "trimmed");
    accepts(cnca_validate_mobile, "138 1234 5678", "13812345678", "spaces between groups");
    accepts(cnca_validate_mobile, "138-1234-5678", "13812345678", "dashes between groups");
    accepts(cnca_validate_mobile, "138 - 1234 - 5678", "13812345678", "spaced dashes");

    refuses(cnca_validate_mobile, NULL, MOBILE_MISSING, "NULL");
    refuses(cnca_validate_mobile, "", MOBILE_MISSING, "empty");
    refuses(cnca_validate_mobile, "   ", MOBILE_MISSING, "blank");
    refuses(cnca_validate_mobile, "1381234567", MOBILE_WRONG, "10 digits");
    refuses(cnca_validate_mobile, "138123456789", MOBILE_WRONG, "12 digits");
    refuses(cnca_validate_mobile, "12812345678", MOBILE_WRONG, "second digit 2");
    refuses(cnca_validate_mobile, "10012345678", MOBILE_WRONG, "second digit 0");
    refuses(cnca_validate_mobile, "23812345678", MOBILE_WRONG, "first digit 2");
    refuses(cnca_validate_mobile, "+8613812345678", MOBILE_WRONG, "+86 prefix");
    refuses(cnca_validate_mobile, "8613812345678", MOBILE_WRONG, "86 prefix");
    refuses(cnca_validate_mobile, "-13812345678", MOBILE_WRONG, "leading dash");
    refuses(cnca_validate_mobile, "13812345678-", MOBILE_WRONG, "trailing dash");
    refuses(cnca_validate_mobile, "138" U3000 "1234" U3000 "5678", MOBILE_WRONG,
            "full-width spaces inside");
    refuses(cnca_validate_mobile, "１３８１２３４５６７８", MOBILE_WRONG, "full-width digits");
    refuses(cnca_validate_mobile, "1381234567８", MOBILE_WRONG, "one full-width digit");
    refuses(cnca_validate_mobile, "1381234567a", MOBILE_WRONG, "letter");
    refuses(cnca_validate_mobile, "138.1234.5678", MOBILE_WRONG, "dots");
    refuses(cnca_validate_mobile, "13812345678\r\n", MOBILE_WRONG, "CRLF");
    refuses(cnca_validate_mobile, "138\n12345678", MOBILE_WRONG, "LF inside");
    refuses(cnca_validate_mobile, "1381234567\xc8", MOBILE_WRONG, "invalid UTF-8");
    refuses(cnca_validate_mobile, "13812345678'; DROP TABLE persons;--", MOBILE_WRONG, "SQL");
}

#define CARD_MISSING "请输入您的银行卡号码"
#define CARD_FORMAT "银行卡号码应为12至19位数字"
#define CARD_WRONG "请输入正确的银行卡号码"

static void test_bank_card(void)
{
    apr_pool_t *p = tap_pool();

    accepts(cnca_validate_bank_card, "4111111111111111", "4111111111111111", "16 digits");
    accepts(cnca_validate_bank_card, "622848123452", "622848123452", "12 digits");
    accepts(cnca_validate_bank_card, "622202123456782", "622202123456782", "15 digits");
    accepts(cnca_validate_bank_card, "6228481234567890128", "6228481234567890128", "19 digits");
    accepts(cnca_validate_bank_card, "4111 1111 1111 1111", "4111111111111111", "grouped");
    accepts(cnca_validate_bank_card, " 6228 4812 3456 7890 128  ", "6228481234567890128",
            "grouped and trimmed");

    refuses(cnca_validate_bank_card, NULL, CARD_MISSING, "NULL");
    refuses(cnca_validate_bank_card, "", CARD_MISSING, "empty");
    refuses(cnca_validate_bank_card, U3000, CARD_MISSING, "blank");
    refuses(cnca_validate_bank_card, "4111111111111112", CARD_WRONG, "Luhn failure");
    refuses(cnca_validate_bank_card, "6228481234567890129", CARD_WRONG, "Luhn failure, 19");
    refuses(cnca_validate_bank_card, "62284812344", CARD_FORMAT, "11 digits (Luhn ok)");
    refuses(cnca_validate_bank_card, "62220212345678901234", CARD_FORMAT, "20 digits (Luhn ok)");
    refuses(cnca_validate_bank_card, "4111-1111-1111-1111", CARD_FORMAT, "dashes");
    refuses(cnca_validate_bank_card, "4111 1111 1111 111X", CARD_FORMAT, "letter");
    refuses(cnca_validate_bank_card, "４１１１１１１１１１１１１１１１", CARD_FORMAT,
            "full-width digits");
    refuses(cnca_validate_bank_card, "4111111111111111\r\n", CARD_FORMAT, "CRLF");
    refuses(cnca_validate_bank_card, repeat(p, "4", 300), CARD_FORMAT, "over the byte bound");
}

static void test_digits(void)
{
    digits_n = 4;
    digits_what = "图形验证码";
    accepts(digits_fixed, "1234", "1234", "4-digit captcha");
    accepts(digits_fixed, "0007", "0007", "captcha with leading zeros");
    accepts(digits_fixed, " 1234" U3000, "1234", "captcha trimmed");
    refuses(digits_fixed, NULL, "请输入图形验证码", "captcha NULL");
    refuses(digits_fixed, "", "请输入图形验证码", "captcha empty");
    refuses(digits_fixed, "123", "图形验证码应为4位数字", "3-digit captcha");
    refuses(digits_fixed, "12345", "图形验证码应为4位数字", "5-digit captcha");
    refuses(digits_fixed, "12a4", "图形验证码应为4位数字", "captcha with a letter");
    refuses(digits_fixed, "12 34", "图形验证码应为4位数字", "captcha with a space inside");
    refuses(digits_fixed, "１２３４", "图形验证码应为4位数字", "full-width captcha");
    refuses(digits_fixed, "-123", "图形验证码应为4位数字", "negative captcha");
    refuses(digits_fixed, "1234\n", "图形验证码应为4位数字", "captcha with LF");

    digits_n = 6;
    digits_what = "短信验证码";
    accepts(digits_fixed, "012345", "012345", "6-digit SMS code");
    refuses(digits_fixed, "12345", "短信验证码应为6位数字", "5-digit SMS code");
    refuses(digits_fixed, "1234567", "短信验证码应为6位数字", "7-digit SMS code");
    refuses(digits_fixed, "\t", "请输入短信验证码", "blank SMS code");

    digits_what = NULL;
    refuses(digits_fixed, NULL, "请输入验证码", "code NULL, no field name");

    digits_n = 0;
    digits_what = "短信验证码";
    refuses(digits_fixed, "", "请输入正确的短信验证码", "zero digits asked for");
    digits_n = 33;
    refuses(digits_fixed, "1234", "请输入正确的短信验证码", "33 digits asked for");
}

/* The out-parameters may be NULL when the caller only wants a yes or no. */
static void test_null_outputs(void)
{
    apr_pool_t *p = tap_pool();

    is_int(cnca_validate_mobile(NULL, NULL, p, "13812345678"), APR_SUCCESS,
           "NULL out-parameters, good input");
    is_int(cnca_validate_mobile(NULL, NULL, p, "1381234567"), APR_EINVAL,
           "NULL out-parameters, bad input");
}

int main(void)
{
    tap_diag("name: accepted");
    test_name_good();
    tap_diag("name: refused");
    test_name_bad();
    tap_diag("ID number: accepted");
    test_id_number_good();
    tap_diag("ID number: refused");
    test_id_number_bad();
    tap_diag("mobile");
    test_mobile();
    tap_diag("bank card");
    test_bank_card();
    tap_diag("digit codes");
    test_digits();
    tap_diag("NULL out-parameters");
    test_null_outputs();
    return tap_done();
}
