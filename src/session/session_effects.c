/* session_effects.c -- the effects value and Set-Cookie formatting (F01). */
#include <apr_strings.h>

#include "session/af_session.h"

af_effects_t *af_effects_make(apr_pool_t *p)
{
    af_effects_t *eff = apr_pcalloc(p, sizeof(*eff));

    eff->cookies = apr_array_make(p, 4, sizeof(const char *));
    return eff;
}

void af_effects_cookie(af_effects_t *eff, const char *set_cookie)
{
    APR_ARRAY_PUSH(eff->cookies, const char *) = set_cookie;
}

const char *af_session_set_cookie(const af_site_t *site, const char *name, const char *value,
                                  apr_int64_t max_age, int lax_always, apr_pool_t *p)
{
    const char *ss = lax_always || site->samesite == NULL ? "Lax" : site->samesite;

    if (value == NULL) {
        value = "";
        max_age = 0;
    }
    return apr_psprintf(p, "%s=%s; Path=/; Max-Age=%" APR_INT64_T_FMT "; HttpOnly%s; SameSite=%s",
                        name, value, max_age < 0 ? 0 : max_age,
                        site->cookie_secure ? "; Secure" : "", ss);
}

void af_session_clear_login_cookies(af_effects_t *eff, const af_site_t *site, apr_pool_t *p)
{
    af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_at, NULL, 0, 0, p));
    af_effects_cookie(eff, af_session_set_cookie(site, site->cookie_rt, NULL, 0, 0, p));
}

af_store_t *af_site_store(const af_site_t *site)
{
    return site->rt != NULL ? site->rt->store : NULL;
}

apr_status_t af_session_is_revoked(const af_site_t *site, af_store_t *st, const char *sid,
                                   apr_int64_t now)
{
    if (site->rt != NULL && site->rt->revview != NULL) {
        return af_revview_check(site->rt->revview, st, sid, now);
    }
    return af_store_family_is_revoked(st, sid);
}

apr_status_t af_session_revoke(const af_site_t *site, af_store_t *st, const char *sid,
                               apr_int64_t now, apr_pool_t *p)
{
    apr_status_t rv = af_store_family_revoke(st, sid, now, p);

    if (rv == APR_SUCCESS) {
        af_metrics_count(site->metrics, AF_M_REVOCATIONS);
    }
    if ((rv == APR_SUCCESS || rv == AF_ENOTFOUND) && site->rt != NULL &&
        site->rt->revview != NULL) {
        af_revview_note(site->rt->revview, sid, now);
    }
    return rv;
}
