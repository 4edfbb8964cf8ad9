/* config_check.c -- defaults resolved in one place, and checks that span directives.
 *
 * Runs from check_config (so `apachectl -t` sees every error), after the virtual hosts
 * were merged.  Finds where `AuthType AuthFlow` is used by walking the parsed config tree.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_main.h>

#include "common/af_log.h"
#include "httpd/af_config.h"
#include "httpd/af_httpd.h"
#include "httpd/login.h"

APLOG_USE_MODULE(authflow);

int af_config_is_ours(const af_srv_conf_t *sc, const char *name)
{
    char buf[136];
    apr_size_t i;

    /* AUTHFLOW* in any spelling, plus the remote-user headers of the textbook recipes */
    for (i = 0; name[i] != '\0' && i < sizeof(buf) - 1; i++) {
        buf[i] = name[i] == '-' ? '_' : (char) apr_toupper(name[i]);
    }
    buf[i] = '\0';
    if (i >= 8 && memcmp(buf, "AUTHFLOW", 8) == 0) {
        return 1; /* whatever its length */
    }
    if (name[i] != '\0') {
        return 0; /* longer than any other name we set */
    }
    if (strcmp(buf, "X_REMOTE_USER") == 0 || strcmp(buf, "REMOTE_USER") == 0) {
        return 1;
    }
    return sc != NULL && apr_hash_count(sc->scrub) > 0 &&
           apr_hash_get(sc->scrub, buf, APR_HASH_KEY_STRING) != NULL;
}

/* ---- where is AuthType AuthFlow used? ------------------------------------------------- */

static server_rec *vhost_of(server_rec *main_s, const ap_directive_t *d)
{
    server_rec *s;

    for (; d != NULL; d = d->parent) {
        if (strcasecmp(d->directive, "<VirtualHost") == 0) {
            for (s = main_s->next; s != NULL; s = s->next) {
                if (s->defn_name && d->filename && s->defn_line_number == (unsigned) d->line_num &&
                    strcmp(s->defn_name, d->filename) == 0) {
                    return s;
                }
            }
            return NULL;
        }
    }
    return main_s;
}

static void walk(apr_hash_t *used, server_rec *main_s, const ap_directive_t *d, apr_pool_t *p)
{
    server_rec *s, *v;

    for (; d != NULL; d = d->next) {
        if (strcasecmp(d->directive, "AuthType") == 0 && d->args &&
            strncasecmp(d->args, "AuthFlow", 8) == 0 &&
            (d->args[8] == '\0' || apr_isspace(d->args[8]))) {
            v = vhost_of(main_s, d);
            if (v == main_s) {
                for (s = main_s; s != NULL; s = s->next) {
                    apr_hash_set(used, apr_pmemdup(p, &s, sizeof(s)), sizeof(s), d);
                }
            } else if (v != NULL) {
                apr_hash_set(used, apr_pmemdup(p, &v, sizeof(v)), sizeof(v), d);
            }
        }
        if (d->first_child != NULL) {
            walk(used, main_s, d->first_child, p);
        }
    }
}

apr_hash_t *af_config_gate_users(server_rec *main_s, apr_pool_t *p)
{
    apr_hash_t *used = apr_hash_make(p);

    walk(used, main_s, ap_conftree, p);
    return used;
}

/* ---- resolution ---------------------------------------------------------------------- */

static const char *strip_prefix(const char *prefix, const char *what)
{
    apr_size_t n = strlen(what);

    return strncmp(prefix, what, n) == 0 ? prefix + n : prefix;
}

static const char *resolve_one(server_rec *s, af_srv_conf_t *sc, const ap_directive_t *gate,
                               apr_pool_t *p)
{
    int i, j;
    const char *where = s->defn_name ? apr_psprintf(p, " (virtual host at %s:%u)", s->defn_name,
                                                    s->defn_line_number)
                                     : "";

    sc->r_base_url = sc->base_url;
    if (sc->r_base_url == NULL && s->server_hostname != NULL) {
        sc->r_base_url = apr_pstrcat(p, "https://", s->server_hostname, NULL);
    }
    sc->r_endpoint = sc->endpoint ? sc->endpoint : AF_DEFAULT_ENDPOINT;
    sc->r_issuer = sc->issuer ? sc->issuer : sc->r_base_url;
    sc->r_audience = sc->audience ? sc->audience : sc->r_issuer;
    sc->r_clock_skew = sc->clock_skew != AF_UNSET ? sc->clock_skew : AF_DEFAULT_CLOCK_SKEW;
    sc->r_access_ttl = sc->access_ttl != AF_UNSET ? sc->access_ttl : AF_DEFAULT_ACCESS_TTL;
    sc->r_clock_offset = sc->test_clock_set ? sc->test_clock_offset : 0;
    sc->r_token_cache = sc->token_cache != AF_UNSET ? sc->token_cache : 1;

    /* cookies: __Host- needs Secure, which browsers refuse on plain http */
    sc->r_cookie_prefix = sc->cookie_prefix ? sc->cookie_prefix : AF_DEFAULT_COOKIE_PREFIX;
    sc->r_cookie_secure = 1;
    if (sc->r_base_url != NULL && strncasecmp(sc->r_base_url, "http://", 7) == 0) {
        const char *plain = strip_prefix(strip_prefix(sc->r_cookie_prefix, "__Host-"), "__Secure-");

        sc->r_cookie_secure = 0;
        if (plain != sc->r_cookie_prefix && (sc->used || gate != NULL)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "AF07001: AuthFlowBaseURL %s is plain http on loopback: cookies are "
                         "named %s-* without the __Host-/__Secure- prefix and without Secure "
                         "(development only)%s",
                         sc->r_base_url, plain, where);
        }
        sc->r_cookie_prefix = plain;
    }
    if (*sc->r_cookie_prefix == '\0') {
        return "AuthFlowCookiePrefix: the prefix is empty after dropping __Host-";
    }
    sc->r_cookie_at = apr_pstrcat(p, sc->r_cookie_prefix, "-at", NULL);
    sc->r_cookie_rt = apr_pstrcat(p, sc->r_cookie_prefix, "-rt", NULL);
    sc->r_cookie_flow = apr_pstrcat(p, sc->r_cookie_prefix, "-flow", NULL);
    sc->r_cookie_logout = apr_pstrcat(p, sc->r_cookie_prefix, "-logout", NULL);

    /* the login part (providers, store, default signing key): before the keys */
    {
        const char *lerr = af_login_resolve(s, sc, gate != NULL, p);

        if (lerr != NULL) {
            return lerr;
        }
    }

    /* our own keys: signing + verify, kids unique */
    sc->r_own_keys = af_keyset_make(p);
    if (sc->signing_key != NULL) {
        af_keyset_add(sc->r_own_keys, sc->signing_key);
    }
    for (i = 0; sc->verify != NULL && i < sc->verify->nelts; i++) {
        af_keyset_add(sc->r_own_keys, APR_ARRAY_IDX(sc->verify, i, af_key_t *));
    }
    for (i = 0; i < sc->r_own_keys->keys->nelts; i++) {
        const af_key_t *a = APR_ARRAY_IDX(sc->r_own_keys->keys, i, af_key_t *);

        for (j = i + 1; j < sc->r_own_keys->keys->nelts; j++) {
            const af_key_t *b = APR_ARRAY_IDX(sc->r_own_keys->keys, j, af_key_t *);

            if (a->kid && b->kid && strcmp(a->kid, b->kid) == 0) {
                return apr_psprintf(p, "AuthFlowVerifyKey: kid %s is used by two keys%s", a->kid,
                                    where);
            }
        }
    }
    for (i = 0; sc->trust != NULL && i < sc->trust->nelts; i++) {
        const af_trust_t *t = APR_ARRAY_IDX(sc->trust, i, af_trust_t *);

        if (sc->r_issuer != NULL && strcmp(t->issuer, sc->r_issuer) == 0) {
            return apr_psprintf(p, "AuthFlowTrustIssuer: %s is our own issuer%s", t->issuer, where);
        }
    }

    if (gate != NULL) {
        if (sc->r_base_url == NULL) {
            return apr_psprintf(p,
                                "AuthFlowBaseURL: not set and no ServerName to derive it "
                                "from (AuthType AuthFlow at %s:%d)%s",
                                gate->filename, gate->line_num, where);
        }
        if (sc->r_own_keys->keys->nelts == 0 && (sc->trust == NULL || sc->trust->nelts == 0)) {
            return apr_psprintf(p,
                                "AuthFlowSigningKey: AuthType AuthFlow (%s:%d) needs a key: "
                                "set AuthFlowSigningKey, AuthFlowVerifyKey or "
                                "AuthFlowTrustIssuer%s",
                                gate->filename, gate->line_num, where);
        }
    }
    return NULL;
}

const char *af_config_resolve(server_rec *s, apr_hash_t *gate_used, apr_pool_t *p,
                              apr_pool_t *ptemp)
{
    apr_hash_t *scrub = apr_hash_make(p);
    server_rec *v;
    const char *err;

    for (v = s; v != NULL; v = v->next) {
        const ap_directive_t *gate = apr_hash_get(gate_used, &v, sizeof(v));

        if ((err = resolve_one(v, af_srv_conf(v), gate, p)) != NULL) {
            return err;
        }
        scrub = apr_hash_overlay(p, af_srv_conf(v)->scrub, scrub);
    }
    /* H01/H03: one process-wide scrub set.  A name one virtual host exports is removed from
     * the inbound requests of every virtual host: another vhost may proxy to the same
     * backend, which cannot tell who set the header. */
    for (v = s; v != NULL; v = v->next) {
        af_srv_conf(v)->scrub = scrub;
    }
    return NULL;
}
