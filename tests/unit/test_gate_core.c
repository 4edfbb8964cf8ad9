/* test_gate_core.c -- unit tests of the gate's core helpers: durations/sizes (af_parse),
 * strict Cookie parsing (af_cookie), the outbound URL policy (af_http_url_check), and
 * local JWKS loading with the key-count cap (af_jwks_load_text). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "common/af_url.h"
#include "common/af_cookie.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "common/af_parse.h"
#include "http/af_http.h"
#include "http/af_http_errors.h"
#include "http/af_jwks_cache.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

START_TEST(test_durations)
{
    apr_int64_t v;

    ck_assert_int_eq(af_parse_duration(&v, "90s"), APR_SUCCESS);
    ck_assert_int_eq(v, 90);
    ck_assert_int_eq(af_parse_duration(&v, "10m"), APR_SUCCESS);
    ck_assert_int_eq(v, 600);
    ck_assert_int_eq(af_parse_duration(&v, "12h"), APR_SUCCESS);
    ck_assert_int_eq(v, 43200);
    ck_assert_int_eq(af_parse_duration(&v, "14d"), APR_SUCCESS);
    ck_assert_int_eq(v, 14 * 86400);
    ck_assert_int_eq(af_parse_duration(&v, "600"), APR_SUCCESS);
    ck_assert_int_eq(v, 600);
    ck_assert_int_eq(af_parse_duration(&v, ""), AF_EDURATION);
    ck_assert_int_eq(af_parse_duration(&v, "-5s"), AF_EDURATION);
    ck_assert_int_eq(af_parse_duration(&v, "5 s"), AF_EDURATION);
    ck_assert_int_eq(af_parse_duration(&v, "5ss"), AF_EDURATION);
    ck_assert_int_eq(af_parse_duration(&v, "1.5h"), AF_EDURATION);
    ck_assert_int_eq(af_parse_duration(&v, "5w"), AF_EDURATION);
    ck_assert_int_eq(af_parse_duration(&v, "99999999999999999999d"), AF_EDURATION);
    ck_assert_int_eq(af_parse_duration(&v, "999999999d"), AF_EDURATION);
}
END_TEST

START_TEST(test_sizes)
{
    apr_uint64_t v;

    ck_assert_int_eq(af_parse_size(&v, "256M"), APR_SUCCESS);
    ck_assert_uint_eq(v, 256ULL << 20);
    ck_assert_int_eq(af_parse_size(&v, "1G"), APR_SUCCESS);
    ck_assert_uint_eq(v, 1ULL << 30);
    ck_assert_int_eq(af_parse_size(&v, "64k"), APR_SUCCESS);
    ck_assert_uint_eq(v, 65536);
    ck_assert_int_eq(af_parse_size(&v, "1GB"), APR_SUCCESS);
    ck_assert_uint_eq(v, 1ULL << 30);
    ck_assert_int_eq(af_parse_size(&v, "100"), APR_SUCCESS);
    ck_assert_uint_eq(v, 100);
    ck_assert_int_eq(af_parse_size(&v, "1X"), AF_ESIZE);
    ck_assert_int_eq(af_parse_size(&v, "M"), AF_ESIZE);
    ck_assert_int_eq(af_parse_size(&v, "99999999999T"), AF_ESIZE);
}
END_TEST

START_TEST(test_cookie_get)
{
    const char *v = NULL;

    ck_assert_int_eq(af_cookie_get(&v, "a=1; authflow-at=abc.def.ghi; b=2", "authflow-at", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(v, "abc.def.ghi");
    ck_assert_int_eq(af_cookie_get(&v, "x-authflow-at=1;authflow-at=\"q\"", "authflow-at", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(v, "q");
    ck_assert_int_eq(af_cookie_get(&v, "a=1", "authflow-at", pool), AF_ENOTFOUND);
    ck_assert_int_eq(af_cookie_get(&v, NULL, "authflow-at", pool), AF_ENOTFOUND);
    /* case-sensitive names */
    ck_assert_int_eq(af_cookie_get(&v, "AUTHFLOW-AT=1", "authflow-at", pool), AF_ENOTFOUND);
    /* duplicates are ambiguous (cookie tossing) */
    ck_assert_int_eq(af_cookie_get(&v, "authflow-at=1; authflow-at=2", "authflow-at", pool),
                     AF_ECOOKIE);
    /* value with a space, comma or backslash is not a cookie-octet */
    ck_assert_int_eq(af_cookie_get(&v, "authflow-at=a b", "authflow-at", pool), AF_ECOOKIE);
    ck_assert_int_eq(af_cookie_get(&v, "authflow-at=a,b", "authflow-at", pool), AF_ECOOKIE);
    /* junk of other applications is skipped */
    ck_assert_int_eq(af_cookie_get(&v, "junk; ;=x; authflow-at=ok", "authflow-at", pool),
                     APR_SUCCESS);
    ck_assert_str_eq(v, "ok");
}
END_TEST

START_TEST(test_cookie_limits)
{
    char *big = malloc(AF_COOKIE_MAX_HEADER + 10);
    const char *v;
    int i;

    memset(big, 'a', AF_COOKIE_MAX_HEADER + 9);
    big[0] = 'x';
    big[1] = '=';
    big[AF_COOKIE_MAX_HEADER + 9] = '\0';
    ck_assert_int_eq(af_cookie_get(&v, big, "authflow-at", pool), AF_ETOOBIG);
    for (i = 0; i < AF_COOKIE_MAX_PAIRS + 2; i++) {
        big[2 * i] = 'a';
        big[2 * i + 1] = ';';
    }
    big[2 * i] = '\0';
    ck_assert_int_eq(af_cookie_get(&v, big, "authflow-at", pool), AF_ETOOBIG);
    free(big);
}
END_TEST

START_TEST(test_cookie_remove)
{
    const char *names[] = {"authflow-at", "authflow-rt", "authflow-flow"};
    const char *out;
    int n;

    ck_assert_int_eq(
        af_cookie_remove(&out, &n, "a=1;authflow-at=x;b=2;authflow-rt=y", names, 3, pool),
        APR_SUCCESS);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(out, "a=1; b=2");
    ck_assert_int_eq(af_cookie_remove(&out, &n, "authflow-at=x", names, 3, pool), APR_SUCCESS);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(af_cookie_remove(&out, &n, "a=1", names, 3, pool), APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_str_eq(out, "a=1");
    /* a similar name is kept */
    ck_assert_int_eq(af_cookie_remove(&out, &n, "authflow-at2=1; authflow-at = 2", names, 3, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(out, "authflow-at2=1");
    /* F09, hardening item 13: repeated Cookie lines joined by httpd with ", " */
    ck_assert_int_eq(af_cookie_remove(&out, &n, "theme=dark, authflow-rt=y; lang=en, authflow-at=x",
                                      names, 3, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(out, "theme=dark; lang=en");
    ck_assert_int_eq(af_cookie_remove(&out, &n, "authflow-at=x, authflow-flow=z", names, 3, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(n, 2);
    ck_assert_ptr_null(out);
    /* other applications' commas are kept as they were */
    ck_assert_int_eq(af_cookie_remove(&out, &n, "list=a,b; authflow-at=x", names, 3, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(out, "list=a,b");
}
END_TEST

START_TEST(test_url_policy)
{
    ck_assert_int_eq(af_http_url_check("https://idp.example.com/jwks"), APR_SUCCESS);
    ck_assert_int_eq(af_http_url_check("http://127.0.0.1:8080/jwks"), APR_SUCCESS);
    ck_assert_int_eq(af_http_url_check("http://localhost/x"), APR_SUCCESS);
    ck_assert_int_eq(af_http_url_check("http://[::1]:80/x"), APR_SUCCESS);
    ck_assert_int_eq(af_http_url_check("http://idp.example.com/jwks"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("http://127.0.0.1.evil.com/"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("http://127.0.0.1@evil.com/"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("http://localhost.evil.com/"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("http://128.0.0.1/"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("http://127.0.0.256/"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("ftp://127.0.0.1/"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("file:///etc/passwd"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("https:///nohost"), AF_EHTTP_URL);
    ck_assert_int_eq(af_http_url_check("https://a b/"), AF_EHTTP_URL);
    ck_assert_int_eq(af_url_is_loopback("http://127.1.2.3/"), 1);
    ck_assert_int_eq(af_url_is_loopback("https://example.com/"), 0);
}
END_TEST

START_TEST(test_C06_jwks_key_count_cap)
{
    /* more keys than the cap refuse the whole set */
    json_t *set = json_object(), *arr = json_array();
    af_keyset_t *ks = NULL;
    const char *why = NULL, *doc;
    int i;

    for (i = 0; i < 51; i++) {
        af_key_t *k = NULL;
        json_t *pub = NULL;

        ck_assert_int_eq(af_key_generate(&k, AF_ALG_ES256, apr_psprintf(pool, "k%d", i), pool),
                         APR_SUCCESS);
        ck_assert_int_eq(af_key_to_public_jwk(&pub, k, pool), APR_SUCCESS);
        json_array_append(arr, pub);
    }
    json_object_set_new(set, "keys", arr);
    doc = af_json_dump(af_json_pool_own(set, pool), pool);
    ck_assert_int_ne(af_jwks_load_text(&ks, doc, strlen(doc), AF_JWK_PUBLIC_ONLY, 0, 0, &why, pool),
                     APR_SUCCESS);
    /* 50 keys: accepted with the default cap, refused with a cap of 10 */
    json_array_remove(arr, 50);
    doc = af_json_dump(set, pool);
    ck_assert_int_eq(af_jwks_load_text(&ks, doc, strlen(doc), AF_JWK_PUBLIC_ONLY, 0, 0, &why, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(ks->keys->nelts, 50);
    ck_assert_int_ne(
        af_jwks_load_text(&ks, doc, strlen(doc), AF_JWK_PUBLIC_ONLY, 0, 10, &why, pool),
        APR_SUCCESS);
    /* an alg mask drops what it does not allow */
    ck_assert_int_eq(af_jwks_load_text(&ks, doc, strlen(doc), AF_JWK_PUBLIC_ONLY,
                                       1u << AF_ALG_RS256, 0, &why, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(ks->keys->nelts, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gate_core");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_cookie_get);
    tcase_add_test(tc, test_cookie_limits);
    tcase_add_test(tc, test_cookie_remove);
    tcase_add_test(tc, test_url_policy);
    tcase_add_test(tc, test_C06_jwks_key_count_cap);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
