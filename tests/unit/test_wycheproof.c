/* test_wycheproof.c -- every file of $AF_VECTORS_DIR/wycheproof/ through the production
 * path (SECURITY.md W01-W07, harness rules in tests/vectors/wycheproof/SOURCE.md).
 *
 * Per file it prints: valid accepted/rejected, invalid accepted/rejected, acceptable
 * accepted/rejected, vectors whose key the key policy refused (as the rules expect),
 * skipped vectors and mismatches.  Any mismatch fails the test.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/ecdsa.h>

#include "af_testutil.h"
#include "common/af_b64.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jws.h"

typedef struct {
    const char *file;
    int v_acc, v_rej, i_acc, i_rej, a_acc, a_rej, policy, skipped, mismatches;
} wp_stats_t;

static json_t *load_vectors(const char *name)
{
    char path[1024];
    json_error_t err;
    json_t *j;

    snprintf(path, sizeof(path), "%s/wycheproof/%s", af_test_vectors_dir(), name);
    j = json_load_file(path, 0, &err);
    ck_assert_msg(j != NULL, "cannot load %s: %s", path, err.text);
    return j;
}

static void record(wp_stats_t *st, const char *result, int accepted, json_int_t tcid)
{
    if (strcmp(result, "valid") == 0) {
        if (accepted) {
            st->v_acc++;
        } else {
            st->v_rej++;
            st->mismatches++;
            fprintf(stderr, "  MISMATCH %s tc%lld: valid rejected\n", st->file, (long long) tcid);
        }
    } else if (strcmp(result, "invalid") == 0) {
        if (accepted) {
            st->i_acc++;
            st->mismatches++;
            fprintf(stderr, "  MISMATCH %s tc%lld: invalid accepted\n", st->file, (long long) tcid);
        } else {
            st->i_rej++;
        }
    } else {
        if (accepted) {
            st->a_acc++;
        } else {
            st->a_rej++;
        }
        fprintf(stderr, "  acceptable %s tc%lld: %s\n", st->file, (long long) tcid,
                accepted ? "accepted" : "rejected");
    }
}

static void print_stats(const wp_stats_t *st)
{
    printf("wycheproof %-42s valid %3d/%-3d invalid-rejected %3d/%-3d acceptable acc/rej %d/%d "
           "key-policy %3d skipped %3d mismatches %d\n",
           st->file, st->v_acc, st->v_acc + st->v_rej, st->i_rej, st->i_rej + st->i_acc, st->a_acc,
           st->a_rej, st->policy, st->skipped, st->mismatches);
    fflush(stdout);
}

static const char *tstr(const json_t *t, const char *name)
{
    const char *s = json_string_value(json_object_get(t, name));
    ck_assert_msg(s != NULL, "member %s missing", name);
    return s;
}

static unsigned char *hex(apr_size_t *len, const json_t *t, const char *name, apr_pool_t *p)
{
    unsigned char *out;

    ck_assert_int_eq(af_test_hex_decode(&out, len, tstr(t, name), p), APR_SUCCESS);
    return out;
}

static af_alg_t alg_for(const char *sha, const char *family)
{
    char name[8];
    const char *bits = strcmp(sha, "SHA-256") == 0   ? "256"
                       : strcmp(sha, "SHA-384") == 0 ? "384"
                       : strcmp(sha, "SHA-512") == 0 ? "512"
                                                     : NULL;

    if (bits == NULL) {
        return AF_ALG_UNKNOWN;
    }
    snprintf(name, sizeof(name), "%s%s", family, bits);
    return af_alg_from_name(name);
}

/* A group's JWK through the production JWK loader, with the file's algorithm pinned. */
static apr_status_t group_key(af_key_t **key, const char **why, const json_t *jwk, af_alg_t alg,
                              apr_pool_t *p)
{
    json_t *copy = json_deep_copy(jwk);
    apr_status_t rv;

    if (alg != AF_ALG_UNKNOWN && json_object_get(copy, "alg") == NULL) {
        json_object_set_new(copy, "alg", json_string(af_alg_name(alg)));
    }
    rv = af_jwk_parse(key, copy, AF_JWK_PUBLIC_ONLY, why, p);
    json_decref(copy);
    return rv;
}

/* ---- signature files (P1363 ECDSA, RSA PKCS#1, RSA-PSS, EdDSA) -------------------------- */

static wp_stats_t run_sig_file(const char *name, const char *family, int der_corpus)
{
    wp_stats_t st = {name, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    json_t *doc = load_vectors(name), *groups = json_object_get(doc, "testGroups"), *g;
    size_t gi, ti;

    json_array_foreach(groups, gi, g)
    {
        apr_pool_t *p = af_test_pool();
        const json_t *jwk = json_object_get(g, "publicKeyJwk");
        const char *sha = json_string_value(json_object_get(g, "sha"));
        af_alg_t alg = AF_ALG_EDDSA;
        af_key_t *key = NULL;
        const char *why = NULL;
        apr_status_t krv;
        json_t *t, *tests = json_object_get(g, "tests");

        if (jwk == NULL) {
            jwk = json_object_get(g, "keyJwk");
        }
        if (strcmp(family, "EdDSA") != 0) {
            alg = alg_for(sha, family);
            ck_assert_int_ne(alg, AF_ALG_UNKNOWN);
        }
        if (strcmp(family, "PS") == 0) {
            /* salt length pinned to the hash length, MGF1 with the same hash */
            ck_assert_str_eq(json_string_value(json_object_get(g, "mgfSha")), sha);
            if (json_integer_value(json_object_get(g, "sLen")) !=
                (json_int_t) (strcmp(sha, "SHA-256") == 0   ? 32
                              : strcmp(sha, "SHA-384") == 0 ? 48
                                                            : 64)) {
                st.skipped += (int) json_array_size(tests);
                apr_pool_destroy(p);
                continue;
            }
        }
        if (jwk != NULL) {
            krv = group_key(&key, &why, jwk, alg, p);
        } else {
            const char *pem = json_string_value(json_object_get(g, "publicKeyPem"));
            ck_assert_ptr_nonnull(pem);
            krv = af_key_load_pem(&key, pem, strlen(pem), alg, NULL, &why, p);
        }
        if (krv != APR_SUCCESS) {
            /* refused by the key policy: RSA e=3 (rule 4), Ed448 (not enabled) */
            int policy = (why != NULL && (strcmp(why, "rsa_exponent_weak") == 0 ||
                                          strcmp(why, "ed448_not_enabled") == 0));
            if (!policy) {
                fprintf(stderr, "  %s: group key refused (%s)\n", name, why ? why : "?");
            }
            json_array_foreach(tests, ti, t)
            {
                if (policy) {
                    st.policy++;
                } else {
                    record(&st, tstr(t, "result"), 0,
                           json_integer_value(json_object_get(t, "tcId")));
                }
            }
            apr_pool_destroy(p);
            continue;
        }
        ck_assert_int_eq(key->alg, alg);
        json_array_foreach(tests, ti, t)
        {
            apr_size_t ml, sl;
            unsigned char *msg = hex(&ml, t, "msg", p), *sig = hex(&sl, t, "sig", p);
            apr_status_t rv = af_jws_verify_raw(key, msg, ml, sig, sl);
            json_int_t tc = json_integer_value(json_object_get(t, "tcId"));

            if (der_corpus) {
                /* DER signatures fed unchanged to the ES256 verifier: every one rejected */
                if (rv == APR_SUCCESS) {
                    st.mismatches++;
                    fprintf(stderr, "  MISMATCH %s tc%lld: DER signature accepted\n", name,
                            (long long) tc);
                } else if (strcmp(tstr(t, "result"), "valid") == 0) {
                    st.v_rej++;
                } else {
                    st.i_rej++;
                }
                continue;
            }
            record(&st, tstr(t, "result"), rv == APR_SUCCESS, tc);
        }
        apr_pool_destroy(p);
    }
    json_decref(doc);
    if (der_corpus) {
        printf("wycheproof %-42s DER signatures fed unchanged to ES256: rejected %d/%d "
               "(valid %d + invalid %d), accepted %d\n",
               name, st.v_rej + st.i_rej, st.v_rej + st.i_rej + st.mismatches, st.v_rej, st.i_rej,
               st.mismatches);
    }
    print_stats(&st);
    return st;
}

/* ---- HMAC -------------------------------------------------------------------------------- */

static wp_stats_t run_hmac_file(const char *name, af_alg_t alg, int hash_bits)
{
    wp_stats_t st = {name, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    json_t *doc = load_vectors(name), *groups = json_object_get(doc, "testGroups"), *g;
    size_t gi, ti;
    int truncated_rejected = 0, truncated_total = 0;

    json_array_foreach(groups, gi, g)
    {
        apr_pool_t *p = af_test_pool();
        int key_bits = (int) json_integer_value(json_object_get(g, "keySize"));
        int tag_bits = (int) json_integer_value(json_object_get(g, "tagSize"));
        json_t *t, *tests = json_object_get(g, "tests");

        json_array_foreach(tests, ti, t)
        {
            apr_size_t kl, ml, tl;
            unsigned char *k = hex(&kl, t, "key", p), *m = hex(&ml, t, "msg", p),
                          *tag = hex(&tl, t, "tag", p);
            const char *why = NULL;
            af_key_t *key = NULL;
            apr_status_t krv = af_key_from_secret(&key, k, kl, alg, NULL, &why, p);
            apr_status_t rv;

            if (key_bits < hash_bits) {
                /* below RFC 7518 §3.2: refused by the key policy (C01) */
                ck_assert_int_eq(krv, AF_EKEY_WEAK);
                st.policy++;
                continue;
            }
            ck_assert_int_eq(krv, APR_SUCCESS);
            rv = af_jws_verify_raw(key, m, ml, tag, tl);
            if (tag_bits != hash_bits) {
                /* truncated tags: the JWS layer rejects every one, valid or not */
                truncated_total++;
                if (rv != APR_SUCCESS) {
                    truncated_rejected++;
                    st.skipped++;
                } else {
                    st.mismatches++;
                    fprintf(stderr, "  MISMATCH %s: truncated tag accepted\n", name);
                }
                continue;
            }
            record(&st, tstr(t, "result"), rv == APR_SUCCESS,
                   json_integer_value(json_object_get(t, "tcId")));
        }
        apr_pool_destroy(p);
    }
    printf("wycheproof %-42s truncated-tag vectors rejected at the JWS layer: %d/%d "
           "(counted as skipped)\n",
           name, truncated_rejected, truncated_total);
    json_decref(doc);
    print_stats(&st);
    return st;
}

/* ---- json_web_key_test.json: key-set loader, then verification ------------------------- */

static wp_stats_t run_jwk_file(void)
{
    const char *name = "json_web_key_test.json";
    wp_stats_t st = {name, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    json_t *doc = load_vectors(name), *groups = json_object_get(doc, "testGroups"), *g;
    size_t gi, ti;

    json_array_foreach(groups, gi, g)
    {
        apr_pool_t *p = af_test_pool();
        const json_t *pub = json_object_get(g, "public");
        const json_t *set = pub != NULL ? pub : json_object_get(g, "private");
        int flags = pub != NULL ? AF_JWK_PUBLIC_ONLY : AF_JWK_ALLOW_OCT;
        char *text = json_dumps(set, JSON_COMPACT);
        apr_array_header_t *skipped = apr_array_make(p, 2, sizeof(const char *));
        af_keyset_t *ks = NULL;
        apr_status_t srv = af_jwks_parse(&ks, text, strlen(text), flags, skipped, p);
        json_t *t, *tests = json_object_get(g, "tests");

        free(text);
        json_array_foreach(tests, ti, t)
        {
            const char *jws_s = tstr(t, "jws");
            af_jws_t *jws;
            apr_status_t rv = srv;

            if (rv == APR_SUCCESS) {
                rv = af_jws_parse(&jws, jws_s, strlen(jws_s), 0, p);
            }
            if (rv == APR_SUCCESS) {
                rv = af_jws_verify_keyset(NULL, jws, ks);
            }
            record(&st, tstr(t, "result"), rv == APR_SUCCESS,
                   json_integer_value(json_object_get(t, "tcId")));
        }
        apr_pool_destroy(p);
    }
    json_decref(doc);
    print_stats(&st);
    return st;
}

/* ---- json_web_signature_test.json: the JWS layer with the group's key pinned ----------- */

static wp_stats_t run_jws_file(void)
{
    const char *name = "json_web_signature_test.json";
    wp_stats_t st = {name, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    json_t *doc = load_vectors(name), *groups = json_object_get(doc, "testGroups"), *g;
    size_t gi, ti;
    int empty_payload = 0;

    json_array_foreach(groups, gi, g)
    {
        apr_pool_t *p = af_test_pool();
        const json_t *pub = json_object_get(g, "public");
        json_t *jwk = json_deep_copy(pub != NULL ? pub : json_object_get(g, "private"));
        int flags = pub != NULL ? AF_JWK_PUBLIC_ONLY : AF_JWK_ALLOW_OCT;
        json_t *t, *tests = json_object_get(g, "tests");
        af_key_t *key = NULL;
        const char *why = NULL;
        apr_status_t krv;

        /* SOURCE.md rule 6: RFC 7520 groups carry a wrong key alg for tc346/350, 347/351 */
        json_array_foreach(tests, ti, t)
        {
            json_int_t tc = json_integer_value(json_object_get(t, "tcId"));
            if (tc == 346 || tc == 350) {
                json_object_set_new(jwk, "alg", json_string("PS384"));
            }
            if (tc == 347 || tc == 351) {
                json_object_set_new(jwk, "alg", json_string("ES512"));
            }
        }
        krv = af_jwk_parse(&key, jwk, flags, &why, p);
        json_decref(jwk);
        json_array_foreach(tests, ti, t)
        {
            json_int_t tc = json_integer_value(json_object_get(t, "tcId"));
            const char *result = tstr(t, "result");
            const char *jws_s = tstr(t, "jws");
            af_jws_t *jws;
            apr_status_t rv = krv;

            /* SOURCE.md rule 5 */
            if (tc == 367 || tc == 370) {
                st.skipped++;
                continue;
            }
            if (tc == 372 || tc == 373) {
                result = "invalid";
            }
            if (rv == APR_SUCCESS) {
                /* an empty payload is a valid JWS (RFC 7515); only the JWT path refuses it */
                rv = af_jws_parse_ex(&jws, jws_s, strlen(jws_s), 0, AF_JWS_ALLOW_EMPTY_PAYLOAD, p);
                if (rv == APR_SUCCESS && jws->payload_len == 0) {
                    empty_payload++;
                    ck_assert_int_eq(af_jws_parse(&jws, jws_s, strlen(jws_s), 0, p),
                                     AF_EJWS_FORMAT);
                    ck_assert_int_eq(af_jws_parse_ex(&jws, jws_s, strlen(jws_s), 0,
                                                     AF_JWS_ALLOW_EMPTY_PAYLOAD, p),
                                     APR_SUCCESS);
                }
            }
            if (rv == APR_SUCCESS) {
                rv = af_jws_verify(jws, key);
            }
            if (rv != APR_SUCCESS && strcmp(result, "valid") == 0) {
                fprintf(stderr, "  tc%lld: %s (key: %s)\n", (long long) tc, af_strerror(rv),
                        why ? why : "ok");
            }
            record(&st, result, rv == APR_SUCCESS, tc);
        }
        apr_pool_destroy(p);
    }
    json_decref(doc);
    printf("wycheproof %-42s %d vectors with an empty payload: JWS layer only "
           "(af_jws_parse, the JWT path, refuses them)\n",
           name, empty_payload);
    print_stats(&st);
    return st;
}

/* ---- the check functions, one per SECURITY.md row ---------------------------------------- */

START_TEST(test_W01_json_web_signature)
{
    wp_stats_t st = run_jws_file();

    ck_assert_int_eq(st.mismatches, 0);
    ck_assert_int_eq(st.skipped, 2);
    ck_assert_int_gt(st.v_acc, 40);
    ck_assert_int_gt(st.i_rej, 300);
}
END_TEST

START_TEST(test_W02_json_web_key)
{
    wp_stats_t st = run_jwk_file();

    ck_assert_int_eq(st.mismatches, 0);
    ck_assert_int_eq(st.v_acc, 5);
    ck_assert_int_eq(st.i_rej, 21);
}
END_TEST

START_TEST(test_W03_ecdsa_p1363_and_der)
{
    static const char *const files[] = {"ecdsa_secp256r1_sha256_p1363_test.json",
                                        "ecdsa_secp384r1_sha384_p1363_test.json",
                                        "ecdsa_secp521r1_sha512_p1363_test.json"};
    wp_stats_t st;
    int i;

    for (i = 0; i < 3; i++) {
        st = run_sig_file(files[i], "ES", 0);
        ck_assert_int_eq(st.mismatches, 0);
        ck_assert_int_gt(st.v_acc, 100);
    }
    st = run_sig_file("ecdsa_secp256r1_sha256_test.json", "ES", 1);
    ck_assert_int_eq(st.mismatches, 0);
    ck_assert_int_eq(st.v_rej + st.i_rej, 484); /* 100% rejected */
}
END_TEST

START_TEST(test_W04_rsa_pkcs1)
{
    static const char *const files[] = {
        "rsa_signature_2048_sha256_test.json", "rsa_signature_2048_sha384_test.json",
        "rsa_signature_2048_sha512_test.json", "rsa_signature_3072_sha256_test.json",
        "rsa_signature_4096_sha256_test.json"};
    int i;

    for (i = 0; i < 5; i++) {
        wp_stats_t st = run_sig_file(files[i], "RS", 0);
        ck_assert_int_eq(st.mismatches, 0);
        ck_assert_int_gt(st.v_acc, 0);
        ck_assert_int_gt(st.i_rej, 200);
    }
}
END_TEST

START_TEST(test_W05_rsa_pss)
{
    static const char *const files[] = {
        "rsa_pss_2048_sha256_mgf1_32_test.json", "rsa_pss_2048_sha384_mgf1_48_test.json",
        "rsa_pss_3072_sha256_mgf1_32_test.json", "rsa_pss_4096_sha256_mgf1_32_test.json",
        "rsa_pss_4096_sha384_mgf1_48_test.json", "rsa_pss_4096_sha512_mgf1_64_test.json"};
    int i;

    for (i = 0; i < 6; i++) {
        wp_stats_t st = run_sig_file(files[i], "PS", 0);
        ck_assert_int_eq(st.mismatches, 0);
        ck_assert_int_gt(st.v_acc, 50);
        ck_assert_int_gt(st.i_rej, 40);
    }
}
END_TEST

START_TEST(test_W06_hmac)
{
    wp_stats_t a = run_hmac_file("hmac_sha256_test.json", AF_ALG_HS256, 256);
    wp_stats_t b = run_hmac_file("hmac_sha384_test.json", AF_ALG_HS384, 384);
    wp_stats_t c = run_hmac_file("hmac_sha512_test.json", AF_ALG_HS512, 512);

    ck_assert_int_eq(a.mismatches + b.mismatches + c.mismatches, 0);
    ck_assert_int_eq(a.policy, 6);
    ck_assert_int_gt(a.v_acc, 0);
    ck_assert_int_gt(c.i_rej, 0);
}
END_TEST

START_TEST(test_W07_eddsa)
{
    wp_stats_t a = run_sig_file("ed25519_test.json", "EdDSA", 0);
    wp_stats_t b = run_sig_file("ed448_test.json", "EdDSA", 0);

    ck_assert_int_eq(a.mismatches, 0);
    ck_assert_int_gt(a.v_acc, 80);
    /* Ed448 is not enabled: every group key is refused at load */
    ck_assert_int_eq(b.policy, 87);
    ck_assert_int_eq(b.v_acc + b.i_acc + b.mismatches, 0);
}
END_TEST

START_TEST(test_every_vector_file_is_covered)
{
    static const char *const known[] = {"ecdsa_secp256r1_sha256_p1363_test.json",
                                        "ecdsa_secp384r1_sha384_p1363_test.json",
                                        "ecdsa_secp521r1_sha512_p1363_test.json",
                                        "ecdsa_secp256r1_sha256_test.json",
                                        "rsa_signature_2048_sha256_test.json",
                                        "rsa_signature_2048_sha384_test.json",
                                        "rsa_signature_2048_sha512_test.json",
                                        "rsa_signature_3072_sha256_test.json",
                                        "rsa_signature_4096_sha256_test.json",
                                        "rsa_pss_2048_sha256_mgf1_32_test.json",
                                        "rsa_pss_2048_sha384_mgf1_48_test.json",
                                        "rsa_pss_3072_sha256_mgf1_32_test.json",
                                        "rsa_pss_4096_sha256_mgf1_32_test.json",
                                        "rsa_pss_4096_sha384_mgf1_48_test.json",
                                        "rsa_pss_4096_sha512_mgf1_64_test.json",
                                        "hmac_sha256_test.json",
                                        "hmac_sha384_test.json",
                                        "hmac_sha512_test.json",
                                        "json_web_key_test.json",
                                        "json_web_signature_test.json",
                                        "ed25519_test.json",
                                        "ed448_test.json"};
    char path[1024];
    DIR *d;
    struct dirent *e;
    int files = 0;

    snprintf(path, sizeof(path), "%s/wycheproof", af_test_vectors_dir());
    d = opendir(path);
    ck_assert_msg(d != NULL, "no vector directory %s", path);
    while ((e = readdir(d)) != NULL) {
        size_t i, n = strlen(e->d_name);
        int found = 0;

        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0) {
            continue;
        }
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            found |= strcmp(known[i], e->d_name) == 0;
        }
        ck_assert_msg(found, "vector file %s is not run by this harness", e->d_name);
        files++;
    }
    closedir(d);
    ck_assert_int_eq(files, (int) (sizeof(known) / sizeof(known[0])));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("wycheproof");
    TCase *tc = tcase_create("wycheproof");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_every_vector_file_is_covered);
    tcase_add_test(tc, test_W01_json_web_signature);
    tcase_add_test(tc, test_W02_json_web_key);
    tcase_add_test(tc, test_W03_ecdsa_p1363_and_der);
    tcase_add_test(tc, test_W04_rsa_pkcs1);
    tcase_add_test(tc, test_W05_rsa_pss);
    tcase_add_test(tc, test_W06_hmac);
    tcase_add_test(tc, test_W07_eddsa);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
