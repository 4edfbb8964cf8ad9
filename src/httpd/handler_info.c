/* handler_info.c -- GET <endpoint>/jwks.json and GET <endpoint>/session.
 *
 * jwks.json: the public JWKs of AuthFlowSigningKey and every AuthFlowVerifyKey (symmetric
 * keys are never published).  session: the access cookie verified as the gate does (and
 * its login not revoked), answered as the token's claims in JSON -- never the token
 * itself; 401 {"error": ...} when there is no valid session.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>

#include "common/af_cookie.h"
#include "common/af_error.h"
#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/gate.h"
#include "httpd/login.h"
#include "store/af_store.h"

APLOG_USE_MODULE(authflow);

int af_handler_jwks(request_rec *r, af_srv_conf_t *sc)
{
    json_t *doc = af_json_pool_own(json_object(), r->pool), *keys = json_array(), *jwk;
    const char *body;
    int i;

    json_object_set_new(doc, "keys", keys);
    for (i = 0; sc->r_own_keys != NULL && i < sc->r_own_keys->keys->nelts; i++) {
        const af_key_t *k = APR_ARRAY_IDX(sc->r_own_keys->keys, i, const af_key_t *);

        if (k->kty == AF_KTY_OCT) {
            continue;
        }
        if (af_key_to_public_jwk(&jwk, k, r->pool) == APR_SUCCESS) {
            json_array_append(keys, jwk);
        }
    }
    body = af_json_dump(doc, r->pool);
    if (body == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    af_login_send(r, HTTP_OK, "application/jwk-set+json", body);
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=300");
    apr_table_unset(r->headers_out, "Pragma");
    return OK;
}

static int json_error(request_rec *r, int status, const char *reason)
{
    json_t *j = af_json_pool_own(json_pack("{s:s}", "error", reason), r->pool);

    return af_login_send(r, status, "application/json",
                         j ? af_json_dump(j, r->pool) : "{\"error\":\"internal_error\"}");
}

int af_handler_session(request_rec *r, af_srv_conf_t *sc)
{
    const char *v = NULL, *sid, *body;
    json_t *claims = NULL;
    af_store_t *st;
    apr_status_t rv;

    rv = af_cookie_get(&v, apr_table_get(r->headers_in, "Cookie"), sc->r_cookie_at, r->pool);
    if (rv != APR_SUCCESS || *v == '\0') {
        return json_error(r, HTTP_UNAUTHORIZED, "no_session");
    }
    rv = af_gate_verify_own(&claims, r, sc, v, strlen(v), af_login_now(r, sc));
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AF08030: session: %s", af_strerror(rv));
        return json_error(r, HTTP_UNAUTHORIZED, "invalid_session");
    }
    sid = json_string_value(json_object_get(claims, "sid"));
    if (sid != NULL && sc->login != NULL && sc->login->r_store != NULL) {
        if ((st = af_login_store(r, sc)) == NULL) {
            return json_error(r, HTTP_SERVICE_UNAVAILABLE, "store_unavailable");
        }
        rv = af_store_family_is_revoked(st, sid);
        if (rv == AF_ESTORE_REVOKED || rv == AF_ESTORE_UNKNOWN) {
            return json_error(r, HTTP_UNAUTHORIZED, "session_revoked");
        }
        if (rv != APR_SUCCESS) {
            return json_error(r, HTTP_SERVICE_UNAVAILABLE, "store_unavailable");
        }
    }
    body = af_json_dump(claims, r->pool);
    return body ? af_login_send(r, HTTP_OK, "application/json", body)
                : json_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error");
}
