/* jose_bench.c -- JWS verification micro-benchmark, side by side in one process.
 *
 * For each algorithm (HS256, RS256 2048, PS256 2048, ES256, EdDSA) one realistic access token
 * (~300-byte payload, typ at+jwt, kid) is verified by:
 *   ours    af_jwt_verify: parse + key choice + signature + claim checks (the gate's call),
 *           with a request-like pool cleared after each call
 *   raw     the OpenSSL signature operation alone on the same signing input: EVP_DigestVerify
 *           with a pre-built EVP_PKEY (ECDSA signature pre-converted to DER), HMAC() one-shot
 *           + CRYPTO_memcmp
 *   libjwt  jwt_decode(token, key) + jwt_free          (Debian libjwt 1.10: HS/RS/ES only;
 *           it refuses typ other than "JWT", so it gets the same token with typ "JWT")
 *   cjose   cjose_jws_import + cjose_jws_verify        (Debian cjose 0.6: no EdDSA)
 * libjwt and cjose check no claims; ours does.  Scenarios are interleaved in rounds (every
 * scenario once per round, ~T seconds each) and the median of the rounds is reported, so a
 * noisy neighbour hits all scenarios alike.  Every verification is checked to succeed.
 *
 *   jose_bench [-r ROUNDS] [-t SECONDS_PER_SCENARIO] [-a ALG] [-i ours|raw|libjwt|cjose]
 * (-a/-i restrict the run, e.g. for perf record; the table then shows only what ran)
 *   jose_bench -n N      under valgrind --tool=callgrind: N verifications per scenario, one
 *                        stats dump each (bench/jose.sh BENCH_CALLGRIND=1 prints instructions/op)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <cjose/cjose.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_DUMP_STATS_AT
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void) (s))
#endif

#include "common/af_b64.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "jose/af_jwk.h"
#include "jose/af_jws.h"
#include "jose/af_jwt.h"

enum { IMPL_OURS, IMPL_RAW, IMPL_LIBJWT, IMPL_CJOSE, IMPL_COUNT };
static const char *const impl_names[IMPL_COUNT] = {"ours", "raw", "libjwt", "cjose"};

typedef struct bench_alg_t {
    const char *name;
    af_alg_t alg;
    int libjwt_ok, cjose_ok;
    /* keys */
    EVP_PKEY *pkey; /* private (asymmetric) */
    EVP_PKEY *pub;  /* public only: used by raw */
    unsigned char secret[32];
    char *pub_pem;
    af_keyset_t *ks;
    cjose_jwk_t *cj_key;
    /* the token */
    const char *token;
    apr_size_t token_len;
    const char *token_jwt; /* same payload and key, typ "JWT": libjwt 1.x refuses other typs */
    const char *si;
    apr_size_t si_len;
    unsigned char *sig; /* as verified by raw: HMAC tag, RSA/EdDSA bytes, ECDSA DER */
    apr_size_t sig_len;
    double med_ns[IMPL_COUNT];
    double *samples[IMPL_COUNT];
} bench_alg_t;

static apr_pool_t *g_pool, *g_req;
static af_jwt_policy_t g_pol;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "jose_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static char *pem_of(EVP_PKEY *pkey, int private)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;

    if (private ? !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                : !PEM_write_bio_PUBKEY(bio, pkey)) {
        die("PEM write", NULL);
    }
    n = BIO_get_mem_data(bio, &data);
    out = apr_pstrmemdup(g_pool, data, (apr_size_t) n);
    BIO_free(bio);
    return out;
}

static EVP_PKEY *pub_of(EVP_PKEY *pkey)
{
    const char *pem = pem_of(pkey, 0);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

    BIO_free(bio);
    if (!pub) {
        die("PEM read", NULL);
    }
    return pub;
}

/* P1363 r||s -> DER, once at setup: the raw scenario measures the verification only. */
static void ecdsa_to_der(bench_alg_t *b, const unsigned char *rs, apr_size_t len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int) (len / 2), NULL);
    BIGNUM *s = BN_bin2bn(rs + len / 2, (int) (len / 2), NULL);
    unsigned char *der = NULL;
    int n;

    ECDSA_SIG_set0(es, r, s);
    n = i2d_ECDSA_SIG(es, &der);
    if (n <= 0) {
        die("i2d_ECDSA_SIG", NULL);
    }
    b->sig = apr_pmemdup(g_pool, der, (apr_size_t) n);
    b->sig_len = (apr_size_t) n;
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
}

static const char *payload_json(void)
{
    long now = (long) time(NULL);

    /* a realistic access token of ours: ~300 bytes of claims */
    return apr_psprintf(g_pool,
                        "{\"iss\":\"https://app.example.com\",\"aud\":\"https://app.example.com\","
                        "\"sub\":\"109876543210987654321\",\"iat\":%ld,\"exp\":%ld,"
                        "\"jti\":\"3f9c1a7e-5b2d-4e8f-9a61-0c7d2e4b8f13\",\"sid\":\"fam-"
                        "Qm9uam91ciBsZSBtb25kZQ\",\"idp\":\"google\",\"email\":"
                        "\"alice.martin@example.com\",\"email_verified\":true,\"name\":\"Alice "
                        "Martin\",\"preferred_username\":\"alice\",\"groups\":[\"ops\",\"dev\","
                        "\"staff\"]}",
                        now - 5, now + 600);
}

static void setup_alg(bench_alg_t *b)
{
    af_key_t *signer = NULL, *verifier = NULL;
    const char *why = NULL, *payload = payload_json();
    const char *dot;
    unsigned char *sig;
    apr_size_t sig_len;
    cjose_err cerr;
    apr_status_t rv;

    b->ks = af_keyset_make(g_pool);
    if (b->alg == AF_ALG_HS256) {
        if (RAND_bytes(b->secret, sizeof(b->secret)) != 1) {
            die("RAND_bytes", NULL);
        }
        rv = af_key_from_secret(&signer, b->secret, sizeof(b->secret), b->alg, "k-1", &why, g_pool);
        verifier = signer;
        b->cj_key = cjose_jwk_create_oct_spec(b->secret, sizeof(b->secret), &cerr);
    } else {
        json_t *jwk = NULL;
        const char *pem, *jwk_text;

        if (b->alg == AF_ALG_ES256) {
            b->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        } else if (b->alg == AF_ALG_EDDSA) {
            b->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        } else {
            b->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        }
        if (!b->pkey) {
            die("keygen", b->name);
        }
        b->pub = pub_of(b->pkey);
        pem = pem_of(b->pkey, 1);
        b->pub_pem = pem_of(b->pkey, 0);
        rv = af_key_load_pem(&signer, pem, strlen(pem), b->alg, "k-1", &why, g_pool);
        if (rv == APR_SUCCESS) {
            rv = af_key_load_pem(&verifier, b->pub_pem, strlen(b->pub_pem), b->alg, "k-1", &why,
                                 g_pool);
        }
        if (rv == APR_SUCCESS) {
            rv = af_key_to_public_jwk(&jwk, verifier, g_pool);
        }
        if (rv == APR_SUCCESS && b->cjose_ok) {
            jwk_text = af_json_dump(jwk, g_pool);
            b->cj_key = cjose_jwk_import(jwk_text, strlen(jwk_text), &cerr);
        }
    }
    if (rv != APR_SUCCESS) {
        die("loading our key", why ? why : af_strerror(rv));
    }
    if (b->cjose_ok && !b->cj_key) {
        die("cjose key", cerr.message);
    }
    af_keyset_add(b->ks, verifier);
    rv = af_jws_sign(&b->token, signer, "at+jwt", (const unsigned char *) payload, strlen(payload),
                     g_pool);
    if (rv != APR_SUCCESS) {
        die("af_jws_sign", af_strerror(rv));
    }
    b->token_len = strlen(b->token);
    rv = af_jws_sign(&b->token_jwt, signer, "JWT", (const unsigned char *) payload, strlen(payload),
                     g_pool);
    if (rv != APR_SUCCESS) {
        die("af_jws_sign", af_strerror(rv));
    }
    dot = strrchr(b->token, '.');
    b->si = b->token;
    b->si_len = (apr_size_t) (dot - b->token);
    rv = af_b64url_decode(&sig, &sig_len, dot + 1, strlen(dot + 1), g_pool);
    if (rv != APR_SUCCESS) {
        die("signature decode", af_strerror(rv));
    }
    if (b->alg == AF_ALG_ES256) {
        ecdsa_to_der(b, sig, sig_len);
    } else {
        b->sig = sig;
        b->sig_len = sig_len;
    }
}

/* ---- the four implementations: n verifications, 0 when every one succeeded ---------- */

static int run_ours(bench_alg_t *b, long n)
{
    long i;

    for (i = 0; i < n; i++) {
        json_t *claims = NULL;
        const af_key_t *used = NULL;
        apr_status_t rv;

        rv = af_jwt_verify(&claims, &used, b->token, b->token_len, b->ks, &g_pol, g_req);
        apr_pool_clear(g_req);
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "ours %s: %s\n", b->name, af_strerror(rv));
            return -1;
        }
    }
    return 0;
}

static int run_raw(bench_alg_t *b, long n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    long i;
    int ok = 1;

    for (i = 0; i < n && ok; i++) {
        if (b->alg == AF_ALG_HS256) {
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned int mac_len = 0;

            ok = HMAC(EVP_sha256(), b->secret, sizeof(b->secret), (const unsigned char *) b->si,
                      b->si_len, mac, &mac_len) &&
                 mac_len == b->sig_len && CRYPTO_memcmp(mac, b->sig, mac_len) == 0;
            continue;
        } else {
            EVP_PKEY_CTX *pctx = NULL;
            const EVP_MD *md = b->alg == AF_ALG_EDDSA ? NULL : EVP_sha256();

            ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, b->pub) == 1;
            if (ok && b->alg == AF_ALG_PS256) {
                ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
                     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
            }
            ok = ok && EVP_DigestVerify(ctx, b->sig, b->sig_len, (const unsigned char *) b->si,
                                        b->si_len) == 1;
            EVP_MD_CTX_reset(ctx);
        }
    }
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int run_libjwt(bench_alg_t *b, long n)
{
    const unsigned char *key =
        b->alg == AF_ALG_HS256 ? b->secret : (const unsigned char *) b->pub_pem;
    int key_len = b->alg == AF_ALG_HS256 ? (int) sizeof(b->secret) : (int) strlen(b->pub_pem);
    long i;

    for (i = 0; i < n; i++) {
        jwt_t *jwt = NULL;

        if (jwt_decode(&jwt, b->token_jwt, key, key_len) != 0) {
            return -1;
        }
        jwt_free(jwt);
    }
    return 0;
}

static int run_cjose(bench_alg_t *b, long n)
{
    long i;

    for (i = 0; i < n; i++) {
        cjose_err err;
        cjose_jws_t *jws = cjose_jws_import(b->token, b->token_len, &err);
        bool ok = jws && cjose_jws_verify(jws, b->cj_key, &err);

        cjose_jws_release(jws);
        if (!ok) {
            return -1;
        }
    }
    return 0;
}

static int (*const impl_run[IMPL_COUNT])(bench_alg_t *, long) = {run_ours, run_raw, run_libjwt,
                                                                 run_cjose};

static int g_only_impl = -1; /* -i: profile one implementation */

static int impl_ok(const bench_alg_t *b, int impl)
{
    if (g_only_impl >= 0 && impl != g_only_impl) {
        return 0;
    }
    return impl == IMPL_LIBJWT ? b->libjwt_ok : impl == IMPL_CJOSE ? b->cjose_ok : 1;
}

/* One timed run of ~secs seconds; returns ns per operation. */
static double measure(bench_alg_t *b, int impl, double secs)
{
    long batch = 1, ops = 0;
    double t0 = now_ns(), t;

    for (;;) {
        if (impl_run[impl](b, batch) != 0) {
            fprintf(stderr, "jose_bench: %s %s: verification FAILED\n", b->name, impl_names[impl]);
            exit(1);
        }
        ops += batch;
        t = now_ns() - t0;
        if (t >= secs * 1e9) {
            return t / (double) ops;
        }
        if (t < 5e6) {
            batch *= 2;
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    double *c = malloc(sizeof(double) * (size_t) n), m;

    memcpy(c, v, sizeof(double) * (size_t) n);
    qsort(c, (size_t) n, sizeof(double), cmp_double);
    m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

static void fmt_cell(char *buf, size_t len, double ns)
{
    if (ns <= 0) {
        snprintf(buf, len, "n/a");
    } else {
        snprintf(buf, len, "%9.0f /s %8.0f ns", 1e9 / ns, ns);
    }
}

static void report(bench_alg_t *algs, int nalg, int rounds, double secs)
{
    int i, k;

    printf("\n| alg | ours: af_jwt_verify | raw OpenSSL | libjwt 1.10 | cjose 0.6 "
           "| ours/raw (time) | ours vs cjose (rate) | ours vs libjwt (rate) |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (i = 0; i < nalg; i++) {
        bench_alg_t *b = &algs[i];
        char cell[IMPL_COUNT][48], vs_cj[32], vs_lj[32];
        double *m = b->med_ns;

        for (k = 0; k < IMPL_COUNT; k++) {
            fmt_cell(cell[k], sizeof(cell[k]), impl_ok(b, k) ? m[k] : 0);
        }
        snprintf(vs_cj, sizeof(vs_cj), b->cjose_ok ? "%.2fx" : "n/a",
                 b->cjose_ok ? m[IMPL_CJOSE] / m[IMPL_OURS] : 0);
        snprintf(vs_lj, sizeof(vs_lj), b->libjwt_ok ? "%.2fx" : "n/a",
                 b->libjwt_ok ? m[IMPL_LIBJWT] / m[IMPL_OURS] : 0);
        printf("| %s | %s | %s | %s | %s | %.3f | %s | %s |\n", b->name, cell[0], cell[1], cell[2],
               cell[3], m[IMPL_OURS] / m[IMPL_RAW], vs_cj, vs_lj);
    }
    printf("\nmedian of %d rounds x %.2f s per scenario; rate = verifications/s; "
           "ours/raw = time ratio (1.00 = no overhead over the bare signature)\n",
           rounds, secs);
}

static void targets(bench_alg_t *algs, int nalg)
{
    int i;

    printf("\ntargets:\n");
    for (i = 0; i < nalg; i++) {
        bench_alg_t *b = &algs[i];
        double *m = b->med_ns, r = m[IMPL_OURS] / m[IMPL_RAW];

        if (b->alg == AF_ALG_HS256) {
            printf("  HS256 full verify %.0f ns <= 2500 ns: %s\n", m[IMPL_OURS],
                   m[IMPL_OURS] <= 2500 ? "MET" : "MISSED");
            printf("  HS256 rate %.2fx cjose >= 3x: %s\n", m[IMPL_CJOSE] / m[IMPL_OURS],
                   m[IMPL_CJOSE] / m[IMPL_OURS] >= 3 ? "MET" : "MISSED");
        } else if (b->alg == AF_ALG_ES256) {
            printf("  ES256 ours/raw %.3f <= 1.08: %s\n", r, r <= 1.08 ? "MET" : "MISSED");
        } else if (b->alg == AF_ALG_RS256) {
            printf("  RS256 ours/raw %.3f <= 1.15: %s\n", r, r <= 1.15 ? "MET" : "MISSED");
        }
    }
}

/* -n N: N operations per scenario under callgrind, one stats dump per scenario (named
 * "ALG/IMPL/N"): instruction counts do not depend on the machine's load. */
static void count_mode(bench_alg_t *algs, int nalg, long n)
{
    int i, k;

    for (i = 0; i < nalg; i++) {
        for (k = 0; k < IMPL_COUNT; k++) {
            char label[64];

            if (!impl_ok(&algs[i], k)) {
                continue;
            }
            snprintf(label, sizeof(label), "%s/%s/%ld", algs[i].name, impl_names[k], n);
            impl_run[k](&algs[i], n / 10 + 1);
            CALLGRIND_ZERO_STATS;
            if (impl_run[k](&algs[i], n) != 0) {
                die("verification failed", label);
            }
            CALLGRIND_DUMP_STATS_AT(label);
        }
    }
}

int main(int argc, char **argv)
{
    bench_alg_t algs[] = {
        {.name = "HS256", .alg = AF_ALG_HS256, .libjwt_ok = 1, .cjose_ok = 1},
        {.name = "RS256", .alg = AF_ALG_RS256, .libjwt_ok = 1, .cjose_ok = 1},
        {.name = "PS256", .alg = AF_ALG_PS256, .libjwt_ok = 0, .cjose_ok = 1},
        {.name = "ES256", .alg = AF_ALG_ES256, .libjwt_ok = 1, .cjose_ok = 1},
        {.name = "EdDSA", .alg = AF_ALG_EDDSA, .libjwt_ok = 0, .cjose_ok = 0},
    };
    int nalg = (int) (sizeof(algs) / sizeof(algs[0])), rounds = 7, opt, r, i, k;
    double secs = 0.3;
    long count = 0;
    const char *only = NULL;

    while ((opt = getopt(argc, argv, "r:t:a:i:n:")) != -1) {
        switch (opt) {
        case 'r':
            rounds = atoi(optarg);
            break;
        case 't':
            secs = atof(optarg);
            break;
        case 'a':
            only = optarg;
            break;
        case 'n':
            count = atol(optarg);
            break;
        case 'i':
            for (k = 0; k < IMPL_COUNT; k++) {
                if (strcmp(optarg, impl_names[k]) == 0) {
                    g_only_impl = k;
                }
            }
            break;
        default:
            fprintf(stderr, "usage: %s [-r ROUNDS] [-t SECONDS] [-a ALG] [-i IMPL] [-n COUNT]\n",
                    argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || secs <= 0) {
        die("bad -r/-t", NULL);
    }
    apr_initialize();
    apr_pool_create(&g_pool, NULL);
    apr_pool_create(&g_req, g_pool);
    if (only) {
        for (i = 0; i < nalg; i++) {
            if (strcmp(algs[i].name, only) == 0) {
                algs[0] = algs[i];
                nalg = 1;
                break;
            }
        }
        if (nalg != 1) {
            die("unknown alg", only);
        }
    }
    g_pol.now = (apr_int64_t) time(NULL);
    g_pol.leeway = 60;
    g_pol.max_lifetime = 3600;
    g_pol.iss = "https://app.example.com";
    g_pol.aud = "https://app.example.com";
    g_pol.typ = "at+jwt";
    g_pol.require_iat = 1;
    g_pol.require_jti = 1;
    g_pol.require_sub = 1;

    if (count > 0) {
        for (i = 0; i < nalg; i++) {
            setup_alg(&algs[i]);
        }
        count_mode(algs, nalg, count);
        return 0;
    }
    for (i = 0; i < nalg; i++) {
        setup_alg(&algs[i]);
        for (k = 0; k < IMPL_COUNT; k++) {
            algs[i].samples[k] = calloc((size_t) rounds, sizeof(double));
            if (impl_ok(&algs[i], k)) {
                measure(&algs[i], k, 0.02); /* warm-up and a correctness check */
            }
        }
    }
    printf("token sizes:");
    for (i = 0; i < nalg; i++) {
        printf(" %s %zu B", algs[i].name, (size_t) algs[i].token_len);
    }
    printf("\n");
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < nalg; i++) {
            for (k = 0; k < IMPL_COUNT; k++) {
                if (impl_ok(&algs[i], k)) {
                    algs[i].samples[k][r] = measure(&algs[i], k, secs);
                }
            }
        }
        fprintf(stderr, "round %d/%d done\n", r + 1, rounds);
    }
    for (i = 0; i < nalg; i++) {
        for (k = 0; k < IMPL_COUNT; k++) {
            algs[i].med_ns[k] = impl_ok(&algs[i], k) ? median(algs[i].samples[k], rounds) : 0;
        }
    }
    report(algs, nalg, rounds, secs);
    targets(algs, nalg);
    return 0;
}
