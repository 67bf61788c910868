/* Unit tests for mod_cnca/cnca_crypto.c: AES-256-GCM sealing and its tamper
 * detection, HMAC-SHA256 against RFC 4231, the CSPRNG helpers, key files and
 * the constant-time comparison. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_encode.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "cnca_crypto.h"
#include "tap.h"

static const char *tmpdir;

static cnca_key_t test_key(unsigned char fill)
{
    cnca_key_t k;
    int i;

    for (i = 0; i < CNCA_KEY_LEN; ++i) {
        k.bytes[i] = (unsigned char)(fill + i);
    }
    return k;
}

/* b64 with byte i of its decoded form xor-ed with 0x01 (i < 0: from the end). */
static const char *flip(apr_pool_t *p, const char *b64, long i)
{
    apr_size_t n = 0;
    const unsigned char *raw = apr_pdecode_base64_binary(
        p, b64, APR_ENCODE_STRING, APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, &n);
    unsigned char *copy;

    if (!raw || n == 0) {
        return NULL;
    }
    copy = apr_pmemdup(p, raw, n);
    copy[i < 0 ? (long)n + i : i] ^= 0x01;
    return apr_pencode_base64_binary(p, copy, n, APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, NULL);
}

static apr_size_t decoded_len(apr_pool_t *p, const char *b64)
{
    apr_size_t n = 0;

    apr_pdecode_base64_binary(p, b64, APR_ENCODE_STRING,
                              APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, &n);
    return n;
}

static void test_seal_round_trip(void)
{
    apr_pool_t *p = tap_pool();
    cnca_key_t k = test_key(1);
    const char *plain = "-----BEGIN PRIVATE KEY-----\nMIGHAgEA...\n", *b64 = NULL, *b64b = NULL;
    static const unsigned char binary[] = {0, 1, 2, 0, 255, 0};
    unsigned char *out = NULL;
    apr_size_t len = 0;

    is_int(cnca_seal(&b64, p, &k, "cert:42", plain, strlen(plain)), APR_SUCCESS, "seal");
    ok(b64 && strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
                  strlen(b64),
       "sealed text is base64url without padding");
    is_int(decoded_len(p, b64), 12 + strlen(plain) + 16, "nonce + ciphertext + tag");
    ok(b64 && !strstr(b64, "BEGIN"), "the plaintext does not show");
    is_int(cnca_open(&out, &len, p, &k, "cert:42", b64), APR_SUCCESS, "open");
    is_int(len, strlen(plain), "opened length");
    is_str((const char *)out, plain, "opened text is the plaintext, NUL-terminated");

    is_int(cnca_seal(&b64b, p, &k, "cert:42", plain, strlen(plain)), APR_SUCCESS, "seal again");
    ok(b64 && b64b && strcmp(b64, b64b) != 0, "two seals of the same text differ (fresh nonce)");

    is_int(cnca_seal(&b64, p, &k, NULL, binary, sizeof(binary)), APR_SUCCESS,
           "seal binary data without aad");
    is_int(cnca_open(&out, &len, p, &k, NULL, b64), APR_SUCCESS, "open binary data without aad");
    ok(len == sizeof(binary) && out && !memcmp(out, binary, sizeof(binary)) && out[len] == '\0',
       "binary data with NULs comes back whole");

    is_int(cnca_seal(&b64, p, &k, "empty", "", 0), APR_SUCCESS, "seal nothing");
    is_int(cnca_open(&out, &len, p, &k, "empty", b64), APR_SUCCESS, "open nothing");
    ok(len == 0 && out && out[0] == '\0', "empty plaintext comes back empty");
    apr_pool_destroy(p);
}

static void test_seal_tamper(void)
{
    apr_pool_t *p = tap_pool();
    cnca_key_t k = test_key(1), other = test_key(2);
    const char *plain = "13800138000", *b64 = NULL;
    unsigned char *out;
    apr_size_t len;

    is_int(cnca_seal(&b64, p, &k, "mobile", plain, strlen(plain)), APR_SUCCESS, "seal");
    out = (unsigned char *)"x";
    len = 99;
    is_int(cnca_open(&out, &len, p, &k, "mobile", flip(p, b64, 0)), APR_EGENERAL,
           "a flipped nonce byte is detected");
    ok(out == NULL && len == 0, "nothing comes out of a failed open");
    is_int(cnca_open(&out, &len, p, &k, "mobile", flip(p, b64, 12)), APR_EGENERAL,
           "a flipped first ciphertext byte is detected");
    is_int(cnca_open(&out, &len, p, &k, "mobile", flip(p, b64, 12 + 5)), APR_EGENERAL,
           "a flipped middle ciphertext byte is detected");
    is_int(cnca_open(&out, &len, p, &k, "mobile", flip(p, b64, -1)), APR_EGENERAL,
           "a flipped last tag byte is detected");
    is_int(cnca_open(&out, &len, p, &k, "mobile", flip(p, b64, -16)), APR_EGENERAL,
           "a flipped first tag byte is detected");
    is_int(cnca_open(&out, &len, p, &k, "mobilE", b64), APR_EGENERAL, "a wrong aad is detected");
    is_int(cnca_open(&out, &len, p, &k, NULL, b64), APR_EGENERAL, "a missing aad is detected");
    is_int(cnca_open(&out, &len, p, &other, "mobile", b64), APR_EGENERAL,
           "a wrong key is detected");
    is_int(cnca_open(&out, &len, p, &k, "mobile", apr_pstrndup(p, b64, strlen(b64) - 4)),
           APR_EGENERAL, "a truncated tag is detected");
    is_int(cnca_open(&out, &len, p, &k, "mobile", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
           APR_EINVAL, "input shorter than nonce + tag is refused");
    is_int(cnca_open(&out, &len, p, &k, "mobile", "!!!!not*base64!!!!!!!!!!!!!!!!!!!!!!!!!!!"),
           APR_EINVAL, "input that is not base64url is refused");
    is_int(cnca_open(&out, &len, p, &k, "mobile", NULL), APR_EINVAL, "NULL is refused");
    is_int(cnca_open(&out, &len, p, &k, "mobile", b64), APR_SUCCESS,
           "the untouched text still opens");
    apr_pool_destroy(p);
}

static void test_hmac(void)
{
    apr_pool_t *p = tap_pool();
    unsigned char big_key[131], raw[32];
    cnca_key_t master = test_key(7), a, b, again;
    char label[] = "cnca:otp";

    /* RFC 4231 test case 2 */
    is_str(cnca_hmac_hex(p, (const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28),
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
           "HMAC-SHA256 RFC 4231 test case 2");
    cnca_hmac(raw, (const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28);
    is_str(cnca_hex(p, raw, sizeof(raw)),
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
           "raw HMAC-SHA256 is the same");
    /* RFC 4231 test case 6: a key longer than the block */
    memset(big_key, 0xaa, sizeof(big_key));
    is_str(cnca_hmac_hex(p, big_key, sizeof(big_key),
                         "Test Using Larger Than Block-Size Key - Hash Key First", 54),
           "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
           "HMAC-SHA256 RFC 4231 test case 6");

    cnca_key_derive(&a, &master, "otp");
    cnca_hmac(again.bytes, master.bytes, CNCA_KEY_LEN, label, strlen(label));
    ok(!memcmp(a.bytes, again.bytes, CNCA_KEY_LEN),
       "derived key is HMAC(master, \"cnca:\" purpose)");
    cnca_key_derive(&b, &master, "session");
    ok(memcmp(a.bytes, b.bytes, CNCA_KEY_LEN) != 0, "different purposes derive different keys");
    ok(memcmp(a.bytes, master.bytes, CNCA_KEY_LEN) != 0, "a derived key is not the master key");

    is_str(cnca_hex(p, (const unsigned char *)"\x00\x0f\xa5\xff", 4), "000fa5ff", "cnca_hex");
    is_str(cnca_hex(p, (const unsigned char *)"", 0), "", "cnca_hex of nothing");
    apr_pool_destroy(p);
}

static void test_random(void)
{
    apr_pool_t *p = tap_pool();
    const char *s = NULL, *t = NULL;
    int counts[10] = {0}, i, j, shape = 1, all = 1, fair = 1;
    const int draws = 2000, digits = 6;
    unsigned char buf[16] = {0}, zero[16] = {0};

    for (i = 0; i < draws; ++i) {
        if (cnca_random_digits(&s, p, digits) != APR_SUCCESS || !s || (int)strlen(s) != digits ||
            (int)strspn(s, "0123456789") != digits) {
            shape = 0;
            break;
        }
        for (j = 0; j < digits; ++j) {
            counts[s[j] - '0']++;
        }
    }
    ok(shape, "2000 codes of 6 decimal digits, right length, digits only");
    /* 12000 digits: 1200 expected each, standard deviation about 33 */
    for (i = 0; i < 10; ++i) {
        all = all && counts[i] > 0;
        fair = fair && counts[i] > 1000 && counts[i] < 1400;
    }
    ok(all, "every digit appears");
    ok(fair, "every digit appears about a tenth of the time");
    if (!fair) {
        for (i = 0; i < 10; ++i) {
            printf("#   digit %d: %d\n", i, counts[i]);
        }
    }
    is_int(cnca_random_digits(&s, p, 4), APR_SUCCESS, "4 digits (captcha)");
    is_int(s ? strlen(s) : 0, 4, "4 digits long");
    is_int(cnca_random_digits(&s, p, 32), APR_SUCCESS, "32 digits is the most");
    is_int(cnca_random_digits(&s, p, 33), APR_EINVAL, "33 digits is refused");
    ok(s == NULL, "nothing comes out of a refused request");
    is_int(cnca_random_digits(&s, p, 0), APR_EINVAL, "0 digits is refused");
    is_int(cnca_random_digits(&s, p, -1), APR_EINVAL, "-1 digits is refused");

    is_int(cnca_random_hex(&s, p, 16), APR_SUCCESS, "16 random bytes as hex");
    ok(s && strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32, "32 lowercase hex digits");
    is_int(cnca_random_hex(&t, p, 16), APR_SUCCESS, "again");
    ok(s && t && strcmp(s, t) != 0, "two draws differ");
    is_int(cnca_random_hex(&s, p, 65), APR_EINVAL, "more than 64 bytes is refused");
    is_int(cnca_random(buf, sizeof(buf)), APR_SUCCESS, "cnca_random");
    ok(memcmp(buf, zero, sizeof(buf)) != 0, "cnca_random filled the buffer");
    apr_pool_destroy(p);
}

static int write_bytes(const char *path, const void *data, apr_size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok_ = f && fwrite(data, 1, len, f) == len;

    if (f && fclose(f) != 0) {
        ok_ = 0;
    }
    return ok_;
}

static void test_key_load(void)
{
    apr_pool_t *p = tap_pool();
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const char *path = apr_pstrcat(p, tmpdir, "/key", NULL);
    unsigned char raw[CNCA_KEY_LEN];
    cnca_key_t k, want = test_key(0);
    int i;

    ok(write_bytes(path, apr_pstrcat(p, "  ", hex, "\n", NULL), strlen(hex) + 3),
       "hex key file written");
    memset(&k, 0, sizeof(k));
    is_int(cnca_key_load(&k, path, p), APR_SUCCESS, "a hex key file with whitespace loads");
    ok(!memcmp(k.bytes, want.bytes, CNCA_KEY_LEN), "the hex key is the right bytes");

    ok(write_bytes(path,
                   apr_pstrcat(p, "000102030405060708090A0B0C0D0E0F",
                               "101112131415161718191A1B1C1D1E1F", NULL),
                   64),
       "uppercase hex key file written");
    memset(&k, 0, sizeof(k));
    is_int(cnca_key_load(&k, path, p), APR_SUCCESS, "an uppercase hex key file loads");
    ok(!memcmp(k.bytes, want.bytes, CNCA_KEY_LEN), "the uppercase hex key is the right bytes");

    /* raw bytes that include whitespace and NUL must be taken as they are */
    for (i = 0; i < CNCA_KEY_LEN; ++i) {
        raw[i] = (unsigned char)(i * 37 + 9);
    }
    raw[0] = ' ';
    raw[1] = '\0';
    raw[CNCA_KEY_LEN - 1] = '\n';
    ok(write_bytes(path, raw, sizeof(raw)), "raw key file written");
    memset(&k, 0, sizeof(k));
    is_int(cnca_key_load(&k, path, p), APR_SUCCESS, "a raw 32-byte key file loads");
    ok(!memcmp(k.bytes, raw, CNCA_KEY_LEN), "the raw key is the file's bytes");

    ok(write_bytes(path, raw, 31), "31-byte file written");
    is_int(cnca_key_load(&k, path, p), APR_EINVAL, "a 31-byte file is refused");
    ok(write_bytes(path, raw, 0), "empty file written");
    is_int(cnca_key_load(&k, path, p), APR_EINVAL, "an empty file is refused");
    ok(write_bytes(path, hex, 63), "63 hex digits written");
    is_int(cnca_key_load(&k, path, p), APR_EINVAL, "63 hex digits are refused");
    ok(write_bytes(path, apr_pstrcat(p, hex, "0", NULL), 65), "65 hex digits written");
    is_int(cnca_key_load(&k, path, p), APR_EINVAL, "65 hex digits are refused");
    ok(write_bytes(path, apr_pstrcat(p, "g", hex + 1, NULL), 64), "a non-hex digit written");
    is_int(cnca_key_load(&k, path, p), APR_EINVAL, "a non-hex digit is refused");
    ok(write_bytes(path, apr_pstrcat(p, "0001 02", hex + 6, NULL), 65), "space inside written");
    is_int(cnca_key_load(&k, path, p), APR_EINVAL, "whitespace inside the hex is refused");
    is_int(cnca_key_load(&k, apr_pstrcat(p, tmpdir, "/missing", NULL), p), APR_ENOENT,
           "a missing file is refused");
    unlink(path);
    apr_pool_destroy(p);
}

static void test_str_equal_ct(void)
{
    ok(cnca_str_equal_ct("123456", "123456"), "equal strings are equal");
    ok(!cnca_str_equal_ct("123456", "123457"), "last character differs");
    ok(!cnca_str_equal_ct("023456", "123456"), "first character differs");
    ok(!cnca_str_equal_ct("12345", "123456"), "a prefix is not equal");
    ok(!cnca_str_equal_ct("1234567", "123456"), "a longer string is not equal");
    ok(cnca_str_equal_ct("", ""), "two empty strings are equal");
    ok(!cnca_str_equal_ct("", "1"), "empty and non-empty differ");
    ok(!cnca_str_equal_ct(NULL, "1"), "NULL is never equal");
    ok(!cnca_str_equal_ct("1", NULL), "NULL is never equal (second)");
    ok(!cnca_str_equal_ct(NULL, NULL), "NULL is not equal to NULL");
}

int main(void)
{
    apr_pool_t *root = tap_pool();
    const char *tmp = NULL;
    char *dir;

    apr_temp_dir_get(&tmp, root);
    dir = apr_pstrcat(root, tmp ? tmp : "/tmp", "/cnca_test_crypto.XXXXXX", NULL);
    if (!mkdtemp(dir)) {
        ok(0, "temporary directory");
        return tap_done();
    }
    tmpdir = dir;
    test_seal_round_trip();
    test_seal_tamper();
    test_hmac();
    test_random();
    test_key_load();
    test_str_equal_ct();
    rmdir(tmpdir);
    return tap_done();
}
