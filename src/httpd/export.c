/* export.c -- what reaches the backend: inbound spoofing headers and our cookies removed,
 * the claims the core lists (af_session_exports: one table) set as environment variables
 * and request headers.
 *
 * Env (r->subprocess_env) reaches CGI, FastCGI/SCGI/AJP via mod_proxy_*, mod_rewrite and
 * mod_headers (`%{AUTHFLOW_CLAIM_EMAIL}e`); headers (r->headers_in) reach mod_proxy_http.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_log.h>

#include "common/af_cookie.h"
#include "httpd/af_httpd.h"

APLOG_USE_MODULE(authflow);

void af_export_scrub(request_rec *r, const af_srv_conf_t *sc)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *) arr->elts;
    const char *drop[16];
    int i, n = 0;

    for (i = 0; i < arr->nelts && n < (int) (sizeof(drop) / sizeof(drop[0])); i++) {
        if (e[i].key != NULL && af_config_is_ours(sc, e[i].key)) {
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

void af_export_strip_cookies(request_rec *r, const af_site_t *site)
{
    const char *names[4], *hdr = apr_table_get(r->headers_in, "Cookie"), *out = NULL;
    int removed = 0;

    if (hdr == NULL || site->cookie_at == NULL || strstr(hdr, site->cookie_prefix) == NULL) {
        return;
    }
    names[0] = site->cookie_at;
    names[1] = site->cookie_rt;
    names[2] = site->cookie_flow;
    names[3] = site->cookie_logout;
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

void af_export_apply(request_rec *r, const apr_array_header_t *kvs)
{
    int i;

    for (i = 0; i < kvs->nelts; i++) {
        const af_export_kv_t *kv = &APR_ARRAY_IDX(kvs, i, af_export_kv_t);
        apr_table_t *t = kv->to_header ? r->headers_in : r->subprocess_env;

        /* set replaces whatever is there; no value: nothing at all by that name */
        if (kv->value != NULL) {
            apr_table_setn(t, kv->name, kv->value);
        } else {
            apr_table_unset(t, kv->name);
        }
    }
}
