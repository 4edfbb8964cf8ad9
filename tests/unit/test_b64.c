/* test_b64.c -- strict base64url (SECURITY.md A06 at unit level). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "af_testutil.h"
#include "common/af_b64.h"
#include "common/af_error.h"

static apr_status_t dec(const char *s, apr_size_t *n)
{
    unsigned char buf[256];
    apr_size_t len = strlen(s);

    ck_assert_uint_le(AF_B64URL_DECODED_MAX(len), sizeof(buf));
    return af_b64url_decode_buf(buf, n, s, len);
}

START_TEST(test_rfc4648_vectors)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    apr_pool_t *p = af_test_pool();
    unsigned char *d;
    apr_size_t n, i;

    for (i = 0; i < 7; i++) {
        ck_assert_str_eq(af_b64url_encode((const unsigned char *) in[i], strlen(in[i]), p), out[i]);
        ck_assert_int_eq(af_b64url_decode(&d, &n, out[i], strlen(out[i]), p), APR_SUCCESS);
        ck_assert_uint_eq(n, strlen(in[i]));
        ck_assert_mem_eq(d, in[i], n);
        ck_assert_int_eq(d[n], 0);
    }
    /* the URL-safe characters */
    ck_assert_str_eq(af_b64url_encode((const unsigned char *) "\xfb\xff", 2, p), "-_8");
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_roundtrip_all_lengths)
{
    apr_pool_t *p = af_test_pool();
    unsigned char src[200], *d;
    apr_size_t len, n, i;

    for (i = 0; i < sizeof(src); i++) {
        src[i] = (unsigned char) (i * 37 + 11);
    }
    for (len = 0; len <= sizeof(src); len++) {
        const char *e = af_b64url_encode(src, len, p);
        ck_assert_uint_eq(strlen(e), (len * 4 + 2) / 3);
        ck_assert_int_eq(af_b64url_decode(&d, &n, e, strlen(e), p), APR_SUCCESS);
        ck_assert_uint_eq(n, len);
        ck_assert_mem_eq(d, src, len);
    }
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_A06_padding_rejected)
{
    apr_size_t n;

    ck_assert_int_eq(dec("Zg==", &n), AF_EBASE64);
    ck_assert_int_eq(dec("Zm8=", &n), AF_EBASE64);
    ck_assert_int_eq(dec("Zm9v=", &n), AF_EBASE64);
    ck_assert_int_eq(dec("=", &n), AF_EBASE64);
}
END_TEST

START_TEST(test_A06_standard_alphabet_rejected)
{
    apr_size_t n;

    ck_assert_int_eq(dec("-_8", &n), APR_SUCCESS);
    ck_assert_int_eq(dec("+_8", &n), AF_EBASE64);
    ck_assert_int_eq(dec("-/8", &n), AF_EBASE64);
    ck_assert_int_eq(dec("ab+c", &n), AF_EBASE64);
}
END_TEST

START_TEST(test_A06_whitespace_and_specials_rejected)
{
    static const char *const bad[] = {"Zm9v Yg", "Zm9v\tYg", "Zm9v\rYg",  "Zm9v\nYg",
                                      " Zm9v",   "Zm9v\n",   "Zm9?",      "Zm9#",
                                      "Zm.v",    "Zm9vY%67", "Zm9vYg\r\n"};
    apr_size_t n, i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(dec(bad[i], &n) == AF_EBASE64, "accepted [%s]", bad[i]);
        ck_assert_uint_eq(n, 0);
    }
}
END_TEST

START_TEST(test_A06_every_byte_outside_alphabet)
{
    static const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char buf[8];
    char s[5];
    apr_size_t n;
    int c;

    for (c = 0; c < 256; c++) {
        int ok = c != 0 && strchr(alpha, c) != NULL;
        s[0] = 'A';
        s[1] = 'A';
        s[2] = 'A';
        s[3] = (char) c;
        ck_assert_int_eq(af_b64url_decode_buf(buf, &n, s, 4), ok ? APR_SUCCESS : AF_EBASE64);
    }
}
END_TEST

START_TEST(test_A06_length_1_mod_4_rejected)
{
    apr_size_t n;

    ck_assert_int_eq(dec("A", &n), AF_EBASE64);
    ck_assert_int_eq(dec("Zm9vY", &n), AF_EBASE64);
    ck_assert_int_eq(dec("Zm9vYmFyZ", &n), AF_EBASE64);
}
END_TEST

START_TEST(test_A06_nonzero_trailing_bits_rejected)
{
    apr_size_t n;

    ck_assert_int_eq(dec("QQ", &n), APR_SUCCESS);
    ck_assert_int_eq(dec("QR", &n), AF_EBASE64);
    ck_assert_int_eq(dec("QX", &n), AF_EBASE64);
    ck_assert_int_eq(dec("Q_", &n), AF_EBASE64);
    ck_assert_int_eq(dec("QUI", &n), APR_SUCCESS);
    ck_assert_int_eq(dec("QUJ", &n), AF_EBASE64);
    ck_assert_int_eq(dec("QUK", &n), AF_EBASE64);
    ck_assert_int_eq(dec("Zm9vYh", &n), AF_EBASE64); /* "foob" with a stray bit */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("b64");
    TCase *tc = tcase_create("b64");

    tcase_add_test(tc, test_rfc4648_vectors);
    tcase_add_test(tc, test_roundtrip_all_lengths);
    tcase_add_test(tc, test_A06_padding_rejected);
    tcase_add_test(tc, test_A06_standard_alphabet_rejected);
    tcase_add_test(tc, test_A06_whitespace_and_specials_rejected);
    tcase_add_test(tc, test_A06_every_byte_outside_alphabet);
    tcase_add_test(tc, test_A06_length_1_mod_4_rejected);
    tcase_add_test(tc, test_A06_nonzero_trailing_bits_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
