/* session_export.c -- the one table of what the backend receives (see af_session.h). */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "session/af_session.h"

typedef const char *af_var_fn(const json_t *claims, const char *user, const char *issuer,
                              apr_pool_t *p);

static const char *v_user(const json_t *c, const char *user, const char *iss, apr_pool_t *p)
{
    return user;
}

static const char *v_sub(const json_t *c, const char *user, const char *iss, apr_pool_t *p)
{
    return af_policy_claim_text(json_object_get(c, "sub"), ",", p);
}

static const char *v_issuer(const json_t *c, const char *user, const char *iss, apr_pool_t *p)
{
    return iss;
}

static const char *v_provider(const json_t *c, const char *user, const char *iss, apr_pool_t *p)
{
    return af_policy_claim_text(json_object_get(c, "idp"), ",", p);
}

static const char *v_expires(const json_t *c, const char *user, const char *iss, apr_pool_t *p)
{
    const json_t *exp = json_object_get(c, "exp");

    return json_is_number(exp)
               ? apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t) json_number_value(exp))
               : NULL;
}

static const struct {
    const char *name;
    af_var_fn *value;
} vars[] = {
    {"REMOTE_USER", v_user},         {"AUTHFLOW_SUB", v_sub},
    {"AUTHFLOW_ISSUER", v_issuer},   {"AUTHFLOW_PROVIDER", v_provider},
    {"AUTHFLOW_EXPIRES", v_expires},
};

static const char *claim_env_name(const char *claim, apr_pool_t *p)
{
    apr_size_t n = strlen(claim), i;
    char *out;

    if (n == 0 || n > 64) {
        return NULL;
    }
    out = apr_palloc(p, 15 + n + 1);
    memcpy(out, "AUTHFLOW_CLAIM_", 15);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) claim[i];

        out[15 + i] = apr_isalnum(c) && c < 0x80 ? (char) apr_toupper(c) : '_';
    }
    out[15 + n] = '\0';
    return out;
}

static void add(apr_array_header_t *out, int to_header, const char *name, const char *value)
{
    af_export_kv_t *kv = apr_array_push(out);

    kv->to_header = to_header;
    kv->name = name;
    kv->value = value;
}

apr_array_header_t *af_session_exports(const json_t *claims, const char *user, const char *issuer,
                                       int export_all, const apr_array_header_t *specs,
                                       apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(af_export_kv_t));
    const char *key, *name, *v;
    json_t *val;
    apr_size_t i;
    int count = 0;

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        add(out, 0, vars[i].name, vars[i].value(claims, user, issuer, p));
    }
    if (export_all) {
        json_object_foreach((json_t *) claims, key, val)
        {
            if (++count > AF_EXPORT_MAX_CLAIMS) {
                break;
            }
            name = claim_env_name(key, p);
            v = af_policy_claim_text(val, ",", p);
            if (name != NULL && v != NULL) {
                add(out, 0, name, v);
            }
        }
    }
    for (i = 0; specs != NULL && i < (apr_size_t) specs->nelts; i++) {
        const af_export_spec_t *e = &APR_ARRAY_IDX(specs, i, af_export_spec_t);

        add(out, e->to_header, e->name,
            af_policy_claim_text(af_policy_path_get(e->path, claims), e->sep, p));
    }
    return out;
}
