/* test_json.c -- strict JSON (SECURITY.md A07, A08 at unit level). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "af_testutil.h"
#include "common/af_error.h"
#include "common/af_json.h"

static apr_status_t parse_n(const char *s, apr_size_t len)
{
    apr_pool_t *p = af_test_pool();
    json_t *j = NULL;
    apr_status_t rv = af_json_parse(&j, s, len, 0, p);

    ck_assert(rv == APR_SUCCESS ? j != NULL : j == NULL);
    apr_pool_destroy(p);
    return rv;
}

static apr_status_t parse(const char *s)
{
    return parse_n(s, strlen(s));
}

static char *nested(char open, char close, int depth)
{
    char *s = malloc((size_t) depth * 2 + 1);
    int i;

    for (i = 0; i < depth; i++) {
        s[i] = open;
        s[depth * 2 - 1 - i] = close;
    }
    s[depth * 2] = '\0';
    return s;
}

START_TEST(test_valid_objects)
{
    ck_assert_int_eq(parse("{}"), APR_SUCCESS);
    ck_assert_int_eq(parse(" {\"a\":1,\"b\":[1,2,{\"c\":null}]} \n"), APR_SUCCESS);
    ck_assert_int_eq(parse("{\"s\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00\"}"), APR_SUCCESS);
}
END_TEST

START_TEST(test_A07_duplicate_members)
{
    ck_assert_int_eq(parse("{\"alg\":\"ES256\",\"alg\":\"none\"}"), AF_EJSON);
    ck_assert_int_eq(parse("{\"sub\":\"a\",\"sub\":\"admin\"}"), AF_EJSON);
    ck_assert_int_eq(parse("{\"x\":{\"a\":1,\"a\":1}}"), AF_EJSON);
    /* the same name spelled with an escape is the same member */
    ck_assert_int_eq(parse("{\"sub\":\"a\",\"s\\u0075b\":\"admin\"}"), AF_EJSON);
}
END_TEST

START_TEST(test_A08_invalid_utf8)
{
    ck_assert_int_eq(parse("{\"a\":\"\xff\"}"), AF_EJSON);
    ck_assert_int_eq(parse("{\"a\":\"\xc0\xaf\"}"), AF_EJSON);     /* overlong '/' */
    ck_assert_int_eq(parse("{\"a\":\"\xed\xa0\x80\"}"), AF_EJSON); /* surrogate */
    ck_assert_int_eq(parse("{\"a\":\"\xc3\"}"), AF_EJSON);         /* truncated */
    ck_assert_int_eq(parse("{\"\xfe\":1}"), AF_EJSON);
}
END_TEST

START_TEST(test_A08_utf16_and_bom)
{
    static const char le[] = "{\0\"\0a\0\"\0:\0\x31\0}\0";
    static const char be[] = "\0{\0\"\0a\0\"\0:\0\x31\0}";

    ck_assert_int_eq(parse_n(le, sizeof(le) - 1), AF_EJSON);
    ck_assert_int_eq(parse_n(be, sizeof(be) - 1), AF_EJSON);
    ck_assert_int_eq(parse("\xef\xbb\xbf{\"a\":1}"), AF_EJSON);
    ck_assert_int_eq(parse_n("\xff\xfe{\0}\0", 6), AF_EJSON);
}
END_TEST

START_TEST(test_A08_nul_in_string)
{
    ck_assert_int_eq(parse("{\"sub\":\"admin\\u0000x\"}"), AF_EJSON);
    ck_assert_int_eq(parse("{\"a\\u0000\":1}"), AF_EJSON);
    ck_assert_int_eq(parse_n("{\"sub\":\"admin\0x\"}", 16), AF_EJSON);
    ck_assert_int_eq(parse_n("{}\0", 3), AF_EJSON);
}
END_TEST

START_TEST(test_A08_trailing_bytes)
{
    ck_assert_int_eq(parse("{}x"), AF_EJSON);
    ck_assert_int_eq(parse("{}{}"), AF_EJSON);
    ck_assert_int_eq(parse("{\"a\":1},"), AF_EJSON);
    ck_assert_int_eq(parse("{\"a\":1} 1"), AF_EJSON);
}
END_TEST

START_TEST(test_A08_top_level_not_object)
{
    ck_assert_int_eq(parse("[]"), AF_EJSON);
    ck_assert_int_eq(parse("[{\"a\":1}]"), AF_EJSON);
    ck_assert_int_eq(parse("\"a\""), AF_EJSON);
    ck_assert_int_eq(parse("1"), AF_EJSON);
    ck_assert_int_eq(parse("null"), AF_EJSON);
    ck_assert_int_eq(parse(""), AF_EJSON);
    ck_assert_int_eq(parse("   "), AF_EJSON);
}
END_TEST

START_TEST(test_A08_depth_cap)
{
    char *ok = nested('{', '}', 1), *s;
    char buf[4096];
    int d;

    free(ok);
    /* objects: {"a":{"a":...{}}} */
    for (d = 31; d <= 34; d++) {
        int i;
        buf[0] = '\0';
        for (i = 1; i < d; i++) {
            strcat(buf, "{\"a\":");
        }
        strcat(buf, "{}");
        for (i = 1; i < d; i++) {
            strcat(buf, "}");
        }
        ck_assert_int_eq(parse(buf), d <= AF_JSON_MAX_DEPTH ? APR_SUCCESS : AF_EJSON_DEPTH);
    }
    /* arrays inside an object */
    s = nested('[', ']', 31);
    snprintf(buf, sizeof(buf), "{\"a\":%s}", s);
    ck_assert_int_eq(parse(buf), APR_SUCCESS);
    free(s);
    s = nested('[', ']', 32);
    snprintf(buf, sizeof(buf), "{\"a\":%s}", s);
    ck_assert_int_eq(parse(buf), AF_EJSON_DEPTH);
    free(s);
    /* very deep input is refused before jansson recurses */
    s = nested('[', ']', 100000);
    ck_assert_int_eq(parse(s), AF_EJSON_DEPTH);
    free(s);
    /* brackets inside strings do not count */
    s = nested('[', ']', 40);
    snprintf(buf, sizeof(buf), "{\"a\":\"%s\",\"b\":\"\\\"[[[\"}", s);
    ck_assert_int_eq(parse(buf), APR_SUCCESS);
    free(s);
}
END_TEST

START_TEST(test_size_cap)
{
    apr_pool_t *p = af_test_pool();
    json_t *j;

    ck_assert_int_eq(af_json_parse(&j, "{\"a\":1}", 7, 6, p), AF_ETOOBIG);
    ck_assert_int_eq(af_json_parse(&j, "{\"a\":1}", 7, 7, p), APR_SUCCESS);
    ck_assert_int_eq(af_json_parse(&j, NULL, 0, 0, p), AF_EJSON);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_path_and_dump)
{
    apr_pool_t *p = af_test_pool();
    json_t *j;
    const char *doc = "{\"realm_access\":{\"roles\":[\"a\",\"b\"]},\"groups\":[\"x\",{\"y\":2}],"
                      "\"http://example.com/is_root\":true}";

    ck_assert_int_eq(af_json_parse(&j, doc, strlen(doc), 0, p), APR_SUCCESS);
    ck_assert_str_eq(json_string_value(af_json_path(j, "realm_access.roles[1]")), "b");
    ck_assert_str_eq(json_string_value(af_json_path(j, "groups[0]")), "x");
    ck_assert_int_eq(json_integer_value(af_json_path(j, "groups[1].y")), 2);
    ck_assert(json_is_true(af_json_path(j, "http://example.com/is_root")));
    ck_assert_ptr_null(af_json_path(j, "groups[2]"));
    ck_assert_ptr_null(af_json_path(j, "realm_access.nope"));
    ck_assert_ptr_null(af_json_path(j, "groups.y"));
    ck_assert_ptr_null(af_json_path(j, "groups[x]"));
    ck_assert_str_eq(af_json_dump(af_json_path(j, "realm_access"), p), "{\"roles\":[\"a\",\"b\"]}");
    apr_pool_destroy(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");

    tcase_add_test(tc, test_valid_objects);
    tcase_add_test(tc, test_A07_duplicate_members);
    tcase_add_test(tc, test_A08_invalid_utf8);
    tcase_add_test(tc, test_A08_utf16_and_bom);
    tcase_add_test(tc, test_A08_nul_in_string);
    tcase_add_test(tc, test_A08_trailing_bytes);
    tcase_add_test(tc, test_A08_top_level_not_object);
    tcase_add_test(tc, test_A08_depth_cap);
    tcase_add_test(tc, test_size_cap);
    tcase_add_test(tc, test_path_and_dump);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
