/* test_json.c -- strict JSON (SECURITY.md A07, A08 at unit level). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_testutil.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "common/json_reader.h"

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
    char buf[4096], *s;
    int d;

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

/* The reader against jansson's json_loadb(JSON_REJECT_DUPLICATES): same verdict and equal
 * values on hand-picked cases and on ~300k deterministic random mutations of seeds, where the
 * nesting stays within our cap (jansson allows 2048). */
static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned) (rng_state % n);
}

static void compare(const char *s, size_t n, int *agree, int *accepted)
{
    json_error_t err;
    json_t *a = NULL, *b = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    apr_status_t rv = af_json_read(&a, s, n);

    if (rv == AF_EJSON_DEPTH) {
        json_decref(b);
        return; /* ours is stricter by design */
    }
    ck_assert_msg((rv == APR_SUCCESS) == (b != NULL),
                  "verdicts differ on [%.*s]: ours %d, jansson %s", (int) n, s, rv,
                  b != NULL ? "ok" : err.text);
    if (b != NULL) {
        ck_assert_msg(json_equal(a, b), "values differ on [%.*s]", (int) n, s);
        (*accepted)++;
    }
    (*agree)++;
    json_decref(a);
    json_decref(b);
}

START_TEST(test_reader_matches_jansson)
{
    static const char *const seeds[] = {
        "{\"iss\":\"https://issuer.example\",\"aud\":[\"a\",\"b\"],\"exp\":1700000600,"
        "\"iat\":1.7e9,\"n\":-0.5e-3,\"t\":true,\"f\":false,\"z\":null,\"o\":{\"p\":[{}]}}",
        "{\"s\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\","
        "\"\\u0041\\u00DF\":\"\xf0\x9f\x98\x80\xe4\xb8\x80\"}",
        "[0,-0,1,-1,12345678901234,9223372036854775807,-9223372036854775808,1e308,1E-400,"
        "0.0,2.5E+3]",
        "{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":\"e\"}]]]}}}",
        " \t\r\n{ \"k\" : [ 1 , 2 ] , \"k2\" : \"v\" } \n"};
    static const char *const cases[] = {"",
                                        " ",
                                        "{",
                                        "}",
                                        "{}",
                                        "[]",
                                        "\"\"",
                                        "0",
                                        "-",
                                        "01",
                                        "1.",
                                        ".5",
                                        "+1",
                                        "1e",
                                        "1e+",
                                        "-0",
                                        "1E400",
                                        "-1e400",
                                        "9223372036854775808",
                                        "-9223372036854775809",
                                        "tru",
                                        "nul",
                                        "truex",
                                        "{\"a\"}",
                                        "{\"a\":}",
                                        "{,}",
                                        "[1,]",
                                        "{\"a\":1,}",
                                        "[1 2]",
                                        "\"\\u12\"",
                                        "\"\\uD800\"",
                                        "\"\\uDC00\"",
                                        "\"\\uD800\\u0041\"",
                                        "\"\\uD83D\\uDE00\"",
                                        "\"\\x\"",
                                        "\"\\u0000\"",
                                        "\"a\tb\"",
                                        "\"\xc0\x80\"",
                                        "\"\xed\xa0\x80\"",
                                        "\"\xf4\x90\x80\x80\"",
                                        "\"\xe0\x9f\xbf\"",
                                        "\"\xf0\x8f\xbf\xbf\"",
                                        "\"\xc3\"",
                                        "\"\xc3(\"",
                                        "{\"a\":1,\"a\":2}",
                                        "{\"a\":1,\"\\u0061\":2}",
                                        "{\"\":1}",
                                        "\xef\xbb\xbf{}",
                                        "{}x",
                                        "{} {}",
                                        "[]]",
                                        "\"abc",
                                        "\"\\",
                                        "{\"a\\nb\":\"\\u00e9\",\"a\\u000ab\":1}"};
    static const char alphabet[] = "{}[]\":,\\0123456789.eE+-truefalsnu \t\n\xc3\xa9\xff\x80";
    char buf[512];
    size_t i;
    int agree = 0, accepted = 0, k;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        compare(cases[i], strlen(cases[i]), &agree, &accepted);
    }
    for (k = 0; k < 300000; k++) {
        const char *seed = seeds[rnd(sizeof(seeds) / sizeof(seeds[0]))];
        size_t n = strlen(seed), m, e = 1 + rnd(4);

        memcpy(buf, seed, n);
        for (m = 0; m < e; m++) {
            unsigned op = rnd(3), at = rnd((unsigned) n + 1);
            char c = alphabet[rnd(sizeof(alphabet) - 1)];

            if (op == 0 && at < n) {
                buf[at] = c; /* replace */
            } else if (op == 1 && n + 1 < sizeof(buf)) {
                memmove(buf + at + 1, buf + at, n - at); /* insert */
                buf[at] = c;
                n++;
            } else if (at < n) {
                memmove(buf + at, buf + at + 1, n - at - 1); /* delete */
                n--;
            }
        }
        compare(buf, n, &agree, &accepted);
    }
    printf("json reader vs jansson: %d inputs agree (%d accepted by both)\n", agree, accepted);
    ck_assert_int_gt(accepted, 1000);
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
    tcase_add_test(tc, test_reader_matches_jansson);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
