/* authflowctl_check.c -- `authflowctl check CONF`: the configuration checks.
 *
 * Reads an Apache configuration file, follows Include / IncludeOptional, and checks only the
 * AuthFlow directives: keys (af_key_load_file), stores (af_store_open read/write, or
 * creatable), providers (every body key through the module's own parser,
 * af_oidc_provider_key -- an unknown or invalid key fails the check as it fails configtest
 * -- then af_oidc_provider_check and discovery with the libcurl client).  Never prints
 * secrets or key material.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>

#include "common/af_error.h"
#include "common/af_file.h"
#include "common/af_log.h"
#include "http/af_http.h"
#include "jose/af_jwk.h"
#include "oidc/af_oidc.h"
#include "store/af_store.h"
#include "store/af_store_pg.h"

#include "authflowctl.h"

#define CHECK_MAX_DEPTH 16
#define CHECK_MAX_LINE  16384

typedef struct chk_t {
    apr_pool_t *p;
    int json, failed, depth;
    const char *server_root; /* ServerRoot when seen, else NULL */
    json_t *rows;
    apr_int64_t now;
    af_oidc_provider_t *pv; /* inside <AuthFlowProvider> */
    const char *pv_where;
    const char *file; /* the file being read (relative paths) */
    int pv_bad;       /* a key of this provider was refused */
} chk_t;

static void report(chk_t *k, int ok, const char *what, const char *subject, const char *reason,
                   const char *where)
{
    k->failed |= !ok;
    if (k->json) {
        json_array_append_new(k->rows,
                              json_pack("{s:b, s:s, s:s, s:s, s:s}", "ok", ok, "check", what,
                                        "subject", subject ? subject : "", "reason",
                                        reason ? reason : "", "where", where ? where : ""));
        return;
    }
    printf("%-4s %s %s%s%s", ok ? "ok" : "FAIL", what, subject ? subject : "", reason ? ": " : "",
           reason ? reason : "");
    if (where != NULL) {
        printf("  (%s)", where);
    }
    putchar('\n');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Split a directive line into words (Apache's quoting: "..." or '...', backslash escapes). */
static apr_array_header_t *words_of(const char *line, apr_pool_t *p)
{
    apr_array_header_t *w = apr_array_make(p, 8, sizeof(const char *));
    char *buf = apr_palloc(p, strlen(line) + 1), *o;
    const char *s = line;
    char q;

    while (*s) {
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        o = buf;
        q = (*s == '"' || *s == '\'') ? *s++ : 0;
        while (*s && (q ? *s != q : (*s != ' ' && *s != '\t'))) {
            if (*s == '\\' && s[1] != '\0' && (s[1] == q || s[1] == '\\')) {
                s++;
            }
            *o++ = *s++;
        }
        if (q && *s == q) {
            s++;
        }
        APR_ARRAY_PUSH(w, const char *) = apr_pstrmemdup(p, buf, (apr_size_t) (o - buf));
    }
    return w;
}

static const char *resolve(const chk_t *k, const char *path, const char *file)
{
    char *dir;

    if (path[0] == '/') {
        return path;
    }
    if (k->server_root != NULL) {
        return apr_pstrcat(k->p, k->server_root, "/", path, NULL);
    }
    dir = apr_pstrdup(k->p, file);
    if (strrchr(dir, '/') == NULL) {
        return path;
    }
    *strrchr(dir, '/') = '\0';
    return apr_pstrcat(k->p, dir, "/", path, NULL);
}

static const char *os_reason(apr_status_t rv, apr_pool_t *p)
{
    char buf[128];

    if (AF_IS_AF_ERROR(rv)) {
        return af_strerror(rv);
    }
    return apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
}

static void check_key(chk_t *k, const char *what, apr_array_header_t *w, const char *file,
                      const char *where)
{
    const char *path, *kid = NULL, *why = NULL, *a, *hint;
    af_alg_t alg = AF_ALG_UNKNOWN;
    af_key_t *key = NULL;
    apr_status_t rv;
    int i;

    if (w->nelts < 2) {
        report(k, 0, what, "", "no file given", where);
        return;
    }
    path = resolve(k, APR_ARRAY_IDX(w, 1, const char *), file);
    for (i = 2; i < w->nelts; i++) {
        a = APR_ARRAY_IDX(w, i, const char *);
        if (strncasecmp(a, "kid=", 4) == 0) {
            kid = a + 4;
        } else if (strncasecmp(a, "alg=", 4) == 0 &&
                   (alg = af_alg_from_name(a + 4)) == AF_ALG_UNKNOWN) {
            report(k, 0, what, path, "unknown_alg", where);
            return;
        }
    }
    rv = af_key_load_file(&key, path, alg, kid, &why, k->p);
    if ((hint = af_file_private_hint(rv, path, k->p)) != NULL) {
        report(k, 0, what, path, hint, where); /* the secret-file rule, as in configtest */
    } else if (rv != APR_SUCCESS) {
        report(k, 0, what, path,
               why ? apr_pstrcat(k->p, os_reason(rv, k->p), " (", why, ")", NULL)
                   : os_reason(rv, k->p),
               where);
    } else if (strcmp(what, "signing_key") == 0 && !key->is_private) {
        report(k, 0, what, path, "not a private key (cannot sign)", where);
    } else {
        report(k, 1, what, path, af_alg_name(key->alg), where);
    }
}

/* A shared store: reachable, and its schema version (the store is not otherwise read). */
static void check_shared_store(chk_t *k, const char *uri, const char *where)
{
    const char *safe = af_store_pg_redact(uri, k->p);
    af_store_t *st = NULL;
    apr_status_t rv;
    int v = 0;

    rv = af_store_open(&st, uri, NULL, k->p);
    if (rv == APR_SUCCESS) {
        rv = af_store_schema_version(&v, st);
        af_store_close(st);
    }
    if (rv != APR_SUCCESS) {
        report(k, 0, "store", safe,
               apr_psprintf(k->p,
                            "unreachable, or no schema yet (authflowctl --store URI migrate): %s",
                            AF_IS_AF_ERROR(rv) ? af_strerror(rv) : os_reason(rv, k->p)),
               where);
    } else if (v > AF_STORE_PG_SCHEMA) {
        report(k, 0, "store", safe,
               apr_psprintf(k->p, "reachable, schema version %d is newer than this module's %d", v,
                            AF_STORE_PG_SCHEMA),
               where);
    } else {
        report(k, 1, "store", safe,
               apr_psprintf(k->p, "reachable, schema version %d%s", v,
                            v < AF_STORE_PG_SCHEMA ? " (upgraded at start)" : ""),
               where);
    }
}

static void check_store(chk_t *k, const char *dir, const char *where)
{
    af_store_t *st = NULL;
    struct stat sb;
    char *parent;
    apr_status_t rv;
    int ok;

    if (af_store_is_uri(dir)) {
        check_shared_store(k, dir, where);
    } else if (stat(apr_pstrcat(k->p, dir, "/data.mdb", NULL), &sb) == 0) {
        rv = af_store_open(&st, dir, NULL, k->p); /* read/write, like a child */
        report(k, rv == APR_SUCCESS, "store", dir,
               rv == APR_SUCCESS ? "opened read/write" : os_reason(rv, k->p), where);
    } else if (stat(dir, &sb) == 0) {
        ok = S_ISDIR(sb.st_mode) && access(dir, W_OK | X_OK) == 0;
        report(k, ok, "store", dir,
               ok ? "empty, writable (created at start)" : "not a writable directory", where);
    } else {
        parent = apr_pstrdup(k->p, dir);
        if (strrchr(parent, '/') != NULL && strrchr(parent, '/') != parent) {
            *strrchr(parent, '/') = '\0';
        } else {
            parent = strrchr(parent, '/') ? "/" : ".";
        }
        ok = access(parent, W_OK | X_OK) == 0;
        report(k, ok, "store", dir,
               ok ? "missing, creatable" : "missing and its parent is not writable", where);
    }
}

static void check_provider(chk_t *k)
{
    af_oidc_provider_t *pv = k->pv;
    const af_oidc_meta_t *meta = NULL;
    const char *msg;
    apr_status_t rv;

    k->pv = NULL;
    if (k->pv_bad) {
        return; /* its key errors are reported already */
    }
    if (pv->redirect_uri == NULL) {
        pv->redirect_uri = "https://localhost/auth/callback"; /* from AuthFlowBaseURL */
    }
    if ((msg = af_oidc_provider_check(pv, k->p)) != NULL) {
        report(k, 0, "provider", pv->name, msg, k->pv_where);
        return;
    }
    rv = af_oidc_meta_get(&meta, pv, k->now, k->p);
    report(k, rv == APR_SUCCESS, "provider", pv->name,
           rv != APR_SUCCESS ? af_strerror(rv)
           : pv->issuer      ? apr_pstrcat(k->p, "discovery ok (", pv->issuer, ")", NULL)
                             : "endpoints configured",
           k->pv_where);
}

static const char *resolve_path(void *baton, const char *path, apr_pool_t *p)
{
    chk_t *k = baton;

    return resolve(k, path, k->file);
}

/* One body line of <AuthFlowProvider>: the module's own parser, so every key it refuses
 * fails here too. */
static void provider_line(chk_t *k, apr_array_header_t *w, const char *where)
{
    const char *key = APR_ARRAY_IDX(w, 0, const char *);
    const char *err = af_oidc_provider_key(
        k->pv, key, w->nelts - 1, (const char *const *) w->elts + 1, resolve_path, k, k->p);

    if (err != NULL) {
        k->pv_bad = 1;
        report(k, 0, "provider", k->pv->name, err, where);
    }
}

static void check_file(chk_t *k, const char *file, int optional, const char *from);

static void include(chk_t *k, const char *pattern, int optional, const char *file,
                    const char *where)
{
    const char *path = resolve(k, pattern, file);
    struct stat sb;
    glob_t g;
    size_t i;
    int rc;

    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        path = apr_pstrcat(k->p, path, "/*", NULL);
    }
    rc = glob(path, GLOB_NOSORT | GLOB_ERR, NULL, &g);
    if (rc != 0) {
        if (!optional) {
            report(k, 0, "include", path, "no such file", where);
        }
        if (rc != GLOB_NOMATCH) {
            globfree(&g);
        }
        return;
    }
    qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_str);
    for (i = 0; i < g.gl_pathc; i++) {
        if (stat(g.gl_pathv[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
            check_file(k, apr_pstrdup(k->p, g.gl_pathv[i]), optional, where);
        }
    }
    globfree(&g);
}

static void check_line(chk_t *k, const char *line, const char *file, int lineno)
{
    apr_array_header_t *w = words_of(line, k->p);
    const char *d, *where = apr_psprintf(k->p, "%s:%d", file, lineno);

    if (w->nelts == 0 || *(d = APR_ARRAY_IDX(w, 0, const char *)) == '#') {
        return;
    }
    if (k->pv != NULL) {
        if (strcasecmp(d, "</AuthFlowProvider>") == 0) {
            check_provider(k);
        } else {
            k->file = file;
            provider_line(k, w, where);
        }
    } else if (strncasecmp(d, "<AuthFlowProvider", 17) == 0) {
        d = w->nelts > 1 ? APR_ARRAY_IDX(w, 1, const char *) : d + 17;
        d = apr_pstrndup(k->p, d, strcspn(d, ">"));
        k->pv = af_oidc_provider_make(*d ? d : "(unnamed)", k->p);
        k->pv_where = where;
        k->pv_bad = 0;
    } else if (strcasecmp(d, "ServerRoot") == 0 && w->nelts > 1) {
        k->server_root = APR_ARRAY_IDX(w, 1, const char *);
    } else if ((strcasecmp(d, "Include") == 0 || strcasecmp(d, "IncludeOptional") == 0) &&
               w->nelts > 1) {
        include(k, APR_ARRAY_IDX(w, 1, const char *), strcasecmp(d, "IncludeOptional") == 0, file,
                where);
    } else if (strcasecmp(d, "AuthFlowSigningKey") == 0) {
        check_key(k, "signing_key", w, file, where);
    } else if (strcasecmp(d, "AuthFlowVerifyKey") == 0) {
        check_key(k, "verify_key", w, file, where);
    } else if (strcasecmp(d, "AuthFlowStore") == 0 && w->nelts > 1) {
        const char *v = APR_ARRAY_IDX(w, 1, const char *);
        check_store(k, af_store_is_uri(v) ? v : resolve(k, v, file), where);
    }
}

static void check_file(chk_t *k, const char *file, int optional, const char *from)
{
    FILE *f;
    char *buf, *line;
    apr_size_t n;
    int lineno = 0, start;

    if (k->depth >= CHECK_MAX_DEPTH) {
        report(k, 0, "include", file, "includes nested too deeply", from);
        return;
    }
    if ((f = fopen(file, "r")) == NULL) {
        if (!optional || errno != ENOENT) {
            report(k, 0, "config", file, strerror(errno), from);
        }
        return;
    }
    k->depth++;
    buf = apr_palloc(k->p, CHECK_MAX_LINE);
    line = apr_pstrdup(k->p, "");
    start = 1;
    while (fgets(buf, CHECK_MAX_LINE, f) != NULL) {
        lineno++;
        n = strlen(buf);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
            buf[--n] = '\0';
        }
        if (*line == '\0') {
            start = lineno;
        }
        if (n > 0 && buf[n - 1] == '\\') { /* continuation */
            buf[n - 1] = ' ';
            line = apr_pstrcat(k->p, line, buf, NULL);
            continue;
        }
        check_line(k, apr_pstrcat(k->p, line, buf, NULL), file, start);
        line = "";
    }
    fclose(f);
    k->depth--;
    if (k->depth == 0 && k->pv != NULL) {
        report(k, 0, "provider", k->pv->name, "<AuthFlowProvider> not closed", k->pv_where);
        k->pv = NULL;
    }
}

int af_ctl_check(int json, int argc, char **argv)
{
    chk_t k;
    json_t *doc;
    char *out;
    int i;

    memset(&k, 0, sizeof(k));
    k.json = json;
    for (i = 0; i < argc - 1; i++) {
        if (strcmp(argv[i], "--server-root") == 0) {
            k.server_root = argv[++i];
        } else {
            return af_ctl_usage("check takes [--server-root DIR] CONF");
        }
    }
    if (i != argc - 1) {
        return af_ctl_usage("check takes [--server-root DIR] CONF");
    }
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&k.p, NULL) != APR_SUCCESS ||
        af_http_global_init() != APR_SUCCESS) {
        return EX_STORE;
    }
    af_log_set(af_ctl_log_stderr, NULL, AF_LOG_ERR);
    af_http_set_impl(af_http_curl());
    k.now = (apr_int64_t) time(NULL);
    k.rows = json_array();
    check_file(&k, argv[argc - 1], 0, NULL);
    if (json) {
        doc = json_pack("{s:b, s:o}", "ok", !k.failed, "checks", k.rows);
        out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", out ? out : "{}");
        free(out);
        json_decref(doc);
    } else {
        json_decref(k.rows);
        printf("%s\n", k.failed ? "FAIL: some checks failed" : "ok: all checks passed");
    }
    apr_pool_destroy(k.p);
    apr_terminate();
    return k.failed ? EX_CHECK : EX_OK;
}
