/* config_keys.c -- the key directives: AuthFlowSigningKey, AuthFlowVerifyKey,
 * AuthFlowTrustIssuer.  Keys are loaded and checked by the JOSE core here, at configtest, so
 * a bad key stops `apachectl -t` naming the directive, the file and the reason. */
#include <string.h>

#include <httpd.h>
#include <http_config.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "common/af_error.h"
#include "common/af_file.h"
#include "common/af_parse.h"
#include "httpd/af_httpd.h"

#define dname af_config_dname

static const char *key_opts(cmd_parms *cmd, int argc, char *const argv[], const char **kid,
                            af_alg_t *alg)
{
    int i;

    *kid = NULL;
    *alg = AF_ALG_UNKNOWN;
    for (i = 1; i < argc; i++) {
        if (strncmp(argv[i], "kid=", 4) == 0 && argv[i][4] != '\0' && !af_parse_has_ctl(argv[i])) {
            *kid = argv[i] + 4;
        } else if (strncmp(argv[i], "alg=", 4) == 0) {
            *alg = af_alg_from_name(argv[i] + 4);
            if (*alg == AF_ALG_UNKNOWN) {
                return apr_psprintf(cmd->pool, "%s: unknown or forbidden algorithm '%s'",
                                    dname(cmd), argv[i] + 4);
            }
        } else {
            return apr_psprintf(cmd->pool, "%s: unknown option '%s' (kid=ID, alg=ALG)", dname(cmd),
                                argv[i]);
        }
    }
    return NULL;
}

static const char *load_key(cmd_parms *cmd, int argc, char *const argv[], af_key_t **out)
{
    const char *kid, *why = NULL, *path, *err;
    af_alg_t alg;
    apr_status_t rv;

    if (argc < 1 || argc > 3) {
        return apr_psprintf(cmd->pool, "%s: takes FILE [kid=ID] [alg=ALG]", dname(cmd));
    }
    if ((err = key_opts(cmd, argc, argv, &kid, &alg)) != NULL) {
        return err;
    }
    path = ap_server_root_relative(cmd->pool, argv[0]);
    if (path == NULL) {
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", dname(cmd), argv[0]);
    }
    rv = af_key_load_file(out, path, alg, kid, &why, cmd->pool);
    if ((err = af_file_private_hint(rv, path, cmd->pool)) != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s: %s", dname(cmd), path, err);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: cannot use key %s: %s%s%s%s", dname(cmd), path,
                            AF_IS_AF_ERROR(rv) ? af_strerror(rv) : "cannot read file",
                            why ? " (" : "", why ? why : "", why ? ")" : "");
    }
    if ((*out)->kid == NULL) {
        (*out)->kid = af_key_thumbprint(*out, cmd->pool);
    }
    return NULL;
}

const char *af_config_signing_key(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    af_key_t *key = NULL;
    const char *err;

    if (sc->signing_key != NULL) {
        return apr_psprintf(cmd->pool, "%s: given twice (use AuthFlowVerifyKey for old keys)",
                            dname(cmd));
    }
    if ((err = load_key(cmd, argc, argv, &key)) != NULL) {
        return err;
    }
    if (!key->is_private) {
        return apr_psprintf(cmd->pool, "%s: %s is not a private key (it must sign)", dname(cmd),
                            argv[0]);
    }
    sc->signing_key = key;
    return NULL;
}

const char *af_config_verify_key(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    af_key_t *key = NULL;
    const char *err;

    if ((err = load_key(cmd, argc, argv, &key)) != NULL) {
        return err;
    }
    if (sc->verify == NULL) {
        sc->verify = apr_array_make(cmd->pool, 2, sizeof(af_key_t *));
    }
    APR_ARRAY_PUSH(sc->verify, af_key_t *) = key;
    return NULL;
}

static const char *parse_alg_list(cmd_parms *cmd, const char *list, unsigned *mask)
{
    char *copy = apr_pstrdup(cmd->temp_pool, list), *tok, *last = NULL;
    af_alg_t alg;

    *mask = 0;
    for (tok = apr_strtok(copy, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
        alg = af_alg_from_name(tok);
        if (alg == AF_ALG_UNKNOWN) {
            return apr_psprintf(cmd->pool, "%s: unknown or forbidden algorithm '%s'", dname(cmd),
                                tok);
        }
        *mask |= 1u << alg;
    }
    if (*mask == 0) {
        return apr_psprintf(cmd->pool, "%s: empty alg= list", dname(cmd));
    }
    return NULL;
}

const char *af_config_trust_issuer(cmd_parms *cmd, void *d, int argc, char *const argv[])
{
    af_srv_conf_t *sc = af_config_srv(cmd);
    af_site_trust_t *t;
    const char *err, *why = NULL, *ca = NULL;
    int i;
    apr_status_t rv;

    if (argc < 2 || argc > 5) {
        return apr_psprintf(cmd->pool, "%s: takes ISSUER JWKS [aud=A] [alg=A,B] [ca=FILE]",
                            dname(cmd));
    }
    t = apr_pcalloc(cmd->pool, sizeof(*t));
    t->issuer = argv[0];
    t->jwks = argv[1];
    if (*t->issuer == '\0' || af_parse_has_ctl(t->issuer)) {
        return apr_psprintf(cmd->pool, "%s: empty or invalid issuer", dname(cmd));
    }
    for (i = 2; i < argc; i++) {
        if (strncmp(argv[i], "aud=", 4) == 0 && argv[i][4] != '\0' && !af_parse_has_ctl(argv[i])) {
            t->aud = argv[i] + 4;
        } else if (strncmp(argv[i], "alg=", 4) == 0) {
            if ((err = parse_alg_list(cmd, argv[i] + 4, &t->alg_mask)) != NULL) {
                return err;
            }
        } else if (strncmp(argv[i], "ca=", 3) == 0 && argv[i][3] != '\0') {
            apr_finfo_t fi;

            ca = ap_server_root_relative(cmd->pool, argv[i] + 3);
            if (ca == NULL || apr_stat(&fi, ca, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS ||
                fi.filetype != APR_REG) {
                return apr_psprintf(cmd->pool, "%s: CA file '%s' not found", dname(cmd),
                                    argv[i] + 3);
            }
        } else {
            return apr_psprintf(cmd->pool, "%s: unknown option '%s' (aud=, alg=, ca=)", dname(cmd),
                                argv[i]);
        }
    }
    if (sc->trust != NULL) {
        for (i = 0; i < sc->trust->nelts; i++) {
            if (strcmp(APR_ARRAY_IDX(sc->trust, i, af_site_trust_t *)->issuer, t->issuer) == 0) {
                return apr_psprintf(cmd->pool, "%s: issuer %s given twice", dname(cmd), t->issuer);
            }
        }
    }
    if (strncasecmp(t->jwks, "https://", 8) == 0 || strncasecmp(t->jwks, "http://", 7) == 0) {
        af_jwks_opts_t opts;

        memset(&opts, 0, sizeof(opts));
        opts.alg_mask = t->alg_mask;
        opts.ca_file = ca;
        rv = af_jwks_cache_create(&t->cache, t->jwks, &opts, cmd->pool);
        if (rv != APR_SUCCESS) {
            return apr_psprintf(cmd->pool,
                                "%s: JWKS URL '%s' refused: must be https (http only on a "
                                "loopback host)",
                                dname(cmd), t->jwks);
        }
    } else {
        const char *path = ap_server_root_relative(cmd->pool, t->jwks);

        rv = path ? af_jwks_load_file(&t->keys, path, 0, t->alg_mask, 0, &why, cmd->pool)
                  : APR_EBADPATH;
        if (rv != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "%s: cannot use JWKS file %s: %s", dname(cmd), t->jwks,
                                why ? why : "bad path");
        }
        if (t->keys->keys->nelts == 0) {
            return apr_psprintf(cmd->pool, "%s: JWKS file %s has no usable key", dname(cmd),
                                t->jwks);
        }
    }
    if (sc->trust == NULL) {
        sc->trust = apr_array_make(cmd->pool, 2, sizeof(af_site_trust_t *));
    }
    APR_ARRAY_PUSH(sc->trust, af_site_trust_t *) = t;
    return NULL;
}
