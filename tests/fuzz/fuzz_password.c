/* fuzz_password.c -- libFuzzer target: the password form's POST (src/session/
 * session_password.c) with an attacker-chosen body after a real flow id, against real LMDB.
 *
 * Each input: a fresh form (GET login?provider=staff: a flow in the flow cookie), then
 * POST "flow=<its id>&" + the input, from a client address of its own (so the throttle is
 * reached only by inputs that fail often).  The check is a table: alice/right is granted,
 * alice/other denied, "err" an authn provider error, anything else unknown.
 *
 * Invariants (a violation traps): the status is one of 303, 400, 403, 415, 429, 503; login
 * cookies only with 303 and then both; a 303 only for alice with the password "right"; 403
 * only as login_failed; the answer's body never contains the posted password (when it is 8+
 * bytes, so that it cannot be a piece of the page).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <sanitizer/lsan_interface.h>

#include "common/af_form.h"
#include "session/af_session.h"
#include "store/af_store_lmdb.h"

static apr_pool_t *fuzz_root;
static af_site_t site;
static af_site_rt_t rt;
static unsigned long n_inputs;
static char store_dir[] = "/tmp/af_fuzz_pw.XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static af_pw_result_t check(void *baton, const af_oidc_provider_t *pv, const char *user,
                            const char *password, apr_table_t **attrs, apr_pool_t *p)
{
    if (strcmp(user, "err") == 0) {
        return AF_PW_ERROR;
    }
    if (strcmp(user, "alice") != 0) {
        return AF_PW_NOT_FOUND;
    }
    if (strcmp(password, "right") != 0) {
        return AF_PW_DENIED;
    }
    *attrs = apr_table_make(p, 1);
    apr_table_set(*attrs, "AUTHENTICATE_MAIL", "alice@example.org");
    return AF_PW_GRANTED;
}

/* the store and the keys live for the whole run: freed at exit, so LeakSanitizer sees none */
static void fini(void)
{
    char path[sizeof(store_dir) + 16];

    af_store_close(rt.store);
    apr_pool_destroy(fuzz_root);
    snprintf(path, sizeof(path), "%s/data.mdb", store_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", store_dir);
    unlink(path);
    rmdir(store_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const unsigned char secret[32] = {7, 7, 7};
    af_oidc_provider_t *pv;
    af_key_t *key = NULL;
    const char *e = NULL;

    /* The store, the keys and the site live for the whole run in pool memory, which LSan may
     * not scan (APR's allocator can use mmap): what they hold is not a leak (fuzz_jws does the
     * same).  Without this an input that happens to trigger libFuzzer's leak check reported
     * the LMDB environment (seen in a fresh-clone make test). */
    __lsan_disable();
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS ||
        mkdtemp(store_dir) == NULL ||
        af_store_lmdb_open(&rt.store, store_dir, 1024u << 20, 0, 0, fuzz_root) != APR_SUCCESS ||
        af_key_generate(&key, AF_ALG_ES256, "k1", fuzz_root) != APR_SUCCESS) {
        abort();
    }
    site.base_url = "https://app.example.com";
    site.endpoint = "/auth";
    site.issuer = site.audience = site.base_url;
    site.signing_key = key;
    site.own_keys = af_keyset_make(fuzz_root);
    af_keyset_add(site.own_keys, key);
    site.clock_skew = 60;
    site.access_ttl = 600;
    site.cookie_at = "__Host-authflow-at";
    site.cookie_rt = "__Host-authflow-rt";
    site.cookie_flow = "__Host-authflow-flow";
    site.cookie_secure = 1;
    site.samesite = "Lax";
    site.has_store = 1;
    site.token_claims = apr_array_make(fuzz_root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(site.token_claims, const char *) = "email";
    site.refresh_ttl = 86400;
    site.refresh_idle = 3600;
    site.reuse_grace = 10;
    if (af_token_seal_key(&site.flow_key, secret, 32, site.cookie_flow, fuzz_root) ||
        af_token_seal_key(&site.throttle_key, secret, 32, "password throttle", fuzz_root)) {
        abort();
    }
    site.rt = &rt;
    pv = af_oidc_provider_make("staff", fuzz_root);
    if (af_oidc_provider_key(pv, "Type", 1, (const char *[]){"password"}, NULL, NULL, fuzz_root) ||
        af_oidc_provider_key(pv, "AuthnProvider", 1, (const char *[]){"file"}, NULL, NULL,
                             fuzz_root) ||
        af_oidc_provider_key(pv, "Claim", 2, (const char *[]){"email", "mail"}, NULL, NULL,
                             fuzz_root) ||
        (e = af_oidc_provider_check(pv, fuzz_root)) != NULL) {
        abort();
    }
    site.providers = apr_array_make(fuzz_root, 1, sizeof(af_oidc_provider_t *));
    APR_ARRAY_PUSH(site.providers, af_oidc_provider_t *) = pv;
    af_log_set(NULL, NULL, 0); /* quiet */
    atexit(fini);
    __lsan_enable();
    return 0;
}

static int login_cookies(const af_effects_t *eff)
{
    int i, n = 0;

    for (i = 0; i < eff->cookies->nelts; i++) {
        const char *c = APR_ARRAY_IDX(eff->cookies, i, const char *);

        n += (strncmp(c, site.cookie_at, strlen(site.cookie_at)) == 0 ||
              strncmp(c, site.cookie_rt, strlen(site.cookie_rt)) == 0) &&
             strstr(c, "Max-Age=0") == NULL;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"username", "password"};
    apr_pool_t *p;
    af_req_in_t in;
    af_effects_t *form, *eff;
    const char *set, *f, *flow, *vals[2] = {NULL, NULL};
    apr_array_header_t *pairs = NULL;
    apr_int64_t now = 1700000000 + (apr_int64_t) (n_inputs / 64);

    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS) {
        abort();
    }
    memset(&in, 0, sizeof(in));
    in.now = now;
    in.method = "GET";
    in.query = "provider=staff&return_to=%2Fapp";
    form = af_effects_make(p);
    af_session_login(form, &site, &in, p);
    if (form->status != 200 || form->cookies->nelts != 1 ||
        (f = strstr(form->body, "name=\"flow\" value=\"")) == NULL) {
        abort();
    }
    f += strlen("name=\"flow\" value=\"");
    flow = apr_pstrndup(p, f, strcspn(f, "\""));
    set = APR_ARRAY_IDX(form->cookies, 0, const char *);
    in.method = "POST";
    in.cookie = apr_pstrndup(p, set, strcspn(set, ";"));
    in.origin = site.base_url;
    in.content_type = "application/x-www-form-urlencoded";
    in.body =
        apr_pstrcat(p, "flow=", flow, "&", apr_pstrmemdup(p, (const char *) data, size), NULL);
    in.body_len = 5 + strlen(flow) + 1 + size;
    in.client_ip = apr_psprintf(p, "198.51.100.%lu", n_inputs++ % 250);
    eff = af_effects_make(p);
    af_session_password_login(eff, &site, &in, check, NULL, p);

    if (af_form_parse(&pairs, in.body, 16, AF_FORM_MAX_LEN, 0, p) == APR_SUCCESS) {
        af_form_pick(vals, names, 2, pairs);
    }
    switch (eff->status) {
    case 303:
        if (login_cookies(eff) != 2 || vals[0] == NULL || strcmp(vals[0], "alice") != 0 ||
            vals[1] == NULL || strcmp(vals[1], "right") != 0) {
            abort();
        }
        break;
    case 403:
        if (eff->reason != AF_ESESS_LOGIN_FAILED && eff->reason != AF_ESESS_CROSS_SITE) {
            abort();
        }
        /* fall through */
    case 400:
    case 415:
    case 429:
    case 503:
        if (login_cookies(eff) != 0) {
            abort();
        }
        break;
    default:
        abort();
    }
    if (vals[1] != NULL && strlen(vals[1]) >= 8 && eff->body != NULL &&
        strstr(eff->body, vals[1]) != NULL) {
        abort(); /* the password echoed back */
    }
    apr_pool_destroy(p);
    return 0;
}
