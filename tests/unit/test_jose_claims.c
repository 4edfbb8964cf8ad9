/* test_jose_claims.c -- SECURITY.md group B (JWT claims) at the JOSE layer, with the
 * injected clock of af_jwt_policy_t. */
#include "jose_testutil.h"
#include "af_testutil.h"

/* ---- group B ------------------------------------------------------------------------------ */

static apr_status_t with_times(apr_pool_t *p, af_key_t *k, const char *times,
                               const af_jwt_policy_t *pol)
{
    return jwt(p, sign_hdr(p, k, "{\"alg\":\"HS256\"}", claims_t(p, times)), ks_of(p, k, NULL),
               pol);
}

START_TEST(test_B01_exp_missing)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_jwt_policy_t pol = policy();

    ck_assert_int_eq(with_times(p, k, "", &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"iat\":%ld", NOW), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%ld", NOW + 100), &pol),
                     APR_SUCCESS);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B02_time_boundaries)
{
    static const char *const bad_types[] = {
        "\"1900000000\"",   "true",  "false",        "null", "-1",
        "9007199254740994", "1e300", "[1900000000]", "{}",   "-0.5"};
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_jwt_policy_t pol = policy();
    size_t i;

#define EXP(v)     apr_psprintf(p, ",\"exp\":%ld", (long) (v))
#define EXP_NBF(v) apr_psprintf(p, ",\"exp\":%ld,\"nbf\":%ld", NOW + 600, (long) (v))
    ck_assert_int_eq(with_times(p, k, EXP(NOW - LEEWAY - 1), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, EXP(NOW - LEEWAY), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, EXP(NOW - LEEWAY + 1), &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, EXP_NBF(NOW + LEEWAY + 1), &pol), AF_EJWT_NBF);
    ck_assert_int_eq(with_times(p, k, EXP_NBF(NOW + LEEWAY), &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, EXP_NBF(NOW + LEEWAY - 1), &pol), APR_SUCCESS);
    /* leeway 0 */
    pol.leeway = 0;
    ck_assert_int_eq(with_times(p, k, EXP(NOW), &pol), AF_EJWT_EXP);
    ck_assert_int_eq(with_times(p, k, EXP(NOW + 1), &pol), APR_SUCCESS);
    pol = policy();
    /* fractional NumericDate */
    pol.now = 1900000000;
    ck_assert_int_eq(with_times(p, k, ",\"exp\":1900000000.5", &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, ",\"exp\":1.9e9,\"nbf\":1899999999.25", &pol), APR_SUCCESS);
    pol.leeway = 0;
    ck_assert_int_eq(with_times(p, k, ",\"exp\":1899999999.5", &pol), AF_EJWT_EXP);
    pol = policy();
    for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%s", bad_types[i]), &pol),
                         AF_EJWT_EXP);
        ck_assert_int_eq(
            with_times(p, k, apr_psprintf(p, ",\"exp\":%ld,\"nbf\":%s", NOW + 60, bad_types[i]),
                       &pol),
            AF_EJWT_NBF);
    }
#undef EXP
#undef EXP_NBF
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B03_iat_and_lifetime)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_jwt_policy_t pol = policy();

#define T(iat, exp) apr_psprintf(p, ",\"iat\":%ld,\"exp\":%ld", (long) (iat), (long) (exp))
    ck_assert_int_eq(with_times(p, k, T(NOW + LEEWAY + 1, NOW + 600), &pol), AF_EJWT_IAT);
    ck_assert_int_eq(with_times(p, k, T(NOW + LEEWAY, NOW + 600), &pol), APR_SUCCESS);
    ck_assert_int_eq(with_times(p, k, ",\"iat\":\"now\",\"exp\":1800000000", &pol), AF_EJWT_IAT);
    ck_assert_int_eq(with_times(p, k, ",\"iat\":-5,\"exp\":1800000000", &pol), AF_EJWT_IAT);
    pol.require_iat = 1;
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%ld", NOW + 60), &pol),
                     AF_EJWT_IAT);
    pol.require_iat = 0;
    pol.max_lifetime = 600;
    ck_assert_int_eq(with_times(p, k, T(NOW - 10, NOW - 10 + 601), &pol), AF_EJWT_LIFETIME);
    ck_assert_int_eq(with_times(p, k, T(NOW - 10, NOW - 10 + 600), &pol), APR_SUCCESS);
    /* without iat the remaining lifetime is what counts */
    ck_assert_int_eq(with_times(p, k, apr_psprintf(p, ",\"exp\":%ld", NOW + 10000), &pol),
                     AF_EJWT_LIFETIME);
#undef T
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B05_audience)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    af_jwt_policy_t pol = policy();
    const char *base = apr_psprintf(p, "{\"iss\":\"" ISS "\",\"sub\":\"a\",\"exp\":%ld", NOW + 600);
#define AUDT(x) sign_hdr(p, k, "{\"alg\":\"HS256\"}", apr_pstrcat(p, base, x, "}", NULL))
    ck_assert_int_eq(jwt(p, AUDT(""), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"https://other.example\""), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"https://app.example/\""), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[\"a\",\"b\"]"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[]"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":null"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[1,\"" AUD "\"]"), ks, &pol), AF_EJWT_AUD);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"" AUD "\""), ks, &pol), APR_SUCCESS);
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":[\"x\",\"" AUD "\"]"), ks, &pol), APR_SUCCESS);
    /* minted for location A, replayed at B with the same signing key */
    pol.aud = "https://app.example/b";
    ck_assert_int_eq(jwt(p, AUDT(",\"aud\":\"https://app.example/a\""), ks, &pol), AF_EJWT_AUD);
    /* iss is exact too */
    pol = policy();
    ck_assert_int_eq(
        jwt(p,
            sign_hdr(p, k, "{\"alg\":\"HS256\"}",
                     apr_psprintf(p, "{\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\",\"exp\":%ld}",
                                  NOW + 60)),
            ks, &pol),
        AF_EJWT_ISS);
#undef AUDT
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B06_subject)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    af_jwt_policy_t pol = policy();
    const char *base =
        apr_psprintf(p, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%ld", NOW + 600);
    char s255[256], s256[257], u255[255 * 3 + 1];
    int i;
#define SUBT(x) sign_hdr(p, k, "{\"alg\":\"HS256\"}", apr_pstrcat(p, base, x, "}", NULL))

    memset(s255, 'a', 255);
    s255[255] = '\0';
    memset(s256, 'a', 256);
    s256[256] = '\0';
    for (i = 0; i < 255; i++) {
        memcpy(u255 + 3 * i, "\xe4\xb8\x80", 3); /* U+4E00: 255 characters, 765 bytes */
    }
    u255[765] = '\0';
    pol.require_sub = 1;
    ck_assert_int_eq(jwt(p, SUBT(""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":42"), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":[\"a\"]"), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(apr_psprintf(p, ",\"sub\":\"%s\"", s256)), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\r\\nX-Remote-User: admin\""), ks, &pol),
                     AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\nb\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\u007fb\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\u0085b\""), ks, &pol), AF_EJWT_SUB);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"admin\\u0000x\""), ks, &pol), AF_EJSON);
    ck_assert_int_eq(jwt(p, SUBT(apr_psprintf(p, ",\"sub\":\"%s\"", s255)), ks, &pol), APR_SUCCESS);
    ck_assert_int_eq(jwt(p, SUBT(apr_psprintf(p, ",\"sub\":\"%s\"", u255)), ks, &pol), APR_SUCCESS);
    /* a malformed sub is refused even when sub is not required */
    pol.require_sub = 0;
    ck_assert_int_eq(jwt(p, SUBT(""), ks, &pol), APR_SUCCESS);
    ck_assert_int_eq(jwt(p, SUBT(",\"sub\":\"a\\rb\""), ks, &pol), AF_EJWT_SUB);
#undef SUBT
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_B07_jti_missing)
{
    apr_pool_t *p = af_test_pool();
    af_key_t *k = gen(p, AF_ALG_HS256, "h");
    af_keyset_t *ks = ks_of(p, k, NULL);
    af_jwt_policy_t pol = policy();
    const char *base =
        apr_psprintf(p, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%ld", NOW + 600);
#define JTIT(x) sign_hdr(p, k, "{\"alg\":\"HS256\"}", apr_pstrcat(p, base, x, "}", NULL))
    pol.require_jti = 1;
    ck_assert_int_eq(jwt(p, JTIT(""), ks, &pol), AF_EJWT_JTI);
    ck_assert_int_eq(jwt(p, JTIT(",\"jti\":\"\""), ks, &pol), AF_EJWT_JTI);
    ck_assert_int_eq(jwt(p, JTIT(",\"jti\":7"), ks, &pol), AF_EJWT_JTI);
    ck_assert_int_eq(jwt(p, JTIT(",\"jti\":\"abc\""), ks, &pol), APR_SUCCESS);
#undef JTIT
    apr_pool_destroy(p);
}
END_TEST

START_TEST(test_typ_matches)
{
    ck_assert(af_jwt_typ_matches("at+jwt", "at+jwt"));
    ck_assert(af_jwt_typ_matches("application/AT+JWT", "at+jwt"));
    ck_assert(af_jwt_typ_matches("AT+JWT", "application/at+jwt"));
    ck_assert(!af_jwt_typ_matches("JWT", "at+jwt"));
    ck_assert(!af_jwt_typ_matches(NULL, "at+jwt"));
    ck_assert(!af_jwt_typ_matches("application/", "at+jwt"));
    ck_assert(!af_jwt_typ_matches("text/at+jwt", "at+jwt"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("test_jose_claims");
    TCase *tc = tcase_create("test_jose_claims");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_B01_exp_missing);
    tcase_add_test(tc, test_B02_time_boundaries);
    tcase_add_test(tc, test_B03_iat_and_lifetime);
    tcase_add_test(tc, test_B05_audience);
    tcase_add_test(tc, test_B06_subject);
    tcase_add_test(tc, test_B07_jti_missing);
    tcase_add_test(tc, test_typ_matches);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
