/* respond.c -- the glue's two translations: a request_rec into the session core's plain
 * request values, and the core's effects back onto the response (status, headers, cookies,
 * body).  Nothing here decides anything. */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_strings.h>
#include <http_connection.h>
#include <http_log.h>
#include <http_protocol.h>

#include "common/af_log.h"
#include "httpd/respond.h"

APLOG_USE_MODULE(authflow);

void af_req_read(af_req_in_t *in, request_rec *r, const af_site_t *site)
{
    const request_rec *o = r;

    memset(in, 0, sizeof(*in));
    in->now = apr_time_sec(r->request_time) + site->clock_offset;
    in->method = r->method;
    in->cookie = apr_table_get(r->headers_in, "Cookie");
    in->authorization = apr_table_get(r->headers_in, "Authorization");
    in->origin = apr_table_get(r->headers_in, "Origin");
    in->sec_fetch_site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    in->sec_fetch_mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");
    in->sec_fetch_dest = apr_table_get(r->headers_in, "Sec-Fetch-Dest");
    in->accept = apr_table_get(r->headers_in, "Accept");
    in->ac_request_method = apr_table_get(r->headers_in, "Access-Control-Request-Method");
    in->upgrade = apr_table_get(r->headers_in, "Upgrade");
    in->content_type = apr_table_get(r->headers_in, "Content-Type");
    in->query = r->args;
    in->content_type = apr_table_get(r->headers_in, "Content-Type");
    in->subrequest = r->main != NULL;
    in->client_ip = r->useragent_ip; /* mod_remoteip's, when it runs */
    in->derived = r->main != NULL || r->prev != NULL;
    while (o->prev != NULL) {
        o = o->prev;
    }
    while (o->main != NULL) {
        o = o->main;
    }
    in->orig_unparsed_uri = o->unparsed_uri;
    in->orig_uri = o->uri;
    in->orig_args = o->args;
}

/* ---- after the response: a pending rotation was delivered -------------------------------- */

typedef struct delivery_t {
    conn_rec *c;
    const af_site_t *site;
    const char *rt; /* the presented (old) refresh token, in r->pool */
} delivery_t;

/* r->pool is destroyed after the response went out (after log_transaction): the new cookies
 * reached the client then, unless the connection broke on the way. */
static apr_status_t delivered(void *baton)
{
    delivery_t *d = baton;
    apr_status_t rv;

    if (d->c->aborted) {
        return APR_SUCCESS; /* never delivered: the old token keeps its successor */
    }
    rv = af_session_delivered(d->site, d->rt, apr_time_sec(apr_time_now()) + d->site->clock_offset);
    if (rv != APR_SUCCESS) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, d->c,
                      "AF09008: refresh: cannot record the delivery of a rotation: %s",
                      af_strerror(rv));
    }
    return APR_SUCCESS;
}

static void when_delivered(request_rec *r, const af_site_t *site, const char *rt)
{
    delivery_t *d = apr_palloc(r->pool, sizeof(*d));

    d->c = r->connection;
    d->site = site;
    d->rt = rt;
    apr_pool_cleanup_register(r->pool, d, delivered, apr_pool_cleanup_null);
}

/* ---- effects --------------------------------------------------------------------------------- */

static void set_cookies(request_rec *r, const af_effects_t *eff, apr_table_t *t)
{
    int i;

    for (i = 0; i < eff->cookies->nelts; i++) {
        apr_table_addn(t, "Set-Cookie", APR_ARRAY_IDX(eff->cookies, i, const char *));
    }
}

static const char *content_type(const af_effects_t *eff)
{
    if (eff->content_type != NULL) {
        return eff->content_type;
    }
    return eff->body_kind == AF_BODY_JSON ? "application/json" : "text/html; charset=utf-8";
}

static void write_body(request_rec *r, const af_effects_t *eff)
{
    apr_size_t len = eff->body ? strlen(eff->body) : 0;

    r->status = eff->status;
    r->status_line = NULL;
    if (eff->body_kind == AF_BODY_NONE) {
        ap_set_content_length(r, 0);
        return;
    }
    ap_set_content_type(r, content_type(eff));
    ap_set_content_length(r, (apr_off_t) len);
    if (!r->header_only && len > 0) {
        ap_rwrite(eff->body, (int) len, r);
    }
}

void af_respond_cookies(request_rec *r, const af_site_t *site, const af_effects_t *eff)
{
    if (eff->cookies->nelts > 0) {
        set_cookies(r, eff, eff->cookies_always ? r->err_headers_out : r->headers_out);
        /* a response that carries login cookies is never stored by a shared cache */
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    }
    if (eff->delivered_rt != NULL) {
        when_delivered(r, site, eff->delivered_rt);
    }
}

void af_effects_read(af_effects_t *eff, request_rec *r, const af_site_t *site)
{
    eff->lang = af_session_language(site, apr_table_get(r->headers_in, "Accept-Language"));
    eff->request_id = apr_table_get(r->subprocess_env, "UNIQUE_ID"); /* mod_unique_id's */
}

/* The headers of a body we write ourselves (the handler's pages and answers, the gate's
 * error pages): no framing, no sniffing, no referrer, a CSP that allows only the page's own
 * styles (and the nonce'd script of the re-post page), one cache entry per language. */
static void page_headers(apr_table_t *t, const af_effects_t *eff, apr_pool_t *p)
{
    apr_table_setn(t, "Referrer-Policy",
                   eff->referrer_policy ? eff->referrer_policy : "no-referrer");
    apr_table_setn(t, "X-Frame-Options", "DENY");
    apr_table_setn(t, "X-Content-Type-Options", "nosniff");
    apr_table_setn(
        t, "Content-Security-Policy",
        eff->csp ? eff->csp
                 : af_session_page_csp(eff->body_kind == AF_BODY_HTML ? eff->body : NULL, NULL, p));
    if (eff->body_kind == AF_BODY_HTML) {
        apr_table_merge(t, "Vary", "Accept-Language");
    }
}

int af_respond_handler(request_rec *r, const af_effects_t *eff)
{
    apr_table_t *t = r->headers_out;

    if (eff->cookies->nelts > 0) {
        set_cookies(r, eff, t);
    }
    apr_table_setn(t, "Cache-Control", eff->cache_control ? eff->cache_control : "no-store");
    if (eff->cache_control == NULL) {
        apr_table_setn(t, "Pragma", "no-cache");
    }
    page_headers(t, eff, r->pool);
    if (eff->location != NULL) {
        apr_table_setn(t, "Location", eff->location);
    }
    if (eff->allow != NULL) {
        apr_table_setn(t, "Allow", eff->allow);
    }
    if (eff->retry_after > 0) {
        apr_table_setn(t, "Retry-After", apr_itoa(r->pool, eff->retry_after));
    }
    write_body(r, eff);
    return OK;
}

int af_respond_gate(request_rec *r, const af_effects_t *eff)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (eff->retry_after > 0) {
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, eff->retry_after));
    }
    if (eff->location != NULL) {
        apr_table_setn(r->headers_out, "Location", eff->location);
        return eff->status; /* httpd writes the redirect */
    }
    if (eff->www_authenticate != NULL) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", eff->www_authenticate);
    }
    if (r->main != NULL || eff->body == NULL) {
        return eff->status; /* a subrequest writes no body */
    }
    page_headers(r->err_headers_out, eff, r->pool); /* our body, not the backend's */
    if (ap_discard_request_body(r) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    write_body(r, eff);
    return DONE;
}
