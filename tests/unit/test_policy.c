/* test_policy.c -- the claim language (src/policy): a table of (expression, claims,
 * expected) cases, a table of syntax/type errors with their exact messages, short-
 * circuiting (observed through the injected clock), the authflow-claim shorthand,
 * claim paths and claim text for ap_expr, regex limits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <jansson.h>

#include "policy/af_policy.h"

static apr_pool_t *pool;

/* The claims most cases run against (NULL in a row means these). */
static const char *const CL =
    "{\"sub\":\"u1\",\"email\":\"alice@corp.example\",\"email_verified\":true,"
    "\"name\":\"Zo\\u00eb \\u00dcn\\u00efcode\",\"city\":\"\\u6771\\u4eac\","
    "\"emoji\":\"\\ud83d\\ude00!\",\"groups\":[\"ops\",\"dev\",\"admins\"],"
    "\"amr\":[\"pwd\",\"mfa\"],\"auth_time\":1700000000,\"age\":42,\"score\":3.5,"
    "\"zero\":0,\"zero_r\":0.0,\"empty\":\"\",\"empty_arr\":[],\"empty_obj\":{},"
    "\"nul\":null,\"f\":false,\"t\":true,\"five_s\":\"5\",\"five\":5,"
    "\"realm_access\":{\"roles\":[\"admin\",\"user\"],\"level\":3},"
    "\"nested\":{\"a\":{\"b\":{\"c\":\"deep\"}},\"in\":\"kw\",\"true\":1},"
    "\"mixed\":[1,\"1\",true,null,2.5,[\"x\"],{\"k\":1}],\"big\":9007199254740993,"
    "\"neg\":-7,\"tenant\":\"ACME\",\"lists\":[[1,2],[3]],\"exists\":\"e\",\"len\":3,"
    "\"nums\":[1,2.0,3],\"path\":\"/a/b\",\"multi\":\"line1\\nline2\"}";

#define NOW 1700003600

static apr_int64_t fixed_clock(void *baton)
{
    int *calls = baton;
    if (calls != NULL) {
        (*calls)++;
    }
    return NOW;
}

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text ? text : CL, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(j != NULL, "bad test JSON %s: %s", text ? text : "CL", e.text);
    return j;
}

/* compile + evaluate; returns 1/0, or -1 on a compile error (message in *err) */
static int run(const char *expr, const char *claims, const char **err, int *clock_calls)
{
    af_policy_t *pol;
    af_policy_ctx_t ctx;
    json_t *j;
    apr_status_t rv;
    int allowed = -1;

    rv = af_policy_compile(&pol, err, expr, pool);
    if (rv != APR_SUCCESS) {
        return -1;
    }
    j = load(claims);
    af_policy_ctx_init(&ctx, pool);
    ctx.now = fixed_clock;
    ctx.now_baton = clock_calls;
    rv = af_policy_eval(&allowed, pol, j, &ctx);
    json_decref(j);
    ck_assert_msg(rv == APR_SUCCESS, "%s: eval failed: %s", expr, af_strerror(rv));
    return allowed;
}

typedef struct {
    const char *expr;
    const char *claims; /* NULL: CL */
    int expect;
} case_t;

static const case_t cases[] = {
    /* bare paths: truthiness */
    {"email_verified", NULL, 1},
    {"t", NULL, 1},
    {"f", NULL, 0},
    {"nul", NULL, 0},
    {"empty", NULL, 0},
    {"zero", NULL, 0},
    {"zero_r", NULL, 0},
    {"empty_arr", NULL, 0},
    {"empty_obj", NULL, 1},
    {"groups", NULL, 1},
    {"age", NULL, 1},
    {"neg", NULL, 1},
    {"score", NULL, 1},
    {"email", NULL, 1},
    {"missing", NULL, 0},
    {"realm_access", NULL, 1},
    {"exists", NULL, 1},
    {"len", NULL, 1},
    {"missing.deeper", NULL, 0},
    {"email.deeper", NULL, 0},
    /* literals as values */
    {"true", NULL, 1},
    {"false", NULL, 0},
    {"null", NULL, 0},
    {"1", NULL, 1},
    {"0", NULL, 0},
    {"0.0", NULL, 0},
    {"-1", NULL, 1},
    {"'x'", NULL, 1},
    {"''", NULL, 0},
    {"[1]", NULL, 1},
    {"[0]", NULL, 1},
    /* == and != on strings */
    {"email == 'alice@corp.example'", NULL, 1},
    {"email == \"alice@corp.example\"", NULL, 1},
    {"email == 'Alice@corp.example'", NULL, 0},
    {"email != 'bob@corp.example'", NULL, 1},
    {"email != 'alice@corp.example'", NULL, 0},
    {"'alice@corp.example' == email", NULL, 1},
    {"sub == 'u1' && tenant == 'ACME'", NULL, 1},
    {"empty == ''", NULL, 1},
    /* numbers: integers and reals compare numerically */
    {"age == 42", NULL, 1},
    {"age == 42.0", NULL, 1},
    {"age != 41", NULL, 1},
    {"age < 43", NULL, 1},
    {"age <= 42", NULL, 1},
    {"age > 42", NULL, 0},
    {"age >= 42", NULL, 1},
    {"age > 41.5", NULL, 1},
    {"score > 3", NULL, 1},
    {"score < 3.6", NULL, 1},
    {"score == 3.5", NULL, 1},
    {"score >= 35e-1", NULL, 1},
    {"neg < 0", NULL, 1},
    {"neg == -7", NULL, 1},
    {"neg > -8", NULL, 1},
    {"zero == 0", NULL, 1},
    {"zero_r == 0", NULL, 1},
    {"five == 5", NULL, 1},
    {"big > 9007199254740992", NULL, 1},
    {"big == 9007199254740993", NULL, 1},
    {"realm_access.level >= 3", NULL, 1},
    {"1 < 2", NULL, 1},
    {"2.5 > 2", NULL, 1},
    /* no coercion: different types are never equal nor ordered */
    {"five_s >= 3", NULL, 0},
    {"five_s == 5", NULL, 0},
    {"five_s != 5", NULL, 1},
    {"five == '5'", NULL, 0},
    {"t == 1", NULL, 0},
    {"t == 'true'", NULL, 0},
    {"zero == false", NULL, 0},
    {"empty == null", NULL, 0},
    {"nul == null", NULL, 1},
    {"nul != null", NULL, 0},
    {"nul == false", NULL, 0},
    {"t == true", NULL, 1},
    {"f == false", NULL, 1},
    {"f != true", NULL, 1},
    {"t < 2", NULL, 0},
    {"nul < 1", NULL, 0},
    {"email > 5", NULL, 0},
    {"age > 'a'", NULL, 0},
    /* arrays and objects are never == (use in) */
    {"groups == 'ops'", NULL, 0},
    {"groups != 'ops'", NULL, 0},
    {"groups == groups", NULL, 0},
    {"realm_access == realm_access", NULL, 0},
    {"empty_arr == 0", NULL, 0},
    {"groups > 1", NULL, 0},
    /* missing claims: every comparison false, never an error */
    {"missing == 'x'", NULL, 0},
    {"missing != 'x'", NULL, 0},
    {"missing == null", NULL, 0},
    {"missing < 1", NULL, 0},
    {"missing >= 0", NULL, 0},
    {"'x' in missing", NULL, 0},
    {"missing in groups", NULL, 0},
    {"missing =~ /x/", NULL, 0},
    {"missing !~ /x/", NULL, 0},
    {"not missing", NULL, 1},
    {"not (missing == 'x')", NULL, 1},
    {"groups[10] == 'x'", NULL, 0},
    {"groups[10] != 'x'", NULL, 0},
    {"realm_access.nope.roles == 'x'", NULL, 0},
    {"missing + 1 > 0", NULL, 0},
    {"x == 1", "{}", 0},
    /* strings compare bytewise, UTF-8 included */
    {"email < 'b'", NULL, 1},
    {"email > 'alice'", NULL, 1},
    {"'a' < 'b'", NULL, 1},
    {"'B' < 'a'", NULL, 1},
    {"'abc' <= 'abc'", NULL, 1},
    {"'ab' < 'abc'", NULL, 1},
    {"name == 'Zo\u00eb \u00dcn\u00efcode'", NULL, 1},
    {"name == 'Zo\\u00eb \\u00dcn\\u00efcode'", NULL, 1},
    {"name == 'Zoe Unicode'", NULL, 0},
    {"city == '\u6771\u4eac'", NULL, 1},
    {"city > 'z'", NULL, 1},
    {"emoji == '\\ud83d\\ude00!'", NULL, 1},
    {"emoji == '\U0001F600!'", NULL, 1},
    {"'\u00e9' > 'z'", NULL, 1},
    {"'\u00eb' in name", NULL, 1},
    /* escapes */
    {"'it\\'s' == \"it's\"", NULL, 1},
    {"\"say \\\"hi\\\"\" == 'say \"hi\"'", NULL, 1},
    {"multi == 'line1\\nline2'", NULL, 1},
    {"'a\\\\b' == \"a\\\\b\"", NULL, 1},
    {"'\\t' != '\\\\t'", NULL, 1},
    {"path == '\\/a\\/b'", NULL, 1},
    /* in: membership in arrays and lists, substring in strings */
    {"'ops' in groups", NULL, 1},
    {"'admins' in groups", NULL, 1},
    {"'root' in groups", NULL, 0},
    {"'OPS' in groups", NULL, 0},
    {"'mfa' in amr", NULL, 1},
    {"'admin' in realm_access.roles", NULL, 1},
    {"1 in mixed", NULL, 1},
    {"'1' in mixed", NULL, 1},
    {"true in mixed", NULL, 1},
    {"null in mixed", NULL, 1},
    {"2.5 in mixed", NULL, 1},
    {"false in mixed", NULL, 0},
    {"'x' in mixed", NULL, 0},
    {"2 in nums", NULL, 1},
    {"2.0 in nums", NULL, 1},
    {"'2' in nums", NULL, 0},
    {"'corp' in email", NULL, 1},
    {"'@corp.example' in email", NULL, 1},
    {"'' in email", NULL, 1},
    {"'CORP' in email", NULL, 0},
    {"5 in five_s", NULL, 0},
    {"email in ['alice@corp.example', 'bob@corp.example']", NULL, 1},
    {"email in ['bob@corp.example']", NULL, 0},
    {"tenant in ['ACME', 'Initech']", NULL, 1},
    {"age in [41, 42, 43]", NULL, 1},
    {"age in [42.0]", NULL, 1},
    {"age in ['42']", NULL, 0},
    {"sub in [tenant, sub]", NULL, 1},
    {"'ops' in [groups]", NULL, 0},
    {"groups in groups", NULL, 0},
    {"'x' in realm_access", NULL, 0},
    {"'x' in empty_arr", NULL, 0},
    {"1 in lists", NULL, 0},
    {"'ops' in groups and 'dev' in groups", NULL, 1},
    /* regex: PCRE, /i, anchors, DOLLAR_ENDONLY, escapes */
    {"email =~ /@corp\\.example$/", NULL, 1},
    {"email =~ /@CORP\\.EXAMPLE$/", NULL, 0},
    {"email =~ /@CORP\\.EXAMPLE$/i", NULL, 1},
    {"email !~ /@corp\\.example$/", NULL, 0},
    {"email !~ /@other\\.example$/", NULL, 1},
    {"email =~ /^alice@/", NULL, 1},
    {"email =~ /^lice/", NULL, 0},
    {"email =~ /corp/", NULL, 1},
    {"email =~ //", NULL, 1},
    {"tenant =~ /^acme$/i", NULL, 1},
    {"path =~ /^\\/a\\/b$/", NULL, 1},
    {"path =~ /^[/]a/", NULL, 1},
    {"path =~ /^[^x/]*\\/a/", NULL, 1},
    {"multi =~ /line1.line2/", NULL, 1},
    {"multi =~ /^line2/", NULL, 0},
    {"'abc\\n' =~ /c$/", NULL, 0},
    {"'abc' =~ /c$/", NULL, 1},
    {"age =~ /42/", NULL, 0},
    {"groups =~ /ops/", NULL, 0},
    {"age !~ /42/", NULL, 0},
    {"name =~ /Zo\u00eb/", NULL, 1},
    {"'Ab' =~ /^(?:a|x)b$/i", NULL, 1},
    {"email =~ /\\d/", NULL, 0},
    /* exists() */
    {"exists(email)", NULL, 1},
    {"exists(nul)", NULL, 1},
    {"exists(f)", NULL, 1},
    {"exists(missing)", NULL, 0},
    {"exists(realm_access.roles)", NULL, 1},
    {"exists(realm_access.roles[1])", NULL, 1},
    {"exists(realm_access.roles[2])", NULL, 0},
    {"exists(nested.a.b.c)", NULL, 1},
    {"!exists(missing)", NULL, 1},
    {"exists(email) == true", NULL, 1},
    {"exists(exists)", NULL, 1},
    /* len() */
    {"len(groups) == 3", NULL, 1},
    {"len(empty_arr) == 0", NULL, 1},
    {"len(email) == 18", NULL, 1},
    {"len(name) == 11", NULL, 1},
    {"len(city) == 2", NULL, 1},
    {"len(emoji) == 2", NULL, 1},
    {"len(empty) == 0", NULL, 1},
    {"len(realm_access) == 2", NULL, 1},
    {"len(age) == 2", NULL, 0},
    {"len(age) != 2", NULL, 0},
    {"len(missing) == 0", NULL, 0},
    {"len(groups) > 2 and len(amr) >= 2", NULL, 1},
    {"len(groups)", NULL, 1},
    {"len(empty_arr)", NULL, 0},
    {"len(len) == 0", NULL, 0},
    /* now() and arithmetic */
    {"now() == 1700003600", NULL, 1},
    {"auth_time > now() - 3600", NULL, 0},
    {"auth_time >= now() - 3600", NULL, 1},
    {"auth_time > now() - 7200", NULL, 1},
    {"auth_time + 3600 == now()", NULL, 1},
    {"now() - auth_time < 86400", NULL, 1},
    {"age + 1 == 43", NULL, 1},
    {"age - 2 + 10 == 50", NULL, 1},
    {"age + 0.5 == 42.5", NULL, 1},
    {"score + score == 7", NULL, 1},
    {"1 + 2 == 3", NULL, 1},
    {"1 - 1", NULL, 0},
    {"age + five_s == 47", NULL, 0},
    {"age + t > 0", NULL, 0},
    {"len(groups) + 1 == 4", NULL, 1},
    {"9223372036854775807 + 1 > 9223372036854775807", NULL, 1},
    {"neg - -7 == 0", NULL, 1},
    {"age-1 == 41", NULL, 1},
    /* nested paths and indexes */
    {"groups[0] == 'ops'", NULL, 1},
    {"groups[2] == 'admins'", NULL, 1},
    {"groups[1] == 'ops'", NULL, 0},
    {"realm_access.roles[0] == 'admin'", NULL, 1},
    {"nested.a.b.c == 'deep'", NULL, 1},
    {"nested.a.b == 'deep'", NULL, 0},
    {"nested.in == 'kw'", NULL, 1},
    {"nested.true == 1", NULL, 1},
    {"mixed[5][0] == 'x'", NULL, 1},
    {"mixed[6].k == 1", NULL, 1},
    {"lists[1][0] == 3", NULL, 1},
    {"lists[0][1] == 2", NULL, 1},
    {"groups.x == 'ops'", NULL, 0},
    {"realm_access[0] == 'x'", NULL, 0},
    {"groups [ 0 ] == 'ops'", NULL, 1},
    /* boolean operators, both spellings */
    {"t && t", NULL, 1},
    {"t && f", NULL, 0},
    {"t and t", NULL, 1},
    {"f || t", NULL, 1},
    {"f or f", NULL, 0},
    {"!f", NULL, 1},
    {"!t", NULL, 0},
    {"not f", NULL, 1},
    {"!!t", NULL, 1},
    {"not not t", NULL, 1},
    {"t and t and t and f", NULL, 0},
    {"f or f or f or t", NULL, 1},
    /* precedence: or < and < not < cmp < sum */
    {"t or t and f", NULL, 1},
    {"(t or t) and f", NULL, 0},
    {"f and f or t", NULL, 1},
    {"f and (f or t)", NULL, 0},
    {"not f and f", NULL, 0},
    {"not (f and f)", NULL, 1},
    {"not age == 41", NULL, 1},
    {"!age == 42", NULL, 0},
    {"not 'root' in groups", NULL, 1},
    {"age + 1 > 42 and age - 1 < 42", NULL, 1},
    {"1 + 1 == 2 or f", NULL, 1},
    {"f || t && f", NULL, 0},
    {"!(age > 40) || email_verified && 'ops' in groups", NULL, 1},
    {"((((t))))", NULL, 1},
    /* realistic policies */
    {"email_verified && email =~ /@corp\\.example$/", NULL, 1},
    {"email_verified && email =~ /@corp\\.example$/",
     "{\"email_verified\":false,"
     "\"email\":\"alice@corp.example\"}",
     0},
    {"email_verified && email =~ /@corp\\.example$/",
     "{\"email_verified\":\"true\","
     "\"email\":\"a@corp.example\"}",
     1},
    {"email_verified and email =~ /@corp\\.example$/i",
     "{\"email_verified\":true,"
     "\"email\":\"A@CORP.EXAMPLE\"}",
     1},
    {"exists(amr) and 'mfa' in amr and auth_time > now() - 3600",
     "{\"amr\":[\"mfa\"],\"auth_time\":1700003000}", 1},
    {"exists(amr) and 'mfa' in amr and auth_time > now() - 3600",
     "{\"amr\":[\"pwd\"],\"auth_time\":1700003000}", 0},
    {"exists(amr) and 'mfa' in amr and auth_time > now() - 3600",
     "{\"amr\":[\"mfa\"],\"auth_time\":\"1700003000\"}", 0},
    {"'admin' in groups", "{\"groups\":[\"admin\"]}", 1},
    {"'admin' in groups", "{\"groups\":\"superadmin\"}", 1},
    {"'admin' in groups", "{\"groups\":\"users\"}", 0},
    {"'admin' in groups", "{\"groups\":{\"admin\":true}}", 0},
    {"email_verified", "{\"email_verified\":\"false\"}", 1},
    {"email_verified == true", "{\"email_verified\":\"true\"}", 0},
    {"hd == 'corp.example' and email_verified",
     "{\"hd\":\"corp.example\","
     "\"email_verified\":true}",
     1},
};

START_TEST(test_policy_table)
{
    size_t i, n = sizeof(cases) / sizeof(cases[0]);
    int failed = 0;

    for (i = 0; i < n; i++) {
        const char *err = NULL;
        int got = run(cases[i].expr, cases[i].claims, &err, NULL);
        if (got != cases[i].expect) {
            fprintf(stderr, "case %zu: %s => %d, expected %d%s%s\n", i, cases[i].expr, got,
                    cases[i].expect, err ? ": " : "", err ? err : "");
            failed++;
        }
    }
    printf("policy: %zu evaluation cases\n", n);
    ck_assert_msg(failed == 0, "%d of %zu cases failed", failed, n);
}
END_TEST

typedef struct {
    const char *expr;
    const char *msg;
} err_t;

static const err_t errors[] = {
    {"", "column 1: expected a value"},
    {"   ", "column 4: expected a value"},
    {"email_verified && email ==", "column 27: expected a value after '=='"},
    {"email_verified && email == )", "column 28: expected a value after '=='"},
    {"a &&", "column 5: expected a value after '&&'"},
    {"a and", "column 6: expected a value after 'and'"},
    {"a ||", "column 5: expected a value after '||'"},
    {"a or or b", "column 6: expected a value after 'or'"},
    {"not", "column 4: expected a value after 'not'"},
    {"!", "column 2: expected a value after '!'"},
    {"a +", "column 4: expected a value after '+'"},
    {"a in", "column 5: expected a value after 'in'"},
    {"a <", "column 4: expected a value after '<'"},
    {"== 1", "column 1: expected a value"},
    {"(a", "column 3: expected ')' to close '(' at column 1"},
    {"x and (a or b", "column 14: expected ')' to close '(' at column 7"},
    {"a)", "column 2: unexpected ')' without '('"},
    {"a b", "column 3: unexpected 'b'"},
    {"a 'x'", "column 3: unexpected ''x''"},
    {"a = 'x'", "column 3: unexpected '=' (did you mean '=='?)"},
    {"a & b", "column 3: unexpected '&' (did you mean '&&'?)"},
    {"a | b", "column 3: unexpected '|' (did you mean '||'?)"},
    {"a # b", "column 3: unexpected character '#'"},
    {"a == 'x", "column 6: unterminated string"},
    {"a == \"x", "column 6: unterminated string"},
    {"a == 'x\\", "column 6: unterminated string"},
    {"a == 'x\\'", "column 6: unterminated string"},
    {"a == 'x\\q'", "column 8: invalid escape '\\q' in a string"},
    {"a == '\\u00'", "column 7: invalid \\u escape in a string"},
    {"a == '\\u0000'", "column 7: invalid \\u escape in a string"},
    {"a == '\\ud800'", "column 7: invalid \\u escape in a string"},
    {"a =~ /x", "column 6: unterminated regex"},
    {"a =~ /x/g", "column 9: unknown regex flag 'g'"},
    {"a =~ /x/ii", "column 10: unknown regex flag 'i'"},
    {"a =~ /(x/", "column 9: invalid regex: missing closing parenthesis"},
    {"a =~ 'x'", "column 6: expected a regex after '=~'"},
    {"a !~ b", "column 6: expected a regex after '!~'"},
    {"/x/ =~ a", "column 1: a regex must be on the right of '=~'"},
    {"/x/ !~ a", "column 1: a regex must be on the right of '!~'"},
    {"/x/", "column 1: a regex can only follow '=~' or '!~'"},
    {"a == /x/", "column 6: a regex can only follow '=~' or '!~'"},
    {"a == b == c", "column 8: comparisons do not chain; use 'and'"},
    {"1 < a < 3", "column 7: comparisons do not chain; use 'and'"},
    {"'a' + 1", "column 1: '+' needs numbers, found a string"},
    {"1 + 'a' > 0", "column 5: '+' needs numbers, found a string"},
    {"a - true", "column 5: '-' needs numbers, found a boolean"},
    {"x + [1]", "column 5: '+' needs numbers, found a list"},
    {"1 + (x == 1)", "column 5: '+' needs numbers, found a boolean"},
    {"(x or y) - 1 > 0", "column 1: '-' needs numbers, found a boolean"},
    {"1 =~ /x/", "column 3: '=~' needs a string on the left, found a number"},
    {"'5' >= 3", "column 5: '>=' compares a string with a number"},
    {"'5' == 5", "column 5: '==' compares a string with a number"},
    {"true != null", "column 6: '!=' compares a boolean with null"},
    {"a < true", "column 3: '<' needs numbers or strings, found a boolean"},
    {"null > 1", "column 6: '>' needs numbers or strings, found null"},
    {"groups == [1]", "column 8: '==' cannot compare a list; use 'in'"},
    {"'a' in 5", "column 5: 'in' needs a list or a string on the right, found a number"},
    {"[1] in a", "column 5: 'in' cannot look for a list"},
    {"1 in 'abc'", "column 3: 'in' a string needs a string on the left, found a number"},
    {"foo(a)", "column 1: unknown function 'foo'"},
    {"exists('a')", "column 8: expected a claim path after 'exists('"},
    {"exists()", "column 8: expected a claim path after 'exists('"},
    {"len(a", "column 6: expected ')' to close 'len('"},
    {"len(a, b)", "column 6: expected ')' to close 'len('"},
    {"now(1)", "column 5: expected ')' to close 'now('"},
    {"a.", "column 3: expected a name after '.'"},
    {"a.'b'", "column 3: expected a name after '.'"},
    {"a[", "column 3: expected an index after '['"},
    {"a[x]", "column 3: expected an index after '['"},
    {"a[-1]", "column 3: expected an index after '['"},
    {"a[1", "column 4: expected ']' after the index"},
    {"[1, 2", "column 6: expected ',' or ']' in a list"},
    {"x in [1 2]", "column 9: expected ',' or ']' in a list"},
    {"x in []", "column 7: expected a value after '['"},
    {"x in [1,]", "column 9: expected a value after ','"},
    {"a > -b", "column 6: expected a number after '-'"},
    {"1.", "column 1: invalid number '1.'"},
    {"12ab == 1", "column 1: invalid number '12ab'"},
    {"1e == 1", "column 1: invalid number '1e'"},
    {"99999999999999999999 > 1", "column 1: number out of range"},
    {"email_verified && \u00e9 == 1", "column 19: unexpected character 0xC3"},
    {"'\u00e9\u00e9' == a b", "column 11: unexpected 'b'"},
    {"\xff", "column 1: invalid UTF-8"},
    {"a == 'x\xc3'", "column 8: invalid UTF-8"},
};

START_TEST(test_policy_syntax_errors)
{
    size_t i, n = sizeof(errors) / sizeof(errors[0]);
    int failed = 0;

    for (i = 0; i < n; i++) {
        const char *err = NULL;
        int got = run(errors[i].expr, NULL, &err, NULL);
        if (got != -1 || err == NULL || strcmp(err, errors[i].msg) != 0) {
            fprintf(stderr, "error case %zu: %s => %d \"%s\", expected \"%s\"\n", i, errors[i].expr,
                    got, err ? err : "(none)", errors[i].msg);
            failed++;
        }
    }
    printf("policy: %zu error cases\n", n);
    ck_assert_msg(failed == 0, "%d of %zu error cases failed", failed, n);
}
END_TEST

START_TEST(test_policy_error_codes)
{
    af_policy_t *pol;
    const char *err;
    char *big = malloc(AF_POLICY_MAX_LEN + 2);
    char deep[3 * AF_POLICY_MAX_DEPTH + 8];
    int i;

    ck_assert_int_eq(af_policy_compile(&pol, &err, "a ==", pool), AF_EPOLICY_SYNTAX);
    ck_assert_ptr_null(pol);
    ck_assert_int_eq(af_policy_compile(&pol, &err, "'a' + 1", pool), AF_EPOLICY_TYPE);
    ck_assert_int_eq(af_policy_compile(&pol, &err, "a =~ /(/", pool), AF_EPOLICY_REGEX);
    ck_assert_str_eq(af_strerror(AF_EPOLICY_SYNTAX), "policy_syntax_error");
    ck_assert_str_eq(af_strerror(AF_EPOLICY_DENIED), "policy_denied");

    memset(big, 't', AF_POLICY_MAX_LEN + 1);
    big[AF_POLICY_MAX_LEN + 1] = '\0';
    ck_assert_int_eq(af_policy_compile(&pol, &err, big, pool), AF_EPOLICY_LIMIT);
    ck_assert_str_eq(err, "column 1: expression too long (more than 4096 bytes)");
    big[AF_POLICY_MAX_LEN] = '\0';
    ck_assert_int_eq(af_policy_compile(&pol, &err, big, pool), APR_SUCCESS);
    free(big);

    /* AF_POLICY_MAX_DEPTH parentheses are fine, one more is not */
    for (i = 0; i < AF_POLICY_MAX_DEPTH; i++) {
        deep[i] = '(';
    }
    deep[i] = 't';
    for (i = 0; i < AF_POLICY_MAX_DEPTH; i++) {
        deep[AF_POLICY_MAX_DEPTH + 1 + i] = ')';
    }
    deep[2 * AF_POLICY_MAX_DEPTH + 1] = '\0';
    ck_assert_int_eq(af_policy_compile(&pol, &err, deep, pool), APR_SUCCESS);
    memmove(deep + 1, deep, strlen(deep) + 1);
    deep[0] = '!';
    ck_assert_int_eq(af_policy_compile(&pol, &err, deep, pool), AF_EPOLICY_LIMIT);
    ck_assert_str_eq(err, "column 65: expression nested too deeply");
}
END_TEST

/* Short-circuiting, observed through the number of calls to the injected clock. */
typedef struct {
    const char *expr;
    int expect;
    int clock_calls;
} sc_t;

static const sc_t shorts[] = {
    {"t or now() > 0", 1, 0},
    {"f or now() > 0", 1, 1},
    {"f and now() > 0", 0, 0},
    {"t and now() > 0", 1, 1},
    {"f && now() > 0 && now() > 0", 0, 0},
    {"t && now() > 0 && now() > 0", 1, 2},
    {"t || now() > 0 || now() > 0", 1, 0},
    {"f || now() < 0 || now() > 0", 1, 2},
    {"missing == now()", 0, 0},
    {"not t and now() > 0", 0, 0},
    {"(t or now() > 0) and (f and now() > 0)", 0, 0},
    {"age in [now(), 42, now()]", 1, 1},
    {"age in [42, now()]", 1, 0},
    {"now() - now() == 0", 1, 2},
};

START_TEST(test_policy_short_circuit)
{
    size_t i, n = sizeof(shorts) / sizeof(shorts[0]);

    for (i = 0; i < n; i++) {
        const char *err = NULL;
        int calls = 0;
        int got = run(shorts[i].expr, NULL, &err, &calls);
        ck_assert_msg(got == shorts[i].expect, "%s => %d (%s)", shorts[i].expr, got,
                      err ? err : "");
        ck_assert_msg(calls == shorts[i].clock_calls, "%s: now() called %d times, expected %d",
                      shorts[i].expr, calls, shorts[i].clock_calls);
    }
}
END_TEST

START_TEST(test_policy_no_clock_no_claims)
{
    af_policy_t *pol;
    af_policy_ctx_t ctx;
    const char *err;
    int allowed = 1;

    ck_assert_int_eq(af_policy_compile(&pol, &err, "now() > 0", pool), APR_SUCCESS);
    af_policy_ctx_init(&ctx, pool);
    ck_assert_int_eq(af_policy_eval(&allowed, pol, NULL, &ctx), APR_SUCCESS);
    ck_assert_int_eq(allowed, 0); /* no clock: now() has no value */
    ck_assert_int_eq(af_policy_compile(&pol, &err, "not exists(sub)", pool), APR_SUCCESS);
    ck_assert_int_eq(af_policy_eval(&allowed, pol, NULL, &ctx), APR_SUCCESS);
    ck_assert_int_eq(allowed, 1); /* NULL claims: nothing exists */
    ck_assert_str_eq(af_policy_source(pol), "not exists(sub)");
    ck_assert_int_eq(af_policy_nodes(pol), 2);
    ck_assert_uint_gt(ctx.steps, 0);
}
END_TEST

/* A catastrophic pattern hits the match limit: the request is denied even under `not`. */
START_TEST(test_policy_regex_match_limit)
{
    af_policy_t *pol;
    af_policy_ctx_t ctx;
    const char *err;
    json_t *j = load("{\"x\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"}");
    int allowed = 1;

    ck_assert_int_eq(af_policy_compile(&pol, &err, "not (x =~ /^(a|aa)+$/) or t", pool),
                     APR_SUCCESS);
    af_policy_ctx_init(&ctx, pool);
    ck_assert_int_eq(af_policy_eval(&allowed, pol, j, &ctx), AF_EPOLICY_MATCH_LIMIT);
    ck_assert_int_eq(allowed, 0);
    /* the same context stays usable */
    ck_assert_int_eq(af_policy_compile(&pol, &err, "x =~ /b$/", pool), APR_SUCCESS);
    ck_assert_int_eq(af_policy_eval(&allowed, pol, j, &ctx), APR_SUCCESS);
    ck_assert_int_eq(allowed, 1);
    json_decref(j);
}
END_TEST

static int claim_check(const char *path, const char *const *values, int n, const char *claims)
{
    af_policy_t *pol;
    af_policy_ctx_t ctx;
    const char *err;
    json_t *j = load(claims);
    int allowed = -1;

    ck_assert_int_eq(af_policy_compile_claim(&pol, &err, path, values, n, pool), APR_SUCCESS);
    af_policy_ctx_init(&ctx, pool);
    ck_assert_int_eq(af_policy_eval(&allowed, pol, j, &ctx), APR_SUCCESS);
    json_decref(j);
    return allowed;
}

START_TEST(test_policy_claim_shorthand)
{
    static const char *const ops[] = {"ops"};
    static const char *const two[] = {"root", "admin"};
    static const char *const tru[] = {"true"};
    static const char *const num[] = {"42"};
    static const char *const email[] = {"alice@corp.example"};
    af_policy_t *pol;
    const char *err;

    ck_assert_int_eq(claim_check("groups", ops, 1, NULL), 1);
    ck_assert_int_eq(claim_check("groups", two, 2, NULL), 0);
    ck_assert_int_eq(claim_check("realm_access.roles", two, 2, NULL), 1);
    ck_assert_int_eq(claim_check("email", email, 1, NULL), 1);
    ck_assert_int_eq(claim_check("email", ops, 1, NULL), 0);
    ck_assert_int_eq(claim_check("email_verified", tru, 1, NULL), 1);
    ck_assert_int_eq(claim_check("f", tru, 1, NULL), 0);
    ck_assert_int_eq(claim_check("age", num, 1, NULL), 1);
    ck_assert_int_eq(claim_check("five_s", num, 1, NULL), 0);
    ck_assert_int_eq(claim_check("missing", ops, 1, NULL), 0);
    ck_assert_int_eq(claim_check("realm_access", ops, 1, NULL), 0);
    ck_assert_int_eq(claim_check("groups[0]", ops, 1, NULL), 1);

    ck_assert_int_eq(af_policy_compile_claim(&pol, &err, "groups", ops, 0, pool),
                     AF_EPOLICY_SYNTAX);
    ck_assert_str_eq(err, "expected at least one value after the claim path");
    ck_assert_int_eq(af_policy_compile_claim(&pol, &err, "groups.", ops, 1, pool),
                     AF_EPOLICY_SYNTAX);
    ck_assert_str_eq(err, "column 8: expected a name after '.'");
    ck_assert_int_eq(af_policy_compile_claim(&pol, &err, "a b", ops, 1, pool), AF_EPOLICY_SYNTAX);
    ck_assert_str_eq(err, "column 3: unexpected 'b' after the claim path");
    ck_assert_int_eq(af_policy_compile_claim(&pol, &err, "'a'", ops, 1, pool), AF_EPOLICY_SYNTAX);
    ck_assert_str_eq(err, "column 1: expected a claim path");
}
END_TEST

START_TEST(test_policy_path_and_text)
{
    af_policy_path_t *path;
    const char *err;
    json_t *j = load(NULL);

    ck_assert_int_eq(af_policy_path_compile(&path, &err, "realm_access.roles", pool), APR_SUCCESS);
    ck_assert_str_eq(af_policy_claim_text(af_policy_path_get(path, j), ",", pool), "admin,user");
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "groups[1]", pool), APR_SUCCESS);
    ck_assert_str_eq(af_policy_claim_text(af_policy_path_get(path, j), ",", pool), "dev");
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "missing", pool), APR_SUCCESS);
    ck_assert_ptr_null(af_policy_path_get(path, j));
    ck_assert_ptr_null(af_policy_path_get(path, NULL));
    ck_assert_int_eq(af_policy_path_compile(&path, &err, "a..b", pool), AF_EPOLICY_SYNTAX);
    ck_assert_str_eq(err, "column 3: expected a name after '.'");

    ck_assert_str_eq(af_policy_claim_text(json_object_get(j, "age"), ",", pool), "42");
    ck_assert_str_eq(af_policy_claim_text(json_object_get(j, "score"), ",", pool), "3.5");
    ck_assert_str_eq(af_policy_claim_text(json_object_get(j, "t"), ",", pool), "true");
    ck_assert_ptr_null(af_policy_claim_text(json_object_get(j, "nul"), ",", pool));
    ck_assert_str_eq(af_policy_claim_text(json_object_get(j, "empty_arr"), ",", pool), "");
    ck_assert_str_eq(af_policy_claim_text(json_object_get(j, "groups"), " ", pool),
                     "ops dev admins");
    /* a nested or null member: the whole array as JSON (never an ambiguous join) */
    ck_assert_str_eq(af_policy_claim_text(json_object_get(j, "mixed"), ",", pool),
                     "[1,\"1\",true,null,2.5,[\"x\"],{\"k\":1}]");
    ck_assert_str_eq(af_policy_claim_text(json_object_get(j, "realm_access"), ",", pool),
                     "{\"roles\":[\"admin\",\"user\"],\"level\":3}");
    ck_assert_ptr_null(af_policy_claim_text(NULL, ",", pool));
    /* the one renderer of env, headers and authflow_claim(): control characters refuse the
     * value whole, a member containing the separator makes it JSON */
    {
        json_t *x = json_pack("{s:s, s:[s,s], s:[s,s]}", "crlf", "a\r\nX-Admin: 1", "sepin", "a,b",
                              "c", "ok", "tab", "x\ty", "z");

        ck_assert_ptr_null(af_policy_claim_text(json_object_get(x, "crlf"), ",", pool));
        ck_assert_str_eq(af_policy_claim_text(json_object_get(x, "sepin"), ",", pool),
                         "[\"a,b\",\"c\"]");
        ck_assert_str_eq(af_policy_claim_text(json_object_get(x, "sepin"), ";", pool), "a,b;c");
        ck_assert_ptr_null(af_policy_claim_text(json_object_get(x, "tab"), ",", pool));
        json_decref(x);
    }
    json_decref(j);
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_policy_table);
    tcase_add_test(tc, test_policy_syntax_errors);
    tcase_add_test(tc, test_policy_error_codes);
    tcase_add_test(tc, test_policy_short_circuit);
    tcase_add_test(tc, test_policy_no_clock_no_claims);
    tcase_add_test(tc, test_policy_regex_match_limit);
    tcase_add_test(tc, test_policy_claim_shorthand);
    tcase_add_test(tc, test_policy_path_and_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    sr = srunner_create(policy_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed == 0 ? 0 : 1;
}
