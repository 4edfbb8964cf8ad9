/* oidc_apple.c -- Sign in with Apple: the client-secret JWT minted from the .p8 key, the
 * unsigned first-consent "user" field (display names only), and the server-to-server
 * notifications (a JWS from Apple, verified against the provider's JWKS).
 *
 * Apple's documentation ("Creating a client secret", "Processing changes for Sign in with
 * Apple accounts"): the client secret is an ES256 JWT with kid = the key id, iss = the team
 * id, sub = the Services ID (client_id), aud = https://appleid.apple.com, iat, exp at most
 * 15777000 s (6 months) after iat.  Notifications arrive as {"payload": "<JWS>"} whose
 * claims carry iss, aud (the client_id), iat, jti and "events", a JSON *string* holding
 * {type, sub, event_time, email?, is_private_email?}. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_file.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "common/af_parse.h"
#include "jose/af_jose_errors.h"
#include "jose/af_jws.h"
#include "jose/af_jwt.h"
#include "oidc/af_oidc.h"
#include "oidc/oidc_int.h"

#define APPLE_SECRET_TTL_MAX 15777000 /* Apple: exp at most 6 months after iat */
#define USER_MAX             2048     /* bytes of the "user" form field */
#define NAME_MAX_LEN         128      /* bytes of firstName / lastName */
#define EVENT_BODY_MAX       16384    /* bytes of a notification body */
#define EVENT_TYPE_MAX       32
#define EVENT_SUB_MAX        255

/* ---- the client secret ------------------------------------------------------------------ */

const char *af_oidc_apple_load_key(af_oidc_provider_t *prov, apr_pool_t *p)
{
    const char *why = NULL, *hint;
    af_key_t *k = NULL;
    apr_status_t rv;

    if (prov->team_id == NULL || prov->key_id == NULL || prov->private_key_file == NULL) {
        return "Preset apple needs TeamID, KeyID and PrivateKeyFile (the .p8 key that mints "
               "the client secret)";
    }
    if (!af_parse_is_name(prov->team_id, 64) || !af_parse_is_name(prov->key_id, 64)) {
        return "TeamID and KeyID take Apple's identifiers (letters and digits)";
    }
    rv = af_key_load_file(&k, prov->private_key_file, AF_ALG_ES256, prov->key_id, &why, p);
    if ((hint = af_file_private_hint(rv, prov->private_key_file, p)) != NULL) {
        return apr_psprintf(p, "PrivateKeyFile %s: %s", prov->private_key_file, hint);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p,
                            "PrivateKeyFile %s: %s (an EC P-256 private key in PKCS#8 "
                            "PEM, the .p8 file Apple gives)",
                            prov->private_key_file, why ? why : af_strerror(rv));
    }
    if (!k->is_private || k->kty != AF_KTY_EC || k->alg != AF_ALG_ES256) {
        return apr_psprintf(p, "PrivateKeyFile %s: not an EC P-256 private key",
                            prov->private_key_file);
    }
    prov->secret_key = k;
    return NULL;
}

apr_status_t af_oidc_apple_secret_mint(const char **out, const af_oidc_provider_t *prov,
                                       apr_int64_t now, apr_int64_t ttl, apr_pool_t *p)
{
    json_t *c;
    const char *txt;

    *out = NULL;
    if (prov->secret_key == NULL || prov->team_id == NULL || prov->client_id == NULL || ttl < 1 ||
        ttl > APPLE_SECRET_TTL_MAX) {
        return AF_EOIDC_CLIENT_SECRET;
    }
    /* aud is Apple's issuer whatever Issuer says (an egress proxy or a test IdP) */
    c = af_json_pool_own(json_pack("{s:s, s:I, s:I, s:s, s:s}", "iss", prov->team_id, "iat",
                                   (json_int_t) now, "exp", (json_int_t) (now + ttl), "aud",
                                   AF_OIDC_APPLE_ISSUER, "sub", prov->client_id),
                         p);
    if (c == NULL || (txt = af_json_dump(c, p)) == NULL) {
        return AF_EOIDC_CLIENT_SECRET;
    }
    if (af_jws_sign(out, prov->secret_key, NULL, (const unsigned char *) txt, strlen(txt), p) !=
        APR_SUCCESS) {
        return AF_EOIDC_CLIENT_SECRET;
    }
    return APR_SUCCESS;
}

apr_status_t af_oidc_client_secret(const char **out, af_oidc_provider_t *prov, apr_int64_t now,
                                   apr_pool_t *p)
{
    af_oidc_runtime_t *rt = prov->rt;
    const char *fresh = NULL;
    apr_status_t rv;

    *out = prov->client_secret;
    if (prov->preset != AF_OIDC_PRESET_APPLE) {
        return APR_SUCCESS; /* NULL for a client without a secret (Kakao may have none) */
    }
    if (rt == NULL) {
        /* no per-process runtime (a tool, a unit test): mint one for this call */
        return af_oidc_apple_secret_mint(out, prov, now, AF_OIDC_APPLE_SECRET_TTL, p);
    }
    apr_thread_mutex_lock(rt->mu);
    if (rt->secret_iat != 0 && now >= rt->secret_iat &&
        now - rt->secret_iat < AF_OIDC_APPLE_SECRET_TTL / 2) {
        *out = apr_pstrdup(p, rt->secret);
        apr_thread_mutex_unlock(rt->mu);
        return APR_SUCCESS;
    }
    rv = af_oidc_apple_secret_mint(&fresh, prov, now, AF_OIDC_APPLE_SECRET_TTL, p);
    if (rv == APR_SUCCESS && strlen(fresh) < sizeof(rt->secret)) {
        memcpy(rt->secret, fresh, strlen(fresh) + 1);
        rt->secret_iat = now;
        af_log_p(p, AF_LOG_DEBUG, "AF05060", "provider %s: client secret minted (valid %ds)",
                 prov->name, AF_OIDC_APPLE_SECRET_TTL);
    }
    apr_thread_mutex_unlock(rt->mu);
    *out = fresh;
    return rv;
}

/* ---- the "user" field ----------------------------------------------------------------------- */

static int name_ok(const json_t *v)
{
    const char *s;

    if (v == NULL) {
        return 1;
    }
    if (!json_is_string(v) || json_string_length(v) > NAME_MAX_LEN) {
        return 0;
    }
    s = json_string_value(v);
    return strlen(s) == json_string_length(v) && !af_parse_has_ctl(s);
}

static void set_absent(json_t *claims, const char *k, const char *v)
{
    if (v != NULL && *v != '\0' && json_object_get(claims, k) == NULL) {
        json_object_set_new(claims, k, json_string(v));
    }
}

apr_status_t af_oidc_apple_user_claims(json_t *claims, const char *user, apr_pool_t *p)
{
    json_t *doc = NULL, *name, *first, *last;
    const char *f, *l;

    if (user == NULL) {
        return APR_SUCCESS;
    }
    if (strlen(user) > USER_MAX ||
        af_json_parse(&doc, user, strlen(user), USER_MAX, p) != APR_SUCCESS ||
        !json_is_object(doc)) {
        return AF_EOIDC_APPLE_USER;
    }
    name = json_object_get(doc, "name");
    if (name == NULL) {
        return APR_SUCCESS;
    }
    first = json_object_get(name, "firstName");
    last = json_object_get(name, "lastName");
    if (!json_is_object(name) || !name_ok(first) || !name_ok(last)) {
        return AF_EOIDC_APPLE_USER;
    }
    /* display names only: never sub, never email (those come from the id_token) */
    f = json_string_value(first);
    l = json_string_value(last);
    set_absent(claims, "given_name", f);
    set_absent(claims, "family_name", l);
    if ((f != NULL && *f) || (l != NULL && *l)) {
        set_absent(claims, "name",
                   apr_pstrcat(p, f ? f : "", (f && *f && l && *l) ? " " : "", l ? l : "", NULL));
    }
    return APR_SUCCESS;
}

/* ---- server-to-server notifications ------------------------------------------------------- */

static int alg_ok(const af_oidc_provider_t *prov, const af_oidc_meta_t *meta, af_alg_t alg,
                  apr_pool_t *p)
{
    apr_array_header_t *algs = af_oidc_allowed_algs(prov, meta, p);
    const char *name = af_alg_name(alg);
    int i;

    if (name == NULL || name[0] == 'H') {
        return 0; /* an event is signed by Apple's keys, never with a shared secret */
    }
    for (i = 0; i < algs->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(algs, i, const char *), name) == 0) {
            return 1;
        }
    }
    return 0;
}

static int type_ok(const char *t)
{
    apr_size_t n = 0;

    for (; *t; t++, n++) {
        if (!((*t >= 'a' && *t <= 'z') || *t == '-')) {
            return 0;
        }
    }
    return n > 0 && n <= EVENT_TYPE_MAX;
}

/* The payload of a verified JWS: claims, then the events member. */
static apr_status_t event_claims(af_oidc_apple_event_t *ev, const af_oidc_provider_t *prov,
                                 const af_oidc_meta_t *meta, const af_jws_t *jws, apr_int64_t now,
                                 apr_pool_t *p)
{
    json_t *c = NULL, *iat, *exp, *evj, *events = NULL, *type, *sub;
    const char *iss = meta->issuer ? meta->issuer : AF_OIDC_APPLE_ISSUER;

    if (af_json_parse(&c, (const char *) jws->payload, jws->payload_len, EVENT_BODY_MAX, p) !=
            APR_SUCCESS ||
        !json_is_object(c)) {
        return AF_EOIDC_APPLE_EVENT;
    }
    iat = json_object_get(c, "iat");
    exp = json_object_get(c, "exp");
    if (!json_is_string(json_object_get(c, "iss")) ||
        strcmp(json_string_value(json_object_get(c, "iss")), iss) != 0 ||
        !af_jwt_aud_contains(json_object_get(c, "aud"), prov->client_id)) {
        return AF_EOIDC_APPLE_EVENT_CLAIMS;
    }
    if (!json_is_number(iat) ||
        json_number_value(iat) < (double) (now - prov->iat_max_age - prov->leeway) ||
        json_number_value(iat) > (double) (now + prov->leeway)) {
        return AF_EOIDC_APPLE_EVENT_CLAIMS;
    }
    if (exp != NULL && (!json_is_number(exp) || json_number_value(exp) + prov->leeway <= now)) {
        return AF_EOIDC_APPLE_EVENT_CLAIMS;
    }
    evj = json_object_get(c, "events");
    if (json_is_string(evj)) {
        /* Apple: a JSON document inside a string */
        if (af_json_parse(&events, json_string_value(evj), json_string_length(evj), EVENT_BODY_MAX,
                          p) != APR_SUCCESS) {
            return AF_EOIDC_APPLE_EVENT;
        }
    } else {
        events = evj;
    }
    type = json_object_get(events, "type");
    sub = json_object_get(events, "sub");
    if (!json_is_object(events) || !json_is_string(type) || !type_ok(json_string_value(type)) ||
        !json_is_string(sub) || json_string_length(sub) == 0 ||
        json_string_length(sub) > EVENT_SUB_MAX ||
        strlen(json_string_value(sub)) != json_string_length(sub) ||
        af_parse_has_ctl(json_string_value(sub))) {
        return AF_EOIDC_APPLE_EVENT;
    }
    ev->type_name = apr_pstrdup(p, json_string_value(type));
    ev->sub = apr_pstrdup(p, json_string_value(sub));
    if (strcmp(ev->type_name, "email-disabled") == 0) {
        ev->type = AF_OIDC_APPLE_EVENT_EMAIL_DISABLED;
    } else if (strcmp(ev->type_name, "email-enabled") == 0) {
        ev->type = AF_OIDC_APPLE_EVENT_EMAIL_ENABLED;
    } else if (strcmp(ev->type_name, "consent-revoked") == 0) {
        ev->type = AF_OIDC_APPLE_EVENT_CONSENT_REVOKED;
        ev->revoke = 1;
    } else if (strcmp(ev->type_name, "account-delete") == 0) {
        ev->type = AF_OIDC_APPLE_EVENT_ACCOUNT_DELETE;
        ev->revoke = 1;
    }
    return APR_SUCCESS;
}

/* The compact JWS of a notification body. */
static apr_status_t event_jws(af_jws_t **jws, const char *body, apr_size_t len, apr_pool_t *p)
{
    json_t *doc = NULL, *payload;

    *jws = NULL;
    if (body == NULL || len == 0 || len > EVENT_BODY_MAX ||
        af_json_parse(&doc, body, len, EVENT_BODY_MAX, p) != APR_SUCCESS || !json_is_object(doc) ||
        !json_is_string(payload = json_object_get(doc, "payload")) ||
        af_jws_parse(jws, json_string_value(payload), json_string_length(payload), EVENT_BODY_MAX,
                     p) != APR_SUCCESS) {
        return AF_EOIDC_APPLE_EVENT;
    }
    return APR_SUCCESS;
}

apr_status_t af_oidc_apple_event_parse(af_oidc_apple_event_t **out, const af_oidc_provider_t *prov,
                                       const af_oidc_meta_t *meta, const af_keyset_t *ks,
                                       const char *body, apr_size_t len, apr_int64_t now,
                                       apr_pool_t *p)
{
    af_oidc_apple_event_t *ev = apr_pcalloc(p, sizeof(*ev));
    af_jws_t *jws = NULL;
    apr_status_t rv;

    *out = NULL;
    if ((rv = event_jws(&jws, body, len, p)) != APR_SUCCESS) {
        return rv;
    }
    if (!alg_ok(prov, meta, jws->alg, p) || ks == NULL ||
        af_jws_verify_keyset(NULL, jws, ks) != APR_SUCCESS) {
        return AF_EOIDC_APPLE_EVENT_SIG;
    }
    if ((rv = event_claims(ev, prov, meta, jws, now, p)) != APR_SUCCESS) {
        return rv;
    }
    *out = ev;
    return APR_SUCCESS;
}

apr_status_t af_oidc_apple_event(af_oidc_apple_event_t **out, af_oidc_provider_t *prov,
                                 const char *body, apr_size_t len, apr_int64_t now, apr_pool_t *p)
{
    const af_oidc_meta_t *meta = NULL;
    const af_keyset_t *ks = NULL;
    af_jws_t *jws = NULL;
    apr_status_t rv;

    *out = NULL;
    /* malformed bodies cost no outbound call */
    if ((rv = event_jws(&jws, body, len, p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = af_oidc_meta_get(&meta, prov, now, p)) != APR_SUCCESS ||
        (rv = af_oidc_keys_get(&ks, prov, meta, NULL, now, p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = af_oidc_apple_event_parse(out, prov, meta, ks, body, len, now, p);
    if (rv == AF_EOIDC_APPLE_EVENT_SIG && jws->kid != NULL &&
        af_oidc_keys_get(&ks, prov, meta, jws->kid, now, p) == APR_SUCCESS) {
        /* E16: Apple may have rotated its key; one throttled refetch (only for a kid the
         * set does not have) */
        rv = af_oidc_apple_event_parse(out, prov, meta, ks, body, len, now, p);
    }
leave:
    if (rv != APR_SUCCESS) {
        af_log_p(p, AF_LOG_INFO, "AF05061", "provider %s: notification refused: %s", prov->name,
                 af_strerror(rv));
    }
    return rv;
}
