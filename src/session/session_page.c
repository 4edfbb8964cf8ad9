/* session_page.c -- what the handler renders: templates with escaped placeholders and the
 * error page (D11, H11).  Templates are plain HTML with {{name}} placeholders
 * (htdocs/ and htdocs/ko/: chooser, error, logout, password, denied, repost, signedin;
 * AuthFlowTemplateDir replaces the built-in copies of session_tpl.c).  Every value is
 * HTML-escaped before it is inserted; {{providers}}, {{idp_error}}, {{form}} and {{fields}}
 * are fragments built from escaped parts.  Nothing secret is ever rendered. */
#include <string.h>
#include <sys/uio.h>

#include <apr_strings.h>

#include <openssl/rand.h>

#include "common/af_b64.h"
#include "common/af_json.h"
#include "common/af_log.h"
#include "http/af_http_errors.h"
#include "oidc/af_oidc_errors.h"
#include "policy/af_policy_errors.h"
#include "session/af_session_errors.h"
#include "store/af_store_errors.h"
#include "token/af_token_errors.h"
#include "common/af_url.h"
#include "session/af_session.h"

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

/* A sentence per reason family: what happened and what to do, in lang. */
enum {
    AF_PT_GENERIC = 0,
    AF_PT_IDP_DOWN,
    AF_PT_IDP_TIMEOUT,
    AF_PT_CANCELLED,
    AF_PT_EXPIRED,
    AF_PT_POLICY,
    AF_PT_STORE,
    AF_PT_THROTTLED,
    AF_PT_BAD_REQUEST,
    AF_PT_NOT_FOUND
};

typedef struct {
    const char *title[AF_LANG_N];
    const char *message[AF_LANG_N];
} page_text_t;

static const page_text_t texts[] = {
    [AF_PT_GENERIC] = {{"Sign-in error", "로그인 오류"},
                       {"Something went wrong while signing you in. Please try again.",
                        "로그인하는 동안 문제가 생겼습니다. 다시 시도해 주세요."}},
    [AF_PT_IDP_DOWN] = {{"Sign-in service unavailable", "로그인 서비스에 연결할 수 없음"},
                        {"The sign-in service could not be reached or answered with an error. "
                         "Please try again in a few minutes.",
                         "로그인 서비스에 연결할 수 없거나 오류가 발생했습니다. 잠시 후 다시 "
                         "시도해 주세요."}},
    [AF_PT_IDP_TIMEOUT] = {{"Sign-in service timed out", "로그인 서비스 응답 시간 초과"},
                           {"The sign-in service did not answer in time. Please try again.",
                            "로그인 서비스가 제때 응답하지 않았습니다. 다시 시도해 주세요."}},
    [AF_PT_CANCELLED] = {{"Sign-in cancelled", "로그인 취소됨"},
                         {"Sign-in was cancelled or not allowed at the sign-in service. You can "
                          "try again and allow access.",
                          "로그인 서비스에서 로그인이 취소되었거나 허용되지 않았습니다. 다시 "
                          "시도해 주세요."}},
    [AF_PT_EXPIRED] = {{"This sign-in link has expired", "로그인 링크가 만료됨"},
                       {"The sign-in link expired or was already used. Please start again.",
                        "로그인 링크가 만료되었거나 이미 사용되었습니다. 처음부터 다시 "
                        "시도해 주세요."}},
    [AF_PT_POLICY] = {{"Access not allowed", "접근이 허용되지 않음"},
                      {"You signed in, but this account is not allowed to use this site.",
                       "로그인했지만 이 계정으로는 이 사이트를 사용할 수 없습니다."}},
    [AF_PT_STORE] = {{"Sign-in temporarily unavailable", "일시적으로 로그인할 수 없음"},
                     {"Sign-in is temporarily unavailable. Please try again in a moment.",
                      "일시적으로 로그인할 수 없습니다. 잠시 후 다시 시도해 주세요."}},
    [AF_PT_THROTTLED] = {{"Too many attempts", "시도 횟수 초과"},
                         {"There were too many failed sign-ins. Please wait and try again later.",
                          "로그인 실패가 너무 많습니다. 잠시 기다린 뒤 다시 시도해 주세요."}},
    [AF_PT_BAD_REQUEST] = {{"Sign-in failed", "로그인 실패"},
                           {"The sign-in request was invalid. Please start again.",
                            "로그인 요청이 올바르지 않습니다. 처음부터 다시 시도해 주세요."}},
    [AF_PT_NOT_FOUND] = {{"Not found", "찾을 수 없음"},
                         {"There is nothing at this address.", "이 주소에는 아무것도 없습니다."}},
};

int af_session_page_family(int status, apr_status_t reason, const char *idp_error)
{
    int t = AF_PT_GENERIC;

    if (reason == AF_EOIDC_IDP_ERROR) {
        /* access_denied (RFC 6749 4.1.2.1), Apple's user_cancelled_authorize */
        t = idp_error != NULL && (strcmp(idp_error, "access_denied") == 0 ||
                                  strcmp(idp_error, "user_cancelled_authorize") == 0)
                ? AF_PT_CANCELLED
                : AF_PT_IDP_DOWN;
    } else if (reason == AF_EOIDC_IDP_TIMEOUT || reason == AF_EHTTP_TIMEOUT) {
        t = AF_PT_IDP_TIMEOUT;
    } else if (reason == AF_EOIDC_IDP_UNREACHABLE || reason == AF_EOIDC_IDP_FAILED ||
               reason == AF_EOIDC_IDP_BUSY || reason == AF_EOIDC_IDP_UNAVAILABLE ||
               reason == AF_EOIDC_PROFILE_RESULT) {
        t = AF_PT_IDP_DOWN;
    } else if (reason == AF_EOIDC_STATE_MISSING || reason == AF_EOIDC_STATE ||
               reason == AF_EOIDC_FLOW || reason == AF_ESTORE_REPLAY ||
               reason == AF_ESESS_LOGIN_FLOW || reason == AF_ETOKEN_EXPIRED) {
        t = AF_PT_EXPIRED;
    } else if (reason == AF_EPOLICY_DENIED || reason == AF_ESESS_LOGIN_FAILED) {
        t = AF_PT_POLICY;
    } else if (af_session_store_failed(reason) || reason == AF_ESESS_AUTHN_ERROR) {
        t = AF_PT_STORE;
    } else if (reason == AF_ESESS_THROTTLED) {
        t = AF_PT_THROTTLED;
    }
    if (t == AF_PT_GENERIC) { /* by status, when the reason has no family of its own */
        t = status == 404   ? AF_PT_NOT_FOUND
            : status == 429 ? AF_PT_THROTTLED
            : status == 502 ? AF_PT_IDP_DOWN
            : status == 504 ? AF_PT_IDP_TIMEOUT
            : status == 503 ? AF_PT_STORE
            : status == 403 ? AF_PT_POLICY
            : status == 400 ? AF_PT_BAD_REQUEST
                            : AF_PT_GENERIC;
    }
    return t;
}

const char *af_session_error_page(const af_site_t *site, af_lang_t lang, int status,
                                  apr_status_t reason, const char *idp_error, const char *return_to,
                                  const char *request_id, apr_pool_t *p)
{
    static const char *const names[] = {"status",    "title",     "message",   "reason",
                                        "idp_error", "login_url", "request_id"};
    const page_text_t *t = &texts[af_session_page_family(status, reason, idp_error)];
    const char *vals[7], *login;

    lang = (unsigned) lang < AF_LANG_N ? lang : AF_LANG_EN;
    login = apr_pstrcat(p, site->base_url ? site->base_url : "", site->endpoint, "/login", NULL);
    if (return_to != NULL) {
        login = apr_pstrcat(p, login, "?return_to=",
                            af_url_encode(af_session_return_to(site, return_to, p), p), NULL);
    }
    vals[0] = apr_itoa(p, status);
    vals[1] = t->title[lang];
    vals[2] = t->message[lang];
    vals[3] = af_html_escape(af_strerror(reason), p);
    /* the IdP's error code (cleaned by the callback parser), never its description or URI */
    vals[4] = idp_error == NULL
                  ? ""
                  : apr_pstrcat(p, "<p class=\"small\">",
                                lang == AF_LANG_KO ? "로그인 서비스 응답"
                                                   : "The sign-in service answered",
                                ": <code>", af_html_escape(idp_error, p), "</code></p>\n", NULL);
    vals[5] = af_html_escape(login, p);
    vals[6] = af_html_escape(request_id ? request_id : "-", p);
    return af_session_template(af_session_tpl(site, lang, AF_PAGE_ERROR), names, vals, 7, p);
}

void af_session_error(af_effects_t *eff, const af_site_t *site, apr_status_t reason,
                      const char *idp_error, apr_pool_t *p)
{
    eff->status = af_session_status(reason);
    eff->reason = reason;
    eff->body_kind = AF_BODY_HTML;
    if (eff->request_id == NULL) { /* no UNIQUE_ID: a short random one, logged with the reason */
        unsigned char rnd[6];

        if (RAND_bytes(rnd, sizeof(rnd)) == 1) {
            eff->request_id = af_b64url_encode(rnd, sizeof(rnd), p);
        }
    }
    af_log_p(p, AF_LOG_INFO, "AF08100", "error page %d %s, request id %s", eff->status,
             af_strerror(reason), eff->request_id ? eff->request_id : "-");
    eff->body = af_session_error_page(site, eff->lang, eff->status, reason, idp_error,
                                      eff->return_to, eff->request_id, p);
    if (eff->status == 503 && eff->retry_after == 0) {
        eff->retry_after = AF_SESSION_RETRY_AFTER;
    }
}

void af_session_denied(af_effects_t *eff, const af_site_t *site, const af_req_in_t *in,
                       apr_pool_t *p)
{
    static const char *const names[] = {"title", "message", "name", "logout_url", "switch_url"};
    static const char *const text[AF_LANG_N][2] = {
        {"Access not allowed", "You are signed in, but this page needs an account with other "
                               "permissions. Sign in with another account or ask the site's "
                               "administrator for access."},
        {"접근 권한 없음", "로그인되어 있지만 이 페이지는 다른 권한이 있는 계정이 필요합니다. 다른 "
                           "계정으로 로그인하거나 사이트 관리자에게 권한을 요청하세요."}};
    static const char *const claims[] = {"name", "email", "preferred_username", "sub"};
    const char *vals[5], *who = NULL, *rt, *base;
    af_lang_t l = (unsigned) eff->lang < AF_LANG_N ? eff->lang : AF_LANG_EN;
    apr_size_t i;

    if (in->denied_status != 401 && in->denied_status != 403) { /* not as an error document */
        af_session_error(eff, site, AF_ESESS_NOT_FOUND, NULL, p);
        return;
    }
    for (i = 0; i < sizeof(claims) / sizeof(claims[0]) && who == NULL; i++) {
        const json_t *v = in->denied_claims ? json_object_get(in->denied_claims, claims[i]) : NULL;

        who = json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
    }
    rt = af_url_encode(af_session_return_to(site, in->denied_uri, p), p);
    base = apr_pstrcat(p, site->base_url ? site->base_url : "", site->endpoint, NULL);
    vals[0] = text[l][0];
    vals[1] = text[l][1];
    vals[2] = af_html_escape(who ? who : "-", p);
    /* sign out: back to the start; switch account: sign out, then the login for this page */
    vals[3] = af_html_escape(apr_pstrcat(p, base, "/logout?return_to=%2F", NULL), p);
    vals[4] = af_html_escape(
        apr_pstrcat(p, base, "/logout?return_to=",
                    af_url_encode(apr_pstrcat(p, site->endpoint, "/login?return_to=", rt, NULL), p),
                    NULL),
        p);
    eff->status = in->denied_status;
    eff->reason = AF_EPOLICY_DENIED;
    eff->body_kind = AF_BODY_HTML;
    eff->body = af_session_template(af_session_tpl(site, l, AF_PAGE_DENIED), names, vals, 5, p);
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
