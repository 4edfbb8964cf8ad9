/* export.c -- scrub inbound spoofing headers; export verified claims to the backend.
 *
 * Env (r->subprocess_env) reaches CGI, FastCGI/SCGI/AJP via mod_proxy_*, mod_rewrite and
 * mod_headers (`%{AUTHFLOW_CLAIM_EMAIL}e`); headers (r->headers_in) reach mod_proxy_http.
 * Values with control characters (CR, LF, NUL, ...) or longer than AF_EXPORT_MAX_VALUE
 * are not exported at all (a cut or cleaned value could name someone else).
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>

#include "common/af_cookie.h"
#include "common/af_json.h"
#include "httpd/af_config.h"
#include "httpd/af_httpd.h"
#include "httpd/export.h"

APLOG_USE_MODULE(authflow);

#define AF_EXPORT_MAX_CLAIMS 128

void af_export_scrub(request_rec *r, const af_srv_conf_t *sc)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *) arr->elts;
    const char *drop[16];
    int i, n = 0;

    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key != NULL && af_config_is_ours(sc, e[i].key)) {
            if (n == (int) (sizeof(drop) / sizeof(drop[0]))) {
                break;
            }
            drop[n++] = e[i].key;
        }
    }
    for (i = 0; i < n; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AF07010: removed inbound header %s", drop[i]);
        apr_table_unset(r->headers_in, drop[i]);
    }
    if (n == (int) (sizeof(drop) / sizeof(drop[0]))) {
        af_export_scrub(r, sc); /* more than fit in one pass */
    }
}

void af_export_strip_cookies(request_rec *r, const af_srv_conf_t *sc)
{
    const char *names[4], *hdr = apr_table_get(r->headers_in, "Cookie"), *out = NULL;
    int removed = 0;

    if (hdr == NULL || sc->r_cookie_at == NULL || strstr(hdr, sc->r_cookie_prefix) == NULL) {
        return;
    }
    names[0] = sc->r_cookie_at;
    names[1] = sc->r_cookie_rt;
    names[2] = sc->r_cookie_flow;
    names[3] = sc->r_cookie_logout;
    if (af_cookie_remove(&out, &removed, hdr, names, 4, r->pool) != APR_SUCCESS) {
        apr_table_unset(r->headers_in, "Cookie"); /* over the limits: forward none */
        return;
    }
    if (removed == 0) {
        return;
    }
    if (out == NULL) {
        apr_table_unset(r->headers_in, "Cookie");
    } else {
        apr_table_setn(r->headers_in, "Cookie", out);
    }
}

static int value_ok(const char *v, apr_size_t len)
{
    apr_size_t i;

    if (len > AF_EXPORT_MAX_VALUE) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) v[i];

        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static const char *scalar_text(const json_t *j, apr_pool_t *p)
{
    double d;

    switch (json_typeof(j)) {
    case JSON_STRING:
        return json_string_value(j);
    case JSON_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t) json_integer_value(j));
    case JSON_REAL:
        d = json_real_value(j);
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double) (apr_int64_t) d) {
            return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t) d);
        }
        return apr_psprintf(p, "%.17g", d);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return NULL;
    }
}

const char *af_export_value(const json_t *j, const char *sep, apr_pool_t *p)
{
    const char *v;
    apr_size_t i, n;

    if (j == NULL || json_is_null(j)) {
        return NULL;
    }
    if (json_is_array(j)) {
        const char **parts;
        int simple = 1;

        n = json_array_size(j);
        parts = apr_palloc(p, sizeof(*parts) * (n + 1));
        for (i = 0; i < n && simple; i++) {
            parts[i] = scalar_text(json_array_get(j, i), p);
            simple = parts[i] != NULL && strstr(parts[i], sep) == NULL;
        }
        if (simple) {
            struct iovec *vec = apr_palloc(p, sizeof(*vec) * (2 * n + 1));
            apr_size_t k = 0;

            for (i = 0; i < n; i++) {
                if (i > 0) {
                    vec[k].iov_base = (void *) sep;
                    vec[k++].iov_len = strlen(sep);
                }
                vec[k].iov_base = (void *) parts[i];
                vec[k++].iov_len = strlen(parts[i]);
            }
            v = k ? apr_pstrcatv(p, vec, k, NULL) : "";
        } else {
            v = af_json_dump(j, p); /* nested or ambiguous members: JSON text */
        }
    } else if (json_is_object(j)) {
        v = af_json_dump(j, p);
    } else {
        v = scalar_text(j, p);
    }
    if (v == NULL || !value_ok(v, strlen(v))) {
        return NULL;
    }
    return v;
}

static void set_env(request_rec *r, const char *name, const char *v)
{
    if (v != NULL) {
        apr_table_setn(r->subprocess_env, name, v);
    } else {
        apr_table_unset(r->subprocess_env, name);
    }
}

static const char *claim_env_name(const char *claim, apr_pool_t *p)
{
    apr_size_t n = strlen(claim), i;
    char *out;

    if (n == 0 || n > 64) {
        return NULL;
    }
    out = apr_palloc(p, 15 + n + 1);
    memcpy(out, "AUTHFLOW_CLAIM_", 15);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) claim[i];

        out[15 + i] = apr_isalnum(c) && c < 0x80 ? (char) apr_toupper(c) : '_';
    }
    out[15 + n] = '\0';
    return out;
}

void af_export_claims(request_rec *r, const af_dir_conf_t *dc, const json_t *claims,
                      const char *issuer)
{
    const char *key, *v;
    json_t *val, *exp;
    int i, count = 0;

    set_env(r, "REMOTE_USER", r->user);
    set_env(r, "AUTHFLOW_SUB", af_export_value(json_object_get(claims, "sub"), ",", r->pool));
    set_env(r, "AUTHFLOW_ISSUER", issuer);
    set_env(r, "AUTHFLOW_PROVIDER", af_export_value(json_object_get(claims, "idp"), ",", r->pool));
    exp = json_object_get(claims, "exp");
    set_env(r, "AUTHFLOW_EXPIRES",
            json_is_number(exp)
                ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t) json_number_value(exp))
                : NULL);
    if (af_dir_export_all(dc)) {
        json_object_foreach((json_t *) claims, key, val)
        {
            const char *name;

            if (++count > AF_EXPORT_MAX_CLAIMS) {
                break;
            }
            name = claim_env_name(key, r->pool);
            v = af_export_value(val, ",", r->pool);
            if (name != NULL && v != NULL) {
                apr_table_setn(r->subprocess_env, name, v);
            }
        }
    }
    for (i = 0; dc->exports != NULL && i < dc->exports->nelts; i++) {
        const af_export_t *e = &APR_ARRAY_IDX(dc->exports, i, af_export_t);

        v = af_export_value(af_json_path(claims, e->path), e->sep, r->pool);
        if (e->to_header) {
            /* set replaces whatever is there; absent claim: no header at all */
            if (v != NULL) {
                apr_table_setn(r->headers_in, e->name, v);
            } else {
                apr_table_unset(r->headers_in, e->name);
            }
        } else {
            set_env(r, e->name, v);
        }
    }
}
