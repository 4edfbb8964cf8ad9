/* session_page.c -- what the handler renders: templates with escaped placeholders and the
 * error page (D11, H11).  Templates are plain HTML with {{name}} placeholders
 * (htdocs/chooser.html, error.html, logout.html; AuthFlowTemplateDir replaces the built-in
 * copies below).  Every value is HTML-escaped before it is inserted; {{providers}},
 * {{idp_error}} and {{form}} are fragments built from escaped parts.  Nothing secret is
 * ever rendered. */
#include <string.h>
#include <sys/uio.h>

#include <apr_strings.h>

#include "common/af_json.h"
#include "common/af_url.h"
#include "session/af_session.h"

const char af_session_tpl_chooser[] =
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

const char af_session_tpl_error[] =
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

const char af_session_tpl_logout[] =
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

const char af_session_tpl_password[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Sign in</title>\n"
    "<style>body{font-family:sans-serif;max-width:30em;margin:4em auto;padding:0 1em}"
    "label,input,button{display:block;margin:.3em 0}input{width:100%;font-size:1.1em}"
    ".error{color:#a00}</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>Sign in</h1>\n"
    "{{error}}"
    "<form method=\"post\" action=\"{{action}}\">\n"
    "<input type=\"hidden\" name=\"flow\" value=\"{{flow}}\">\n"
    "<input type=\"hidden\" name=\"return_to\" value=\"{{return_to}}\">\n"
    "<label for=\"username\">Username</label>\n"
    "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "
    "autocapitalize=\"none\" spellcheck=\"false\" required autofocus>\n"
    "<label for=\"password\">Password</label>\n"
    "<input id=\"password\" name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\" required>\n"
    "<button type=\"submit\">Sign in</button>\n"
    "</form>\n"
    "</body>\n"
    "</html>\n";

const char *af_session_template(const char *tpl, const char *const *names, const char *const *vals,
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

static const char *title_of(int status)
{
    switch (status) {
    case 400:
        return "Sign-in failed";
    case 401:
        return "Sign-in could not be verified";
    case 404:
        return "Not found";
    case 403:
        return "Sign-in refused";
    case 405:
        return "Method not allowed";
    case 413:
        return "Request too large";
    case 415:
        return "Unsupported request";
    case 429:
        return "Too many failed sign-ins";
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
    case 403:
        return "This sign-in request was refused.";
    case 405:
        return "This address does not accept this request method.";
    case 413:
        return "The request was larger than this address accepts.";
    case 415:
        return "This address only accepts a sign-in form.";
    case 429:
        return "There were too many failed sign-ins. Please wait and try again later.";
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

const char *af_session_error_page(const af_site_t *site, int status, const char *reason,
                                  const char *idp_error, apr_pool_t *p)
{
    static const char *const names[] = {"status", "title",     "message",
                                        "reason", "idp_error", "login_url"};
    const char *vals[6];

    vals[0] = apr_itoa(p, status);
    vals[1] = title_of(status);
    vals[2] = message_of(status);
    vals[3] = af_html_escape(reason, p);
    vals[4] = idp_error == NULL ? ""
                                : apr_pstrcat(p, "<p>The identity provider answered: <code>",
                                              af_html_escape(idp_error, p), "</code></p>\n", NULL);
    vals[5] = af_html_escape(
        apr_pstrcat(p, site->base_url ? site->base_url : "", site->endpoint, "/login", NULL), p);
    return af_session_template(site->tpl_error ? site->tpl_error : af_session_tpl_error, names,
                               vals, 6, p);
}

void af_session_error(af_effects_t *eff, const af_site_t *site, apr_status_t reason,
                      const char *idp_error, apr_pool_t *p)
{
    eff->status = af_session_status(reason);
    eff->reason = reason;
    eff->body_kind = AF_BODY_HTML;
    eff->body = af_session_error_page(site, eff->status, af_strerror(reason), idp_error, p);
    if (eff->status == 503 && eff->retry_after == 0) {
        eff->retry_after = AF_SESSION_RETRY_AFTER;
    }
}

void af_session_json_error(af_effects_t *eff, apr_status_t reason, apr_pool_t *p)
{
    json_t *j = af_json_pool_own(json_pack("{s:s}", "error", af_strerror(reason)), p);

    eff->status = af_session_status(reason);
    eff->reason = reason;
    eff->body_kind = AF_BODY_JSON;
    eff->body = j ? af_json_dump(j, p) : NULL;
    if (eff->body == NULL) {
        eff->body = "{\"error\":\"internal_error\"}";
    }
    if (eff->status == 503 && eff->retry_after == 0) {
        eff->retry_after = AF_SESSION_RETRY_AFTER;
    }
}
