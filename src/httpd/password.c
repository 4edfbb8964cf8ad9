/* password.c -- the password check of a Type password provider: httpd's own authn providers
 * (mod_authn_file, mod_authn_dbd, mod_authnz_ldap, <AuthnProviderAlias> names ...), run as
 * mod_auth_basic runs them.  Each provider's check_password sees this request, so its
 * per-directory settings are those of the handler's location (AuthUserFile,
 * AuthDBDUserPWQuery, AuthLDAPURL in <Location /auth>), and the authn_provider_name note
 * names it while it runs (an alias finds its own configuration by it).  The decision --
 * throttle, same answer for unknown and wrong, the login -- is the core's
 * (af_session_password_login); here only the translation. */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include <apr_strings.h>

#include "httpd/af_httpd.h"

APLOG_USE_MODULE(authflow);

#define ATTR_PREFIX "AUTHENTICATE_"

typedef struct attrs_t {
    apr_table_t *out;
    apr_array_header_t *names;
} attrs_t;

static int take_attr(void *baton, const char *key, const char *value)
{
    attrs_t *a = baton;

    if (strncasecmp(key, ATTR_PREFIX, sizeof(ATTR_PREFIX) - 1) == 0) {
        apr_table_set(a->out, key, value);
        APR_ARRAY_PUSH(a->names, const char *) = key;
    }
    return 1;
}

af_pw_result_t af_password_check(void *baton, const af_oidc_provider_t *pv, const char *user,
                                 const char *password, apr_table_t **attrs, apr_pool_t *p)
{
    request_rec *r = baton;
    authn_status res = AUTH_USER_NOT_FOUND;
    char *saved_user = r->user;
    attrs_t a;
    int i;

    /* as mod_auth_basic: the user is r->user while the providers run */
    r->user = apr_pstrdup(r->pool, user);
    for (i = 0; i < pv->authn_providers->nelts; i++) {
        const char *name = APR_ARRAY_IDX(pv->authn_providers, i, const char *);
        const authn_provider *ap =
            ap_lookup_provider(AUTHN_PROVIDER_GROUP, name, AUTHN_PROVIDER_VERSION);

        if (ap == NULL || ap->check_password == NULL) { /* checked at configtest */
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "AF08067: <AuthFlowProvider %s>: authn provider %s cannot check "
                          "passwords",
                          pv->name, name);
            res = AUTH_GENERAL_ERROR;
            break;
        }
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE, name);
        res = ap->check_password(r, user, password);
        apr_table_unset(r->notes, AUTHN_PROVIDER_NAME_NOTE);
        if (res != AUTH_USER_NOT_FOUND) {
            break;
        }
    }
    r->user = saved_user; /* a failed name never reaches the access log */
    a.out = apr_table_make(p, 4);
    a.names = apr_array_make(p, 4, sizeof(const char *));
    apr_table_do(take_attr, &a, r->subprocess_env, NULL);
    for (i = 0; i < a.names->nelts; i++) {
        apr_table_unset(r->subprocess_env, APR_ARRAY_IDX(a.names, i, const char *));
    }
    switch (res) {
    case AUTH_GRANTED:
        *attrs = a.out;
        return AF_PW_GRANTED;
    case AUTH_DENIED:
        return AF_PW_DENIED;
    case AUTH_USER_NOT_FOUND:
        return AF_PW_NOT_FOUND;
    default: /* AUTH_GENERAL_ERROR, or what a provider should not say here */
        return AF_PW_ERROR;
    }
}

const char *af_password_providers_check(const af_oidc_provider_t *pv, apr_pool_t *p)
{
    int i;

    for (i = 0; pv->authn_providers != NULL && i < pv->authn_providers->nelts; i++) {
        const char *name = APR_ARRAY_IDX(pv->authn_providers, i, const char *);
        const authn_provider *ap =
            ap_lookup_provider(AUTHN_PROVIDER_GROUP, name, AUTHN_PROVIDER_VERSION);

        if (ap == NULL) {
            return apr_psprintf(p,
                                "AuthnProvider: unknown authn provider '%s' (load its module, "
                                "e.g. a2enmod authn_%s, or define <AuthnProviderAlias>)",
                                name, name);
        }
        if (ap->check_password == NULL) {
            return apr_psprintf(p, "AuthnProvider: authn provider '%s' cannot check passwords",
                                name);
        }
    }
    return NULL;
}
