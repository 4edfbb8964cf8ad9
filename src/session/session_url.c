/* session_url.c -- return_to (D08), the gate's login URL, same-origin (F07/F08), navigation. */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "common/af_form.h"
#include "common/af_url.h"
#include "session/af_session.h"

static int origin_allowed(const af_site_t *site, const char *origin)
{
    int i;

    if (site->base_url != NULL && strcasecmp(origin, site->base_url) == 0) {
        return 1;
    }
    for (i = 0; site->return_to != NULL && i < site->return_to->nelts; i++) {
        if (strcasecmp(origin, APR_ARRAY_IDX(site->return_to, i, const char *)) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *af_session_return_to(const af_site_t *site, const char *rt, apr_pool_t *p)
{
    const char *c, *origin, *path;

    if (rt == NULL || *rt == '\0' || strlen(rt) > AF_SESSION_RETURN_TO_MAX) {
        return "/";
    }
    for (c = rt; *c; c++) {
        if ((unsigned char) *c <= 0x20 || (unsigned char) *c == 0x7f || *c == '\\') {
            return "/";
        }
    }
    if (rt[0] == '/') {
        return rt[1] == '/' ? "/" : rt;
    }
    if ((origin = af_url_origin(rt, p)) == NULL || !origin_allowed(site, origin)) {
        return "/";
    }
    path = rt + strlen(origin);
    return *path == '/' ? rt
                        : apr_pstrcat(p, apr_pstrmemdup(p, rt, strlen(origin)), "/", path, NULL);
}

const char *af_session_return_url(const af_site_t *site, const char *rt, apr_pool_t *p)
{
    const char *base = site->base_url ? site->base_url : "";

    if (rt == NULL || rt[0] != '/' || rt[1] == '/' || rt[1] == '\\') {
        return rt != NULL && rt[0] != '/' ? rt : apr_pstrcat(p, base, "/", NULL);
    }
    return apr_pstrcat(p, base, rt, NULL);
}

int af_session_same_origin(const af_site_t *site, const char *origin, const char *sec_fetch_site)
{
    const char *base = site->base_url, *host;
    apr_size_t n;

    if (sec_fetch_site != NULL && strcmp(sec_fetch_site, "same-origin") != 0) {
        return 0;
    }
    if (origin == NULL || strcmp(origin, "null") == 0) {
        /* a page with Referrer-Policy no-referrer makes browsers send "Origin: null" */
        return sec_fetch_site != NULL;
    }
    if (base == NULL || (host = strstr(base, "://")) == NULL) {
        return 0;
    }
    host += 3;
    n = (apr_size_t) (host - base) + strcspn(host, "/?#"); /* the origin of the base URL */
    return strlen(origin) == n && strncasecmp(origin, base, n) == 0;
}

int af_session_is_navigation(const af_req_in_t *in)
{
    if (in->sec_fetch_mode != NULL) {
        return strcasecmp(in->sec_fetch_mode, "navigate") == 0;
    }
    if (in->sec_fetch_dest != NULL || in->sec_fetch_site != NULL) {
        return 0;
    }
    return in->accept != NULL && strstr(in->accept, "text/html") != NULL;
}

int af_session_is_preflight(const af_req_in_t *in)
{
    return in->method != NULL && strcmp(in->method, "OPTIONS") == 0 && in->origin != NULL &&
           in->ac_request_method != NULL;
}

int af_session_is_websocket(const af_req_in_t *in)
{
    return (in->upgrade != NULL && strcasecmp(in->upgrade, "websocket") == 0) ||
           (in->sec_fetch_mode != NULL && strcasecmp(in->sec_fetch_mode, "websocket") == 0);
}

/* A token in the query (which the gate ignores, D13) is not copied into return_to. */
static int is_token_param(const char *b, apr_size_t n, apr_pool_t *p)
{
    static const char *const names[] = {"access_token", "id_token", "refresh_token", "code"};
    const char *eq = memchr(b, '=', n);
    char *name = af_form_decode(b, eq != NULL ? (apr_size_t) (eq - b) : n, p);
    apr_size_t i;

    for (i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *drop_token_params(const char *u, apr_pool_t *p)
{
    const char *q = strchr(u, '?'), *b, *e;
    char *out, *w;
    int kept = 0;

    if (q == NULL) {
        return u;
    }
    out = w = apr_palloc(p, strlen(u) + 1);
    memcpy(w, u, (apr_size_t) (q - u));
    w += q - u;
    for (b = q + 1; *b != '\0'; b = *e ? e + 1 : e) {
        e = b + strcspn(b, "&");
        if (e == b || is_token_param(b, (apr_size_t) (e - b), p)) {
            continue;
        }
        *w++ = kept++ ? '&' : '?';
        memcpy(w, b, (apr_size_t) (e - b));
        w += e - b;
    }
    *w = '\0';
    return out;
}

static int safe_path(const char *u)
{
    return u != NULL && u[0] == '/' && u[1] != '/' && u[1] != '\\';
}

const char *af_session_request_target(const af_req_in_t *in, apr_pool_t *p)
{
    const char *u = in->orig_unparsed_uri;

    if (!safe_path(u)) {
        u = in->orig_uri;
        if (!safe_path(u)) {
            return "/";
        }
        if (in->orig_args != NULL) {
            u = apr_pstrcat(p, u, "?", in->orig_args, NULL);
        }
    }
    if (strchr(u, '#') != NULL) {
        u = apr_pstrmemdup(p, u, (apr_size_t) (strchr(u, '#') - u));
    }
    return drop_token_params(u, p);
}

const char *af_session_login_url(const af_site_t *site, const char *login, const char *return_to,
                                 apr_pool_t *p)
{
    const char *base = site->base_url ? site->base_url : "", *url;

    if (login == NULL) {
        url = apr_pstrcat(p, base, site->endpoint, "/login", NULL);
    } else if (strstr(login, "://") != NULL) {
        url = login;
    } else if (login[0] == '/') {
        url = apr_pstrcat(p, base, login, NULL);
    } else {
        url =
            apr_pstrcat(p, base, site->endpoint, "/login?provider=", af_url_encode(login, p), NULL);
    }
    return apr_pstrcat(p, url, strchr(url, '?') ? "&" : "?",
                       "return_to=", af_url_encode(return_to, p), NULL);
}

const char *af_session_login_url_stepup(const af_site_t *site, const char *login,
                                        const char *return_to, apr_int64_t max_age,
                                        const char *acr_values, apr_pool_t *p)
{
    const char *url = af_session_login_url(site, login, return_to, p);

    if (max_age >= 0) {
        url = apr_psprintf(p, "%s&max_age=%" APR_INT64_T_FMT, url, max_age);
    }
    if (acr_values != NULL) {
        url = apr_pstrcat(p, url, "&acr_values=", af_url_encode(acr_values, p), NULL);
    }
    return url;
}
