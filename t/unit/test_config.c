/* Unit tests for cnca_config.c: every directive-value parser with good and
 * bad values. A bad value must give a message (the glue prefixes the
 * directive's name) and leave the output exactly as it was. */
#include <limits.h>
#include <string.h>

#include <apr_strings.h>

#include "tap.h"
#include "cnca_config.h"

/* These were known bugs (TAP TODO); fixed, they are plain checks now and the
 * third argument just says what they guard against. */
#define todo_ok(cond, what, why) ok((cond), (what))

#define SENTINEL_INT -4242
static const char sentinel_str[] = "untouched";

/* text for a TAP line: control bytes as \xNN so that one test stays one line */
static const char *printable(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 4 + 1), *o = out;

    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        o += (c < 0x20 || c == 0x7f) ? sprintf(o, "\\x%02x", c) : sprintf(o, "%c", c);
    }
    *o = '\0';
    return out;
}

static const char *show(apr_pool_t *p, const char *arg)
{
    return arg ? apr_psprintf(p, "'%s'", printable(p, arg)) : "NULL";
}

static void bad_message(apr_pool_t *p, const char *err, const char *what, const char *arg)
{
    ok(err && *err, apr_psprintf(p, "%s %s: refused with a message", what, show(p, arg)));
    if (err) {
        printf("#   message: %s\n", printable(p, err));
    }
}

/* A range message names the bounds, so the admin knows what fits. */
static void range_message(const char *err, const char *min, const char *max, const char *what)
{
    todo_ok(err && strstr(err, min) && strstr(err, max) && !strchr(err, '%'), what,
            "check_range formats %lld with apr_psprintf, which prints '%ld' literally");
}

/* ---- the parsers of a whole number in [min, max] ---- */

typedef const char *int_parser_fn(int *pout, apr_pool_t *p, const char *arg, int min, int max);

static void int_parsed(int_parser_fn *parse, const char *name, const char *arg, int min, int max,
                       int want)
{
    apr_pool_t *p = tap_pool();
    int out = SENTINEL_INT;
    const char *err = parse(&out, p, arg, min, max);

    ok(err == NULL, apr_psprintf(p, "%s %s [%d, %d] accepted", name, show(p, arg), min, max));
    if (err) {
        printf("#   message: %s\n", err);
    }
    is_int(out, want, apr_psprintf(p, "%s %s is %d", name, show(p, arg), want));
}

static void int_refused(int_parser_fn *parse, const char *name, const char *arg, int min, int max)
{
    apr_pool_t *p = tap_pool();
    int out = SENTINEL_INT;
    const char *err = parse(&out, p, arg, min, max);

    bad_message(p, err, apr_psprintf(p, "%s [%d, %d]", name, min, max), arg);
    is_int(out, SENTINEL_INT, apr_psprintf(p, "%s %s: output untouched", name, show(p, arg)));
}

#define seconds_good(arg, min, max, want)                                                          \
    int_parsed(cnca_conf_parse_seconds, "seconds", (arg), (min), (max), (want))
#define seconds_bad(arg, min, max)                                                                 \
    int_refused(cnca_conf_parse_seconds, "seconds", (arg), (min), (max))
#define int_good(arg, min, max, want)                                                              \
    int_parsed(cnca_conf_parse_int, "int", (arg), (min), (max), (want))
#define int_bad(arg, min, max) int_refused(cnca_conf_parse_int, "int", (arg), (min), (max))

/* ---- the parsers of one string value ---- */

typedef const char *str_parser_fn(const char **pout, apr_pool_t *p, const char *arg);

/* what names the case in the TAP line; NULL: the value itself */
static void str_parsed(str_parser_fn *parse, const char *name, const char *arg, const char *want,
                       const char *what)
{
    apr_pool_t *p = tap_pool();
    const char *out = sentinel_str;
    const char *err = parse(&out, p, arg);

    what = what ? what : show(p, arg);
    ok(err == NULL, apr_psprintf(p, "%s %s accepted", name, what));
    if (err) {
        printf("#   message: %s\n", printable(p, err));
    }
    is_str(out, want, apr_psprintf(p, "%s %s gives %s", name, what, show(p, want)));
}

static void str_refused(str_parser_fn *parse, const char *name, const char *arg, const char *what)
{
    apr_pool_t *p = tap_pool();
    const char *out = sentinel_str;
    const char *err = parse(&out, p, arg);

    bad_message(p, err, name, what ? what : arg);
    ok(out == sentinel_str,
       apr_psprintf(p, "%s %s: output untouched", name, what ? what : show(p, arg)));
}

#define mc_good(arg, want) str_parsed(cnca_conf_parse_memcached, "memcached", (arg), (want), NULL)
#define mc_bad(arg) str_refused(cnca_conf_parse_memcached, "memcached", (arg), NULL)
/* A refused memcached value with the exact message (the glue prefixes the
 * directive's name), output untouched. */
static void mc_message(const char *arg, const char *want)
{
    apr_pool_t *p = tap_pool();
    const char *out = sentinel_str;
    const char *err = cnca_conf_parse_memcached(&out, p, arg);

    is_str(err, want, apr_psprintf(p, "memcached %s: the message says why", show(p, arg)));
    ok(out == sentinel_str, apr_psprintf(p, "memcached %s: output untouched", show(p, arg)));
}
#define hotline_good(arg) str_parsed(cnca_conf_parse_hotline, "hotline", (arg), (arg), NULL)
#define hotline_bad(arg) str_refused(cnca_conf_parse_hotline, "hotline", (arg), NULL)
#define sign_good(arg, what)                                                                       \
    str_parsed(cnca_conf_parse_sign_name, "sign name", (arg), (arg), (what))
#define sign_bad(arg, what) str_refused(cnca_conf_parse_sign_name, "sign name", (arg), (what))
#define url_good(arg) str_parsed(cnca_conf_parse_url, "url", (arg), (arg), NULL)
#define url_bad(arg) str_refused(cnca_conf_parse_url, "url", (arg), NULL)
#define prefix_good(arg) str_parsed(cnca_conf_parse_path_prefix, "path prefix", (arg), (arg), NULL)
#define prefix_bad(arg) str_refused(cnca_conf_parse_path_prefix, "path prefix", (arg), NULL)

/* ---- seconds ---- */

static void test_seconds(void)
{
    seconds_good("900", 1, 86400, 900);
    seconds_good("15m", 1, 86400, 900);
    seconds_good("2h", 1, 86400, 7200);
    seconds_good("1d", 1, 86400, 86400);
    seconds_good("30s", 1, 86400, 30);
    seconds_good("0", 0, 60, 0);
    seconds_good("60", 60, 86400, 60);       /* lower bound itself */
    seconds_good("86400", 60, 86400, 86400); /* upper bound itself */
    seconds_good("24855d", 1, INT_MAX, 24855 * 86400);

    seconds_bad("0", 1, 86400);
    seconds_bad("-5", -10, 86400);
    seconds_bad("abc", 1, 86400);
    seconds_bad("5x", 1, 86400);
    seconds_bad("5mm", 1, 86400);
    seconds_bad("m", 1, 86400);
    seconds_bad("1.5h", 1, 86400);
    seconds_bad(" 5", 1, 86400);
    seconds_bad("5 ", 1, 86400);
    seconds_bad("+5", 1, 86400);
    seconds_bad("0x10", 1, 86400);
    seconds_bad("99999999999999", 1, INT_MAX);
    seconds_bad("99999999999999999999999", 1, INT_MAX); /* past long long */
    seconds_bad("999999999999d", 1, INT_MAX);           /* fits long long, not int */
    seconds_bad("24856d", 1, INT_MAX);                  /* 2147558400 > INT_MAX */
    seconds_bad("59", 60, 86400);
    seconds_bad("86401", 60, 86400);
    seconds_bad("2d", 60, 86400);
    seconds_bad("", 1, 86400);
    seconds_bad(NULL, 1, 86400);

    {
        apr_pool_t *p = tap_pool();
        int out;
        range_message(cnca_conf_parse_seconds(&out, p, "59", 60, 86400), "60", "86400",
                      "seconds out of range: the message names 60 and 86400");
    }
}

/* ---- int ---- */

static void test_int(void)
{
    int_good("42", 1, 100, 42);
    int_good("1", 1, 100, 1);
    int_good("100", 1, 100, 100);
    int_good("0", 0, 10, 0);
    int_good("007", 1, 10, 7);
    int_good("2147483647", 0, INT_MAX, INT_MAX);

    int_bad("0", 1, 100);
    int_bad("101", 1, 100);
    int_bad("-1", -10, 100);
    int_bad("2147483648", 0, INT_MAX);
    int_bad("99999999999999", 0, INT_MAX);
    int_bad("15m", 1, 10000); /* no units for a plain number */
    int_bad("1e3", 1, 10000);
    int_bad("12abc", 1, 100);
    int_bad("abc", 1, 100);
    int_bad("", 1, 100);
    int_bad(NULL, 1, 100);

    {
        apr_pool_t *p = tap_pool();
        int out;
        range_message(cnca_conf_parse_int(&out, p, "101", 1, 100), "1", "100",
                      "int out of range: the message names 1 and 100");
    }
}

/* ---- bytes ---- */

static void bytes_good(const char *arg, apr_size_t min, apr_size_t max, apr_size_t want)
{
    apr_pool_t *p = tap_pool();
    apr_size_t out = 4242;
    const char *err = cnca_conf_parse_bytes(&out, p, arg, min, max);

    ok(err == NULL, apr_psprintf(p, "bytes %s accepted", show(p, arg)));
    is_int(out, want, apr_psprintf(p, "bytes %s is %" APR_SIZE_T_FMT, show(p, arg), want));
}

static void bytes_bad(const char *arg, apr_size_t min, apr_size_t max)
{
    apr_pool_t *p = tap_pool();
    apr_size_t out = 4242;
    const char *err = cnca_conf_parse_bytes(&out, p, arg, min, max);

    bad_message(p, err, "bytes", arg);
    is_int(out, 4242, apr_psprintf(p, "bytes %s: output untouched", show(p, arg)));
}

#define MB (1024 * 1024)

static void test_bytes(void)
{
    bytes_good("2M", 1, 64 * MB, 2097152);
    bytes_good("2m", 1, 64 * MB, 2097152);
    bytes_good("512K", 1, 64 * MB, 524288);
    bytes_good("512k", 1, 64 * MB, 524288);
    bytes_good("2097152", 1, 64 * MB, 2097152);
    bytes_good("1024", 1024, 64 * MB, 1024);
    bytes_good("64M", 1024, 64 * MB, 64 * MB);

    bytes_bad("3G", 1, 64 * MB);
    bytes_bad("2MB", 1, 64 * MB);
    bytes_bad("2 M", 1, 64 * MB);
    bytes_bad("1023", 1024, 64 * MB);
    bytes_bad("65M", 1024, 64 * MB);
    bytes_bad("67108865", 1024, 64 * MB);
    bytes_bad("99999999999999", 1, 64 * MB);
    bytes_bad("999999999999M", 1, 64 * MB); /* about 2^60: fits, out of range */
    bytes_bad("99999999999999999999999K", 1, 64 * MB);
    bytes_bad("-1", 0, 64 * MB);
    bytes_bad("K", 1, 64 * MB);
    bytes_bad("", 1, 64 * MB);
    bytes_bad(NULL, 1, 64 * MB);

    {
        apr_pool_t *p = tap_pool();
        apr_size_t out;
        range_message(cnca_conf_parse_bytes(&out, p, "1023", 1024, 64 * MB), "1024", "67108864",
                      "bytes out of range: the message names 1024 and 67108864");
    }
}

/* ---- dimensions ---- */

static void dims_good(const char *arg, int max, int want_w, int want_h)
{
    apr_pool_t *p = tap_pool();
    int w = SENTINEL_INT, h = SENTINEL_INT;
    const char *err = cnca_conf_parse_dimensions(&w, &h, p, arg, max);

    ok(err == NULL, apr_psprintf(p, "dimensions %s accepted", show(p, arg)));
    is_int(w, want_w, apr_psprintf(p, "dimensions %s: width %d", show(p, arg), want_w));
    is_int(h, want_h, apr_psprintf(p, "dimensions %s: height %d", show(p, arg), want_h));
}

static void dims_bad(const char *arg, int max)
{
    apr_pool_t *p = tap_pool();
    int w = SENTINEL_INT, h = SENTINEL_INT;
    const char *err = cnca_conf_parse_dimensions(&w, &h, p, arg, max);

    bad_message(p, err, apr_psprintf(p, "dimensions (max %d)", max), arg);
    ok(w == SENTINEL_INT && h == SENTINEL_INT,
       apr_psprintf(p, "dimensions %s: outputs untouched", show(p, arg)));
}

static void test_dimensions(void)
{
    dims_good("4000x4000", 100000, 4000, 4000);
    dims_good("640x480", 100000, 640, 480);
    dims_good("1x1", 100000, 1, 1);
    dims_good("100000x1", 100000, 100000, 1);

    dims_bad("0x10", 100000);
    dims_bad("10x0", 100000);
    dims_bad("10x", 100000);
    dims_bad("x10", 100000);
    dims_bad("x", 100000);
    dims_bad("10X10", 100000);
    dims_bad("10*10", 100000);
    dims_bad("10", 100000);
    dims_bad("100001x1", 100000);
    dims_bad("1x100001", 100000);
    dims_bad("4001x4000", 4000);
    dims_bad("10x10x10", 100000);
    dims_bad("-1x10", 100000);
    dims_bad("10x-1", 100000);
    dims_bad(" 10x10", 100000);
    dims_bad("10x10 ", 100000);
    dims_bad("", 100000);
    dims_bad(NULL, 100000);
}

/* ---- memcached ---- */

static void test_memcached(void)
{
    mc_good("127.0.0.1:11211", "127.0.0.1:11211");
    mc_good("a:1,b:2", "a:1,b:2");
    mc_good("a:1, b:2", "a:1,b:2");
    mc_good("host", "host:11211");
    mc_good("cache-1.example.com", "cache-1.example.com:11211");
    mc_good("a,b:2", "a:11211,b:2");
    mc_good("[::1]:11211", "[::1]:11211");
    mc_good("[::1]", "[::1]:11211");
    mc_good("h:65535", "h:65535");
    mc_good("h:1", "h:1");

    mc_bad(":11211");
    mc_bad("h:0");
    mc_bad("h:70000");
    mc_bad("h:65536");
    mc_bad("h:abc");
    mc_bad("h:");
    mc_bad("h:-1");
    mc_bad("h:1:2");
    mc_bad("bad host!:1");
    mc_bad("ho_st:1");
    mc_bad("::1");
    mc_bad("[::1");
    mc_bad("[]:1");
    mc_bad("[zz::1]:1");
    mc_bad("a:1,b:0");
    mc_bad(",");
    mc_bad("");
    mc_bad(NULL);

    {
        apr_pool_t *p = tap_pool();
        const char *out;
        range_message(cnca_conf_parse_memcached(&out, p, "h:70000"), "1", "65535",
                      "memcached port out of range: the message names 1 and 65535");
    }
}

/* ---- memcached on a unix domain socket ---- */

static void test_memcached_socket(void)
{
    apr_pool_t *p = tap_pool();
    /* the longest path sun_path holds with its NUL is 107 bytes */
    char *longest = apr_pcalloc(p, 109), *too_long = apr_pcalloc(p, 109);

    memset(longest, 'a', 107);
    longest[0] = '/';
    memset(too_long, 'a', 108);
    too_long[0] = '/';
    mc_good("/run/memcached/memcached.sock", "/run/memcached/memcached.sock");
    mc_good("/tmp/mc", "/tmp/mc");
    mc_good("/var/run/mc:11211.sock", "/var/run/mc:11211.sock");
    mc_good("/a/mc.sock,127.0.0.1:11211", "/a/mc.sock,127.0.0.1:11211");
    mc_good("h, /a/mc.sock ,[::1]:2", "h:11211,/a/mc.sock,[::1]:2");
    mc_good("/a/one.sock,/b/two.sock", "/a/one.sock,/b/two.sock");
    mc_good(longest, longest);

    mc_message("run/memcached.sock", "'run/memcached.sock' is a relative socket path: it must "
                                     "start with '/' (and cannot hold spaces or commas)");
    mc_message("./mc.sock", "'./mc.sock' is a relative socket path: it must start with '/' (and "
                            "cannot hold spaces or commas)");
    mc_message("~/mc.sock", "'~/mc.sock' is a relative socket path: it must start with '/' (and "
                            "cannot hold spaces or commas)");
    mc_message("/srv/my dir/mc.sock", "'dir/mc.sock' is a relative socket path: it must start "
                                      "with '/' (and cannot hold spaces or commas)");
    mc_message("/", "'/' names a folder, not a socket");
    mc_message("/run/memcached/", "'/run/memcached/' names a folder, not a socket");
    mc_message(too_long, apr_psprintf(p, "socket path '%s' is longer than 107 bytes", too_long));
    mc_message("/run/mc\x01.sock", "socket path '/run/mc\x01.sock' holds a control character");
    mc_message("/run/mc\t.sock", "socket path '/run/mc\t.sock' holds a control character");
    mc_message("127.0.0.1:11211,run/mc.sock",
               "'run/mc.sock' is a relative socket path: it must start with '/' (and cannot "
               "hold spaces or commas)");
    mc_message("/a/mc.sock,h:0", "port of 'h:0': '0' is out of range (1 to 65535)");
    mc_message("", "needs at least one host:port or /path/to/socket");
    mc_message(" , ", "needs at least one host:port or /path/to/socket");
    mc_message(NULL, "needs at least one host:port or /path/to/socket");
}

/* ---- hotline ---- */

static void test_hotline(void)
{
    hotline_good("962600");
    hotline_good("021-962600");
    hotline_good("400 820 8888");
    hotline_good("110");
    hotline_good("12345678901234567890"); /* 20 characters */

    hotline_bad("123456789012345678901"); /* 21 characters */
    hotline_bad("12");
    hotline_bad("1-2");
    hotline_bad("---");
    hotline_bad("abc");
    hotline_bad("021-96260a");
    hotline_bad("+86 21 962600");
    hotline_bad("962600\n");
    hotline_bad("９６２６００"); /* full-width digits */
    hotline_bad("");
    hotline_bad(NULL);
}

/* ---- SMS sign name ---- */

static void test_sign_name(void)
{
    apr_pool_t *p = tap_pool();
    const char *out = sentinel_str;

    sign_good("大家签", "大家签");
    sign_good("AB", "2 ASCII characters");
    sign_good("建筑", "2 CJK characters (6 bytes)");
    sign_good("上海建筑业个人数字证书网", "12 CJK characters (36 bytes)");
    sign_good("大家签 CA", "mixed CJK, space and ASCII");
    sign_good("ABCDEFGHIJKL", "12 ASCII characters");
    sign_good("😀😀😀😀😀😀😀😀😀😀😀😀", "12 four-byte characters (48 bytes)");

    sign_bad("签", "1 CJK character (3 bytes)");
    sign_bad("A", "1 ASCII character");
    sign_bad("上海建筑业个人数字证书服务中", "13 CJK characters");
    sign_bad("ABCDEFGHIJKLM", "13 ASCII characters");
    sign_bad("😀😀😀😀😀😀😀😀😀😀😀😀😀", "13 four-byte characters");
    sign_bad("【大家签】", "with 【】");
    sign_bad("大家【签", "with 【");
    sign_bad("大家签】", "with 】");
    sign_bad("大家\n签", "with a newline");
    sign_bad("大家\t签", "with a tab");
    sign_bad("大家\r签", "with a CR");
    sign_bad("大家\x7f签", "with DEL");
    sign_bad("\x1b[1m大家签", "with an escape sequence");
    sign_bad("", "empty");
    sign_bad(NULL, "NULL");

    /* Bytes that are not UTF-8 are not characters: an SMS gateway would get
     * mojibake or reject every message. */
    todo_ok(cnca_conf_parse_sign_name(&out, p, "\xff\xfe\xfd") != NULL,
            "sign name of invalid UTF-8 bytes refused",
            "cnca_conf_parse_sign_name counts bytes that are not UTF-8");
    todo_ok(cnca_conf_parse_sign_name(&out, p, "\xe5\xa4\xa7\xe5") != NULL,
            "sign name with a truncated UTF-8 sequence refused",
            "cnca_conf_parse_sign_name counts bytes that are not UTF-8");
    todo_ok(cnca_conf_parse_sign_name(&out, p, "大家\xc2\x85签") != NULL,
            "sign name with a C1 control (U+0085) refused",
            "cnca_conf_parse_sign_name refuses only C0 controls and DEL");
}

/* ---- URL ---- */

static void test_url(void)
{
    url_good("http://127.0.0.1:8080/sandbox/gateway");
    url_good("https://gateway.example.com/cnca");
    url_good("https://gateway.example.com");
    url_good("http://[::1]:8080/gw");

    url_bad("/sandbox/gateway");
    url_bad("sandbox/gateway");
    url_bad("//gateway.example.com/cnca");
    url_bad("ftp://gateway.example.com/cnca");
    url_bad("file:///etc/passwd");
    url_bad("javascript:alert(1)");
    url_bad("mailto:ops@example.com");
    url_bad("");
    url_bad(NULL);

    /* an empty host passes apr_uri_parse with hostname "" */
    {
        apr_pool_t *p = tap_pool();
        const char *out = sentinel_str;
        todo_ok(cnca_conf_parse_url(&out, p, "http://") != NULL, "url 'http://' refused",
                "cnca_conf_parse_url accepts an empty host (uri.hostname is \"\")");
        todo_ok(cnca_conf_parse_url(&out, p, "https:///path") != NULL,
                "url 'https:///path' refused", "cnca_conf_parse_url accepts an empty host");
        /* what curl would refuse at the first request is caught at start-up */
        todo_ok(cnca_conf_parse_url(&out, p, "http://gw.example.com:99999/cnca") != NULL,
                "url with port 99999 refused", "cnca_conf_parse_url does not check the port");
        todo_ok(cnca_conf_parse_url(&out, p, "http://gw.example.com:0/cnca") != NULL,
                "url with port 0 refused", "cnca_conf_parse_url does not check the port");
        todo_ok(cnca_conf_parse_url(&out, p, "http://gw example.com/cnca") != NULL,
                "url with a space in the host refused",
                "cnca_conf_parse_url does not check the host's characters");
    }
}

/* ---- path prefix ---- */

static void test_path_prefix(void)
{
    prefix_good("/cnca/");
    prefix_good("/");
    prefix_good("/cnca/api/");

    prefix_bad("cnca/");
    prefix_bad("/cnca");
    prefix_bad("cnca");
    prefix_bad("/cn ca/");
    prefix_bad("/cnca\t/");
    prefix_bad("/cnca?x=1/");
    prefix_bad("/cnca#x/");
    prefix_bad("/cn\"ca/");
    prefix_bad("/<cnca>/");
    prefix_bad("/cn\\ca/");
    prefix_bad("");
    prefix_bad(NULL);
}

int main(void)
{
    test_seconds();
    test_int();
    test_bytes();
    test_dimensions();
    test_memcached();
    test_memcached_socket();
    test_hotline();
    test_sign_name();
    test_url();
    test_path_prefix();
    return tap_done();
}
