/* login_page.c -- what the handler renders: templates with escaped placeholders, the
 * headers of every response (D12), the error page, redirects.
 *
 * Templates are plain HTML with {{name}} placeholders (htdocs/chooser.html and
 * htdocs/error.html; AuthFlowTemplateDir replaces the built-in copies below).  Every
 * value is HTML-escaped before it is inserted; {{providers}} and {{idp_error}} are
 * fragments built here from escaped parts.  Nothing secret is ever rendered.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>

#include "httpd/af_config.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

const char af_login_tpl_chooser[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Sign in</title>\n"
    "<style>body{font-family:sans-serif;max-width:30em;margin:4em auto;padding:0 1em}"
    "li{margin:.5em 0}a{font-size:1.1em}</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>Sign in</h1>\n"
    "<p>Choose how you want to sign in:</p>\n"
    "<ul>\n"
    "{{providers}}"
    "</ul>\n"
    "</body>\n"
    "</html>\n";

const char af_login_tpl_error[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{status}} {{title}}</title>\n"
    "<style>body{font-family:sans-serif;max-width:30em;margin:4em auto;padding:0 1em}"
    "code{background:#eee;padding:0 .2em}</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>{{title}}</h1>\n"
    "<p>{{message}}</p>\n"
    "{{idp_error}}"
    "<p>Reason: <code>{{reason}}</code> ({{status}})</p>\n"
    "<p><a href=\"{{login_url}}\">Sign in again</a></p>\n"
    "</body>\n"
    "</html>\n";

const char af_login_tpl_logout[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{title}}</title>\n"
    "<style>body{font-family:sans-serif;max-width:30em;margin:4em auto;padding:0 1em}</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>{{title}}</h1>\n"
    "<p>{{message}}</p>\n"
    "{{form}}"
    "</body>\n"
    "</html>\n";

const char *af_login_html_escape(const char *s, apr_pool_t *p)
{
    apr_size_t n = 0, i;
    const char *c;
    char *out, *w;

    if (s == NULL) {
        return "";
    }
    for (c = s; *c; c++) {
        n += 6;
    }
    out = w = apr_palloc(p, n + 1);
    for (i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char) s[i];

        switch (ch) {
        case '&':
            memcpy(w, "&amp;", 5), w += 5;
            break;
        case '<':
            memcpy(w, "&lt;", 4), w += 4;
            break;
        case '>':
            memcpy(w, "&gt;", 4), w += 4;
            break;
        case '"':
            memcpy(w, "&quot;", 6), w += 6;
            break;
        case '\'':
            memcpy(w, "&#39;", 5), w += 5;
            break;
        default:
            *w++ = (ch < 0x20 || ch == 0x7f) ? '?' : (char) ch;
        }
    }
    *w = '\0';
    return out;
}

const char *af_login_url_encode(const char *s, apr_pool_t *p)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = strlen(s), i;
    char *out = apr_palloc(p, 3 * n + 1), *w = out;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c < 0x80 && (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')) {
            *w++ = (char) c;
        } else {
            *w++ = '%', *w++ = hex[c >> 4], *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return out;
}

const char *af_login_template(const char *tpl, const char *const *names, const char *const *vals,
                              int n, apr_pool_t *p)
{
    struct iovec parts[256];
    int np = 0, i;
    const char *c = tpl, *open, *close;
    apr_size_t len;

    while ((open = strstr(c, "{{")) != NULL && np < 250) {
        close = strstr(open + 2, "}}");
        if (close == NULL) {
            break;
        }
        parts[np].iov_base = (void *) c, parts[np++].iov_len = (apr_size_t) (open - c);
        len = (apr_size_t) (close - open - 2);
        for (i = 0; i < n; i++) {
            if (strlen(names[i]) == len && strncmp(open + 2, names[i], len) == 0) {
                parts[np].iov_base = (void *) vals[i], parts[np++].iov_len = strlen(vals[i]);
                break;
            }
        }
        c = close + 2;
    }
    parts[np].iov_base = (void *) c, parts[np++].iov_len = strlen(c);
    return apr_pstrcatv(p, parts, np, NULL);
}

void af_login_std_headers(request_rec *r)
{
    apr_table_t *t = r->headers_out;

    apr_table_setn(t, "Cache-Control", "no-store");
    apr_table_setn(t, "Pragma", "no-cache");
    apr_table_setn(t, "Referrer-Policy", "no-referrer");
    apr_table_setn(t, "X-Frame-Options", "DENY");
    apr_table_setn(t, "X-Content-Type-Options", "nosniff");
    apr_table_setn(t, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                   "base-uri 'none'; form-action 'self'");
}

int af_login_send(request_rec *r, int status, const char *ctype, const char *body)
{
    apr_size_t len = strlen(body);

    af_login_std_headers(r);
    r->status = status;
    ap_set_content_type(r, ctype);
    ap_set_content_length(r, (apr_off_t) len);
    if (!r->header_only && len > 0) {
        ap_rwrite(body, (int) len, r);
    }
    return OK;
}

int af_login_redirect(request_rec *r, const char *url)
{
    af_login_std_headers(r);
    apr_table_setn(r->headers_out, "Location", url);
    r->status = HTTP_MOVED_TEMPORARILY;
    ap_set_content_length(r, 0);
    return OK;
}

static const char *title_of(int status)
{
    switch (status) {
    case 400:
        return "Sign-in failed";
    case 401:
        return "Sign-in could not be verified";
    case 404:
        return "Not found";
    case 405:
        return "Method not allowed";
    case 501:
        return "Not implemented";
    case 502:
        return "Identity provider unavailable";
    case 503:
        return "Sign-in temporarily unavailable";
    case 504:
        return "Identity provider timed out";
    default:
        return "Sign-in error";
    }
}

static const char *message_of(int status)
{
    switch (status) {
    case 400:
        return "The sign-in request was invalid, expired or already used. Please start again.";
    case 401:
        return "The answer of the identity provider could not be verified.";
    case 404:
        return "There is nothing at this address.";
    case 405:
        return "This address does not accept this request method.";
    case 501:
        return "This function is not available yet.";
    case 502:
        return "The identity provider could not be reached or answered with an error.";
    case 503:
        return "Please try again in a moment.";
    case 504:
        return "The identity provider did not answer in time.";
    default:
        return "Something went wrong while signing you in.";
    }
}

int af_login_error_page(request_rec *r, const af_srv_conf_t *sc, int status, const char *reason,
                        const char *idp_error)
{
    static const char *const names[] = {"status", "title",     "message",
                                        "reason", "idp_error", "login_url"};
    const char *vals[6], *tpl, *login;
    const af_login_conf_t *lc = sc->login;

    login =
        apr_pstrcat(r->pool, sc->r_base_url ? sc->r_base_url : "", sc->r_endpoint, "/login", NULL);
    vals[0] = apr_itoa(r->pool, status);
    vals[1] = title_of(status);
    vals[2] = message_of(status);
    vals[3] = af_login_html_escape(reason, r->pool);
    vals[4] = idp_error == NULL
                  ? ""
                  : apr_pstrcat(r->pool, "<p>The identity provider answered: <code>",
                                af_login_html_escape(idp_error, r->pool), "</code></p>\n", NULL);
    vals[5] = af_login_html_escape(login, r->pool);
    tpl = lc && lc->r_tpl_error ? lc->r_tpl_error : af_login_tpl_error;
    return af_login_send(r, status, "text/html; charset=utf-8",
                         af_login_template(tpl, names, vals, 6, r->pool));
}
