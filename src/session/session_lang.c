/* session_lang.c -- which language a page speaks (Accept-Language, RFC 9110 §12.5.4, or
 * AuthFlowLanguage), which template renders it, and the Content-Security-Policy that lets
 * exactly its inline styles apply (their SHA-256 hashes; no 'unsafe-inline', no script). */
#include <string.h>

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "session/af_session.h"

const char *const af_session_lang_tag[AF_LANG_N] = {"en", "ko"};
const char *const af_session_page_file[AF_PAGE_N] = {"chooser.html",  "error.html",  "logout.html",
                                                     "password.html", "denied.html", "repost.html",
                                                     "signedin.html"};

int af_session_lang_from_tag(const char *tag)
{
    int i;

    for (i = 0; tag != NULL && i < AF_LANG_N; i++) {
        if (strcasecmp(tag, af_session_lang_tag[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *af_session_tpl(const af_site_t *site, af_lang_t lang, af_page_t page)
{
    if ((unsigned) lang >= AF_LANG_N || (unsigned) page >= AF_PAGE_N) {
        lang = AF_LANG_EN;
        page = page < AF_PAGE_N ? page : AF_PAGE_ERROR;
    }
    if (site != NULL && site->tpl[lang][page] != NULL) {
        return site->tpl[lang][page];
    }
    return af_session_builtin[lang][page];
}

/* A weight "q=0.8": 0..1000, or -1 when malformed (RFC 9110 §12.4.2: at most 3 decimals). */
static int qvalue(const char *s, apr_size_t n)
{
    int v, d = 0;

    if (n < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=' || (s[2] != '0' && s[2] != '1')) {
        return -1;
    }
    v = (s[2] - '0') * 1000;
    if (n == 3) {
        return v;
    }
    if (s[3] != '.' || n > 7) {
        return -1;
    }
    for (s += 4, n -= 4; n > 0; s++, n--, d++) {
        if (!apr_isdigit(*s) || (v == 1000 && *s != '0')) {
            return -1;
        }
        v += (*s - '0') * (d == 0 ? 100 : d == 1 ? 10 : 1);
    }
    return v;
}

af_lang_t af_session_language(const af_site_t *site, const char *al)
{
    int best = -1, best_q = 0, any_q = -1, i;

    if (site != NULL && site->language >= 0 && site->language < AF_LANG_N) {
        return (af_lang_t) site->language;
    }
    while (al != NULL && *al != '\0') {
        const char *e = al + strcspn(al, ","), *t = al, *te, *semi;
        int q = 1000, lang = -1;

        while (t < e && (*t == ' ' || *t == '\t')) {
            t++;
        }
        te = t;
        while (te < e && (apr_isalnum(*te) || *te == '-' || *te == '*')) {
            te++;
        }
        semi = te;
        while (semi < e && (*semi == ' ' || *semi == '\t')) {
            semi++;
        }
        if (semi < e && *semi == ';') { /* the only parameter is the weight */
            const char *w = semi + 1, *we;

            while (w < e && (*w == ' ' || *w == '\t')) {
                w++;
            }
            for (we = e; we > w && (we[-1] == ' ' || we[-1] == '\t'); we--) {
            }
            q = qvalue(w, (apr_size_t) (we - w));
        } else if (semi != e) {
            q = -1; /* malformed: skipped */
        }
        if (q >= 0 && te > t) {
            if (te - t == 1 && *t == '*') {
                any_q = q > any_q ? q : any_q;
            } else {
                /* the primary subtag: "ko-KR" -> ko (a range matches its prefix, §12.5.4) */
                for (i = 0; i < AF_LANG_N; i++) {
                    apr_size_t n = strlen(af_session_lang_tag[i]);

                    if ((apr_size_t) (te - t) >= n &&
                        strncasecmp(t, af_session_lang_tag[i], n) == 0 &&
                        (t + n == te || t[n] == '-')) {
                        lang = i;
                    }
                }
            }
        }
        if (lang >= 0 && q > best_q) {
            best = lang, best_q = q;
        }
        al = *e == ',' ? e + 1 : e;
    }
    if (best >= 0) {
        return (af_lang_t) best;
    }
    (void) any_q; /* "*" or nothing acceptable: the default (a server may send it, §12.5.4) */
    return AF_LANG_EN;
}

const char *af_session_page_csp(const char *body, const char *form_action, apr_pool_t *p)
{
    const char *styles = "", *s = body, *open, *close;
    unsigned char md[32];
    char b64[64];

    while (s != NULL && (open = strstr(s, "<style>")) != NULL &&
           (close = strstr(open + 7, "</style>")) != NULL) {
        unsigned int n = 0;

        if (EVP_Digest(open + 7, (apr_size_t) (close - open - 7), md, &n, EVP_sha256(), NULL) !=
                1 ||
            n != sizeof(md)) {
            break;
        }
        apr_base64_encode(b64, (const char *) md, (int) n);
        styles = apr_pstrcat(p, styles, " 'sha256-", b64, "'", NULL);
        s = close + 8;
    }
    return apr_pstrcat(p, "default-src 'none';", *styles ? " style-src" : "", styles,
                       *styles ? ";" : "", " frame-ancestors 'none'; base-uri 'none'; form-action ",
                       form_action ? form_action : "'self'", NULL);
}
