/* test_pages.c -- the pages' language (Accept-Language, RFC 9110 §12.5.4; AuthFlowLanguage),
 * the chooser buttons (escaping, preset wording), the error page (a sentence per reason
 * family, no IdP text, the try-again link) and the CSP that admits the pages' styles by hash
 * (H11, D11, D12). */
#include <check.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include "af_testutil.h"
#include "common/af_error.h"
#include "oidc/af_oidc.h"
#include "policy/af_policy_errors.h"
#include "session/af_session.h"
#include "session/af_session_errors.h"
#include "store/af_store_errors.h"

static af_lang_t lang(const char *al)
{
    af_site_t site;

    memset(&site, 0, sizeof(site));
    site.language = -1;
    return af_session_language(&site, al);
}

START_TEST(test_language_negotiation)
{
    ck_assert_int_eq(lang(NULL), AF_LANG_EN);
    ck_assert_int_eq(lang(""), AF_LANG_EN);
    ck_assert_int_eq(lang("ko"), AF_LANG_KO);
    ck_assert_int_eq(lang("ko-KR"), AF_LANG_KO);
    ck_assert_int_eq(lang("KO-kr"), AF_LANG_KO);
    ck_assert_int_eq(lang("ko-KR,ko;q=0.9,en;q=0.8"), AF_LANG_KO);
    ck_assert_int_eq(lang("en-US,en;q=0.9,ko;q=0.8"), AF_LANG_EN);
    ck_assert_int_eq(lang("en;q=0.5, ko;q=0.7"), AF_LANG_KO);      /* by weight, not order */
    ck_assert_int_eq(lang("en;q=0.5 , ko ; q=0.500"), AF_LANG_EN); /* tie: the first */
    ck_assert_int_eq(lang("ko;q=0, en;q=0.1"), AF_LANG_EN);        /* q=0: not acceptable */
    ck_assert_int_eq(lang("ko;q=0"), AF_LANG_EN);
    ck_assert_int_eq(lang("ko;q=0.000"), AF_LANG_EN);
    ck_assert_int_eq(lang("fr-FR, ko;q=0.2"), AF_LANG_KO); /* unknown skipped */
    ck_assert_int_eq(lang("kok, ko-x;q=0.1"), AF_LANG_KO); /* "kok" is not ko */
    ck_assert_int_eq(lang("*"), AF_LANG_EN);
    ck_assert_int_eq(lang("*;q=0.9, ko;q=0.1"), AF_LANG_KO);
    /* malformed elements are skipped, not fatal */
    ck_assert_int_eq(lang("ko;q=2, en;q=0.1"), AF_LANG_EN);
    ck_assert_int_eq(lang("ko;q=0.1234, en;q=0.1"), AF_LANG_EN);
    ck_assert_int_eq(lang("ko;q=, en;q=0.1"), AF_LANG_EN);
    ck_assert_int_eq(lang("ko x, en;q=0.1"), AF_LANG_EN);
    ck_assert_int_eq(lang("ko;level=1, en;q=0.1"), AF_LANG_EN);
    ck_assert_int_eq(lang("ko;q=1.000"), AF_LANG_KO);
    ck_assert_int_eq(lang("ko;q=1.001, en;q=0.1"), AF_LANG_EN);
    ck_assert_int_eq(lang(",,, ;;, ko"), AF_LANG_KO);
}
END_TEST

START_TEST(test_language_forced)
{
    af_site_t site;

    memset(&site, 0, sizeof(site));
    site.language = AF_LANG_KO;
    ck_assert_int_eq(af_session_language(&site, "en"), AF_LANG_KO);
    site.language = AF_LANG_EN;
    ck_assert_int_eq(af_session_language(&site, "ko-KR"), AF_LANG_EN);
    ck_assert_int_eq(af_session_lang_from_tag("KO"), AF_LANG_KO);
    ck_assert_int_eq(af_session_lang_from_tag("en"), AF_LANG_EN);
    ck_assert_int_eq(af_session_lang_from_tag("fr"), -1);
    ck_assert_int_eq(af_session_lang_from_tag(NULL), -1);
}
END_TEST

START_TEST(test_templates_by_language)
{
    af_site_t site;

    memset(&site, 0, sizeof(site));
    ck_assert_ptr_nonnull(
        strstr(af_session_tpl(&site, AF_LANG_KO, AF_PAGE_CHOOSER), "lang=\"ko\""));
    ck_assert_ptr_nonnull(
        strstr(af_session_tpl(&site, AF_LANG_EN, AF_PAGE_CHOOSER), "lang=\"en\""));
    site.tpl[AF_LANG_KO][AF_PAGE_ERROR] = "mine";
    ck_assert_str_eq(af_session_tpl(&site, AF_LANG_KO, AF_PAGE_ERROR), "mine");
    ck_assert_ptr_nonnull(strstr(af_session_tpl(&site, AF_LANG_EN, AF_PAGE_ERROR), "Try again"));
}
END_TEST

static const char *button(af_oidc_preset_t preset, af_lang_t l, const char *name,
                          const char *display, apr_pool_t *p)
{
    af_oidc_provider_t *pv = af_oidc_provider_make(name, p);
    const char *err;

    pv->preset = preset;
    if (display != NULL) {
        const char *argv[] = {display};

        err = af_oidc_provider_key(pv, "DisplayName", 1, argv, NULL, NULL, p);
        ck_assert_ptr_null(err);
    }
    return af_session_chooser_button(pv, l, "https://a.example/auth/login?provider=x&r=\"", p);
}

START_TEST(test_chooser_buttons)
{
    apr_pool_t *p = af_test_pool();
    const char *b;
    af_oidc_provider_t *pv;
    const char *ko[] = {"ko", "직원 로그인"}, *one[] = {"Staff"}, *bad[] = {"xx yy", "n"};

    b = button(AF_OIDC_PRESET_KAKAO, AF_LANG_KO, "kakao", NULL, p);
    ck_assert_ptr_nonnull(strstr(b, "class=\"b kakao\""));
    ck_assert_ptr_nonnull(strstr(b, "<span>카카오 로그인</span>"));
    ck_assert_ptr_nonnull(strstr(b, "provider=x&amp;r=&quot;\""));
    b = button(AF_OIDC_PRESET_NAVER, AF_LANG_KO, "naver", NULL, p);
    ck_assert_ptr_nonnull(strstr(b, "<span>네이버 로그인</span>"));
    b = button(AF_OIDC_PRESET_GOOGLE, AF_LANG_EN, "g", "ignored", p);
    ck_assert_ptr_nonnull(strstr(b, "class=\"b google\""));
    ck_assert_ptr_nonnull(strstr(b, "<span>Sign in with Google</span>"));
    b = button(AF_OIDC_PRESET_GOOGLE, AF_LANG_KO, "g", NULL, p);
    ck_assert_ptr_nonnull(strstr(b, "<span>Google 계정으로 로그인</span>"));
    b = button(AF_OIDC_PRESET_APPLE, AF_LANG_KO, "apple", NULL, p);
    ck_assert_ptr_nonnull(strstr(b, "class=\"b apple\""));
    ck_assert_ptr_nonnull(strstr(b, "<span>Apple로 로그인</span>"));
    b = button(AF_OIDC_PRESET_NONE, AF_LANG_EN, "corp", "<b>Corp & Co</b>", p);
    ck_assert_ptr_nonnull(strstr(b, "class=\"b\""));
    ck_assert_ptr_nonnull(strstr(b, "<span>&lt;b&gt;Corp &amp; Co&lt;/b&gt;</span>"));
    b = button(AF_OIDC_PRESET_NONE, AF_LANG_EN, "c<d", NULL, p);
    ck_assert_ptr_nonnull(strstr(b, "<span>c&lt;d</span>"));
    /* per language, else the one without a language */
    pv = af_oidc_provider_make("staff", p);
    ck_assert_ptr_null(af_oidc_provider_key(pv, "DisplayName", 2, ko, NULL, NULL, p));
    ck_assert_ptr_null(af_oidc_provider_key(pv, "DisplayName", 1, one, NULL, NULL, p));
    ck_assert_ptr_nonnull(af_oidc_provider_key(pv, "DisplayName", 1, one, NULL, NULL, p));
    ck_assert_ptr_nonnull(af_oidc_provider_key(pv, "DisplayName", 2, bad, NULL, NULL, p));
    ck_assert_ptr_nonnull(strstr(af_session_chooser_button(pv, AF_LANG_KO, "/", p), "직원 로그인"));
    ck_assert_ptr_nonnull(strstr(af_session_chooser_button(pv, AF_LANG_EN, "/", p), ">Staff<"));
}
END_TEST

START_TEST(test_error_page_families)
{
    apr_pool_t *p = af_test_pool();
    af_site_t site;
    const char *page;

    memset(&site, 0, sizeof(site));
    site.base_url = "https://a.example";
    site.endpoint = "/auth";
    ck_assert_int_eq(af_session_page_family(400, AF_EOIDC_IDP_ERROR, "access_denied"), 3);
    ck_assert_int_eq(af_session_page_family(400, AF_EOIDC_IDP_ERROR, "server_error"), 1);
    ck_assert_int_eq(af_session_page_family(504, AF_EOIDC_IDP_TIMEOUT, NULL), 2);
    ck_assert_int_eq(af_session_page_family(502, AF_EOIDC_IDP_UNREACHABLE, NULL), 1);
    ck_assert_int_eq(af_session_page_family(400, AF_ESTORE_REPLAY, NULL), 4);
    ck_assert_int_eq(af_session_page_family(400, AF_EOIDC_STATE, NULL), 4);
    ck_assert_int_eq(af_session_page_family(403, AF_EPOLICY_DENIED, NULL), 5);
    ck_assert_int_eq(af_session_page_family(503, AF_ESESS_STORE, NULL), 6);
    ck_assert_int_eq(af_session_page_family(429, AF_ESESS_THROTTLED, NULL), 7);
    ck_assert_int_eq(af_session_page_family(404, AF_ESESS_NOT_FOUND, NULL), 9);

    page = af_session_error_page(&site, AF_LANG_EN, 400, AF_EOIDC_IDP_ERROR, "access_denied",
                                 "/app?x=\"<>", "req-1", p);
    ck_assert_ptr_nonnull(strstr(page, "Sign-in cancelled"));
    ck_assert_ptr_nonnull(strstr(page, "<code>oidc_idp_error</code>"));
    ck_assert_ptr_nonnull(strstr(page, "<code>req-1</code>"));
    ck_assert_ptr_nonnull(strstr(page, "answered: <code>access_denied</code>"));
    ck_assert_ptr_nonnull(
        strstr(page, "href=\"https://a.example/auth/login?return_to=%2Fapp%3Fx%3D%22%3C%3E\""));
    page = af_session_error_page(&site, AF_LANG_KO, 400, AF_EOIDC_IDP_ERROR, "access_denied",
                                 "https://evil.example/", NULL, p);
    ck_assert_ptr_nonnull(strstr(page, "로그인 취소됨"));
    ck_assert_ptr_nonnull(strstr(page, "login?return_to=%2F\"")); /* return_to rules again */
}
END_TEST

/* The first Latin word a reader sees in html (outside tags, comments, <style>, <script>,
 * <code> and {{placeholders}}), "ID" allowed; NULL when there is none. */
static const char *latin_word(const char *html, apr_pool_t *p)
{
    static const char *const skip[][2] = {
        {"<!--", "-->"},       {"<style", "</style>"}, {"<script", "</script>"},
        {"<code>", "</code>"}, {"{{", "}}"},           {"<", ">"}};
    const char *s = html;

    while (*s != '\0') {
        apr_size_t i, n;
        const char *end = NULL;

        for (i = 0; i < sizeof(skip) / sizeof(skip[0]) && end == NULL; i++) {
            if (strncmp(s, skip[i][0], strlen(skip[i][0])) == 0) {
                end = strstr(s, skip[i][1]);
                s = end != NULL ? end + strlen(skip[i][1]) : s + strlen(s);
            }
        }
        if (end != NULL) {
            continue;
        }
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
            n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
            if (!(n == 2 && strncmp(s, "ID", 2) == 0)) {
                return apr_pstrndup(p, s, n);
            }
            s += n;
            continue;
        }
        if (*s == '&') { /* an entity: &amp; */
            s += strcspn(s, ";");
            s += *s != '\0';
            continue;
        }
        s++;
    }
    return NULL;
}

/* Hangul syllables (U+AC00..U+D7A3: UTF-8 lead bytes 0xEA..0xED) in s. */
static int has_hangul(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char) *s >= 0xEA && (unsigned char) *s <= 0xED) {
            return 1;
        }
    }
    return 0;
}

START_TEST(test_korean_pages_have_no_english)
{
    apr_pool_t *p = af_test_pool();
    static const apr_status_t reasons[] = {
        AF_EOIDC_IDP_ERROR, AF_EOIDC_IDP_TIMEOUT, AF_ESTORE_REPLAY,   AF_EPOLICY_DENIED,
        AF_ESESS_STORE,     AF_ESESS_THROTTLED,   AF_ESESS_NOT_FOUND, AF_EOIDC_PARAM};
    static const int statuses[] = {400, 504, 400, 403, 503, 429, 404, 400};
    af_oidc_cbparams_t cb;
    af_effects_t *eff;
    af_site_t site;
    const char *page;
    int pg;
    apr_size_t i;

    memset(&site, 0, sizeof(site));
    site.base_url = "https://a.example";
    site.endpoint = "/auth";
    for (pg = 0; pg < AF_PAGE_N; pg++) { /* every built-in template */
        const char *ko = af_session_tpl(&site, AF_LANG_KO, (af_page_t) pg);
        const char *en = af_session_tpl(&site, AF_LANG_EN, (af_page_t) pg);

        ck_assert_msg(latin_word(ko, p) == NULL, "ko/%s: \"%s\"", af_session_page_file[pg],
                      latin_word(ko, p));
        ck_assert_msg(strstr(ko, "<html lang=\"ko\">") != NULL, "ko/%s", af_session_page_file[pg]);
        ck_assert_msg(!has_hangul(en), "%s", af_session_page_file[pg]);
        ck_assert_msg(strstr(en, "<html lang=\"en\">") != NULL, "%s", af_session_page_file[pg]);
    }
    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) { /* and what fills them */
        page = af_session_error_page(&site, AF_LANG_KO, statuses[i], reasons[i], "server_error",
                                     "/app", "req-1", p);
        ck_assert_msg(latin_word(page, p) == NULL, "%d: \"%s\"", statuses[i], latin_word(page, p));
        page = af_session_error_page(&site, AF_LANG_EN, statuses[i], reasons[i], "server_error",
                                     "/app", "req-1", p);
        ck_assert(!has_hangul(page));
        ck_assert_ptr_nonnull(strstr(page, "Reason: <code>"));
    }
    memset(&cb, 0, sizeof(cb));
    cb.code = "c-1";
    cb.state = "s-1";
    eff = af_effects_make(p);
    eff->lang = AF_LANG_KO;
    af_session_repost(eff, &site, &cb, p);
    ck_assert_msg(latin_word(eff->body, p) == NULL, "re-post: \"%s\"", latin_word(eff->body, p));
    ck_assert_ptr_nonnull(strstr(eff->body, "name=\"state\" value=\"s-1\""));
    eff = af_effects_make(p);
    af_session_repost(eff, &site, &cb, p);
    ck_assert_ptr_nonnull(strstr(eff->body, ">Continue</button></noscript>"));
    ck_assert(!has_hangul(eff->body));
}
END_TEST

START_TEST(test_csp_hashes_styles)
{
    apr_pool_t *p = af_test_pool();
    const char *csp = af_session_page_csp("<style>a{}</style>x<style>b{}</style>", NULL, p);

    ck_assert_ptr_nonnull(strstr(csp, "style-src 'sha256-"));
    ck_assert_ptr_null(strstr(csp, "unsafe-inline"));
    ck_assert_ptr_null(strstr(csp, "script-src"));
    ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
    ck_assert_ptr_nonnull(strstr(csp, "frame-ancestors 'none'"));
    ck_assert_ptr_nonnull(strstr(csp, "form-action 'self'"));
    /* printf 'a{}' | openssl dgst -sha256 -binary | base64, and b{} */
    ck_assert_ptr_nonnull(strstr(csp,
                                 "style-src 'sha256-X1RutGBrXCt9KkSaXMK7tHftWiRscFHOhxsS8tv8hBk=' "
                                 "'sha256-7yqHVAesot11p6HczDsgKRipvI5UPgs97z80zNXlans=';"));
    csp = af_session_page_csp(NULL, "'self' https:", p);
    ck_assert_ptr_null(strstr(csp, "style-src"));
    ck_assert_ptr_nonnull(strstr(csp, "form-action 'self' https:"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pages");
    TCase *tc = tcase_create("pages");

    tcase_add_test(tc, test_language_negotiation);
    tcase_add_test(tc, test_language_forced);
    tcase_add_test(tc, test_templates_by_language);
    tcase_add_test(tc, test_chooser_buttons);
    tcase_add_test(tc, test_error_page_families);
    tcase_add_test(tc, test_korean_pages_have_no_english);
    tcase_add_test(tc, test_csp_hashes_styles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
