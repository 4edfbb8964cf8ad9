/* authflowctl.c -- operator CLI over the mod_authflow store (links the core library only).
 *
 *   authflowctl [--store DIR|URI] [--json] list [--user SUB]
 *   authflowctl [--store DIR|URI] [--json] show SID
 *   authflowctl [--store DIR|URI] [--json] revoke --sid SID | --user SUB
 *   authflowctl [--store DIR|URI] [--json] sweep
 *   authflowctl [--store DIR|URI] [--json] stats
 *   authflowctl [--store DIR|URI] [--json] migrate
 *   authflowctl [--json] check [--server-root DIR] CONF
 *
 * Exit codes: 0 ok, 1 not found, 2 usage, 3 store error, 4 a check failed.
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
#include "common/af_log.h"
#include "http/af_http.h"
#include "jose/af_jwk.h"
#include "oidc/af_oidc.h"
#include "store/af_store.h"
#include "store/af_store_pg.h"

#include "af_build.h" /* generated: AF_VERSION, AF_DEFAULT_STORE_DIR */
#include "authflowctl.h"

#ifdef AF_DEFAULT_STORE_DIR
#define DEFAULT_STORE AF_DEFAULT_STORE_DIR
#else
#define DEFAULT_STORE "/var/lib/authflow"
#endif

static const char usage_text[] =
    "NAME\n"
    "    authflowctl - inspect and manage the mod_authflow login store\n"
    "\n"
    "SYNOPSIS\n"
    "    authflowctl [--store DIR|URI] [--json] list [--user SUB]\n"
    "    authflowctl [--store DIR|URI] [--json] show SID\n"
    "    authflowctl [--store DIR|URI] [--json] revoke --sid SID | --user SUB\n"
    "    authflowctl [--store DIR|URI] [--json] sweep\n"
    "    authflowctl [--store DIR|URI] [--json] stats\n"
    "    authflowctl [--store DIR|URI] [--json] migrate\n"
    "    authflowctl [--json] check [--server-root DIR] CONF\n"
    "    authflowctl --help | --version\n"
    "\n"
    "DESCRIPTION\n"
    "    mod_authflow keeps one record per login (a refresh-token family, named by its\n"
    "    SID, the \"sid\" claim of the access tokens) in an LMDB store (one host) or a\n"
    "    PostgreSQL store shared by several hosts (a postgresql:// URI). Refresh tokens\n"
    "    are stored only as SHA-256 hashes; this tool never shows or accepts a token.\n"
    "\n"
    "COMMANDS\n"
    "    list [--user SUB]\n"
    "        One line per login: SID, state, user, provider, last use, expiry.\n"
    "        States: active, revoked, expired (absolute lifetime), idle (idle timeout).\n"
    "    show SID\n"
    "        Everything known about one login, including the claims snapshot.\n"
    "    revoke --sid SID\n"
    "        End one login now: its refresh token stops working and, with\n"
    "        AuthFlowCheckRevocation on, its access tokens too. Idempotent.\n"
    "    revoke --user SUB\n"
    "        End every login of a user (\"sign out everywhere\").\n"
    "    sweep\n"
    "        Purge records past their family's absolute expiry and expired login\n"
    "        flows. Rotated tokens (the last 16 of each login) are kept until then\n"
    "        for reuse detection. httpd sweeps by itself (AuthFlowSweepInterval,\n"
    "        default 10m); this is for stores no running httpd sweeps.\n"
    "    stats\n"
    "        Counters: logins, rotations, reuse detections, revocations, swept\n"
    "        records; active logins; records; map use (in use = pages written less\n"
    "        those on LMDB's free list) and reader slots.\n"
    "    migrate\n"
    "        PostgreSQL: create or upgrade the schema (httpd also creates a missing\n"
    "        one at startup) and print its version. LMDB: nothing to migrate.\n"
    "    check [--server-root DIR] CONF\n"
    "        Check an Apache configuration file for mod_authflow, following Include and\n"
    "        IncludeOptional (globs, directories; relative to ServerRoot, else to the\n"
    "        including file; at most 16 deep). Only AuthFlow directives are looked at:\n"
    "        AuthFlowSigningKey / AuthFlowVerifyKey (readable, accepted by the key\n"
    "        policy, e.g. RSA >= 2048 bits; a signing key must be private),\n"
    "        AuthFlowStore (opens read/write, or is creatable), and each\n"
    "        <AuthFlowProvider NAME> (its settings valid and, with an Issuer, discovery\n"
    "        reachable and matching). One line per check, \"ok\" or \"FAIL\", what,\n"
    "        the file or provider, the reason code and the config file:line; --json\n"
    "        prints {\"ok\": bool, \"checks\": [{ok, check, subject, reason, where}]}.\n"
    "        Provider keys go through the module's own parser: an unknown or invalid key\n"
    "        fails here as it fails configtest. ClientSecretFile is read to validate it,\n"
    "        never printed. The store is not read.\n"
    "\n"
    "OPTIONS\n"
    "    --store DIR|URI  the store (AuthFlowStore): an LMDB directory, default " DEFAULT_STORE
    ",\n"
    "                  or a libpq URI postgresql://... (a password in it is never printed)\n"
    "    --server-root DIR  (check) the ServerRoot for relative paths, when CONF sets none\n"
    "    --json        machine-readable output on stdout\n"
    "    -h, --help    this text\n"
    "    --version     the version (the module reports the same at startup, tag AF07020)\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success (check: every check passed), 1 no such login, 2 usage error,\n"
    "    3 store error (missing, unreadable, full), 4 check: at least one check failed.\n"
    "\n"
    "NOTES\n"
    "    Run it as root or as the web server user. It opens the store like a server\n"
    "    child does and may run while Apache is serving.\n"
    "    check contacts each provider's Issuer (network); run it where Apache runs.\n";

typedef struct ctl_t {
    const char *store_dir;
    int json;
    apr_int64_t now;
    af_store_t *st;
    apr_pool_t *p;
    json_t *rows; /* --json list */
    int count;
} ctl_t;

void af_ctl_log_stderr(void *baton, apr_pool_t *p, int level, const char *tag, const char *msg)
{
    fprintf(stderr, "authflowctl: %s%s%s\n", tag ? tag : "", tag ? ": " : "", msg);
}

int af_ctl_usage(const char *why)
{
    if (why != NULL) {
        fprintf(stderr, "authflowctl: %s\n", why);
    }
    fprintf(stderr, "usage: authflowctl [--store DIR|URI] [--json] "
                    "list [--user SUB] | show SID | revoke --sid SID | revoke --user SUB | "
                    "sweep | stats | migrate | check [--server-root DIR] CONF\n"
                    "       authflowctl --help for the manual\n");
    return EX_USAGE;
}

static const char *fmt_time(apr_int64_t t, apr_pool_t *p)
{
    struct tm tm;
    time_t tt = (time_t) t;
    char buf[32];

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
        return "-";
    }
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
    return apr_pstrdup(p, buf);
}

static const char *fmt_dur(apr_int64_t s, apr_pool_t *p)
{
    if (s <= 0) {
        return "none";
    }
    if (s % 86400 == 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "d", s / 86400);
    }
    if (s % 3600 == 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "h", s / 3600);
    }
    if (s % 60 == 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "m", s / 60);
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "s", s);
}

static const char *state_of(const af_store_family_t *f, apr_int64_t now)
{
    if (f->revoked) {
        return "revoked";
    }
    if (now >= f->expires) {
        return "expired";
    }
    if (f->idle > 0 && now - f->last_used > f->idle) {
        return "idle";
    }
    return "active";
}

/* The claims snapshot without reserved members ("_idt": the sealed id_token). */
static json_t *claims_of(const af_store_family_t *f)
{
    json_t *claims = f->claims_json && *f->claims_json ? json_loads(f->claims_json, 0, NULL) : NULL;

    if (claims == NULL || !json_is_object(claims)) {
        json_decref(claims);
        return json_object();
    }
    json_object_del(claims, "_idt");
    return claims;
}

static json_t *family_json(const af_store_family_t *f, apr_int64_t now, int with_claims)
{
    json_t *o = json_object();

    json_object_set_new(o, "sid", json_string(f->sid));
    json_object_set_new(o, "state", json_string(state_of(f, now)));
    json_object_set_new(o, "sub", json_string(f->sub));
    json_object_set_new(o, "provider", json_string(f->provider));
    json_object_set_new(o, "created", json_integer((json_int_t) f->created));
    json_object_set_new(o, "last_used", json_integer((json_int_t) f->last_used));
    json_object_set_new(o, "expires", json_integer((json_int_t) f->expires));
    json_object_set_new(o, "idle_timeout", json_integer((json_int_t) f->idle));
    json_object_set_new(o, "revoked", json_boolean(f->revoked));
    if (f->revoked) {
        json_object_set_new(o, "revoked_at", json_integer((json_int_t) f->revoked_at));
    }
    json_object_set_new(o, "generation", json_integer(f->generation));
    json_object_set_new(o, "rotations", json_integer(f->rotations));
    if (with_claims) {
        json_object_set_new(o, "claims", claims_of(f));
    }
    return o;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s != NULL) {
        puts(s);
        free(s);
    }
    json_decref(j);
}

static int list_row(void *baton, const af_store_family_t *f)
{
    ctl_t *c = baton;

    c->count++;
    if (c->json) {
        json_array_append_new(c->rows, family_json(f, c->now, 0));
        return 0;
    }
    if (c->count == 1) {
        printf("%-22s  %-7s  %-24s  %-10s  %-20s  %s\n", "SID", "STATE", "USER", "PROVIDER",
               "LAST USED", "EXPIRES");
    }
    printf("%-22s  %-7s  %-24.24s  %-10.10s  %-20s  %s\n", f->sid, state_of(f, c->now), f->sub,
           f->provider, fmt_time(f->last_used, c->p), fmt_time(f->expires, c->p));
    return 0;
}

static int cmd_list(ctl_t *c, int argc, char **argv)
{
    const char *user = NULL;
    apr_status_t rv;

    if (argc == 2 && strcmp(argv[0], "--user") == 0) {
        user = argv[1];
    } else if (argc != 0) {
        return af_ctl_usage("list takes only --user SUB");
    }
    c->rows = json_array();
    rv = af_store_list(c->st, user, list_row, c, c->p);
    if (rv != APR_SUCCESS) {
        json_decref(c->rows);
        fprintf(stderr, "authflowctl: list failed: %s\n", af_strerror(rv));
        return EX_STORE;
    }
    if (c->json) {
        print_json(c->rows);
    } else {
        json_decref(c->rows);
        if (c->count == 0) {
            printf(user ? "no logins for %s\n" : "no logins%s\n", user ? user : "");
        } else {
            printf("%d login%s\n", c->count, c->count == 1 ? "" : "s");
        }
    }
    return user != NULL && c->count == 0 ? EX_NOTFOUND : EX_OK;
}

static int cmd_show(ctl_t *c, int argc, char **argv)
{
    af_store_family_t *f;
    apr_status_t rv;
    json_t *claims;
    char *txt;

    if (argc != 1) {
        return af_ctl_usage("show takes one SID");
    }
    rv = af_store_family_get(&f, c->st, argv[0], c->p);
    if (rv == AF_ENOTFOUND) {
        fprintf(stderr, "authflowctl: no login %s\n", argv[0]);
        return EX_NOTFOUND;
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "authflowctl: show failed: %s\n", af_strerror(rv));
        return EX_STORE;
    }
    if (c->json) {
        print_json(family_json(f, c->now, 1));
        return EX_OK;
    }
    printf("sid:          %s\n", f->sid);
    printf("state:        %s\n", state_of(f, c->now));
    printf("user:         %s\n", f->sub);
    printf("provider:     %s\n", f->provider);
    printf("created:      %s\n", fmt_time(f->created, c->p));
    printf("last used:    %s\n", fmt_time(f->last_used, c->p));
    printf("expires:      %s\n", fmt_time(f->expires, c->p));
    printf("idle timeout: %s\n", fmt_dur(f->idle, c->p));
    if (f->revoked) {
        printf("revoked at:   %s\n", fmt_time(f->revoked_at, c->p));
    }
    printf("generation:   %u (%u rotation%s)\n", f->generation, f->rotations,
           f->rotations == 1 ? "" : "s");
    claims = claims_of(f);
    txt = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("claims:       %s\n", txt ? txt : "{}");
    free(txt);
    json_decref(claims);
    return EX_OK;
}

static int cmd_revoke(ctl_t *c, int argc, char **argv)
{
    apr_status_t rv;
    int n = 0;

    if (argc != 2 || (strcmp(argv[0], "--sid") != 0 && strcmp(argv[0], "--user") != 0)) {
        return af_ctl_usage("revoke takes --sid SID or --user SUB");
    }
    if (strcmp(argv[0], "--sid") == 0) {
        rv = af_store_family_revoke(c->st, argv[1], c->now, c->p);
        n = rv == APR_SUCCESS;
    } else {
        rv = af_store_revoke_sub(&n, c->st, argv[1], c->now, c->p);
    }
    if (rv == AF_ENOTFOUND) {
        fprintf(stderr, "authflowctl: no login %s\n", argv[1]);
        return EX_NOTFOUND;
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "authflowctl: revoke failed: %s\n", af_strerror(rv));
        return EX_STORE;
    }
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, argv[0] + 2, json_string(argv[1]));
        json_object_set_new(o, "revoked", json_integer(n));
        print_json(o);
    } else if (strcmp(argv[0], "--sid") == 0) {
        printf("login %s revoked\n", argv[1]);
    } else {
        printf("%d login%s of %s revoked\n", n, n == 1 ? "" : "s", argv[1]);
    }
    return EX_OK;
}

static int cmd_sweep(ctl_t *c, int argc)
{
    apr_uint64_t n = 0;
    apr_status_t rv;

    if (argc != 0) {
        return af_ctl_usage("sweep takes no arguments");
    }
    rv = af_store_sweep(&n, c->st, c->now);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "authflowctl: sweep failed: %s\n", af_strerror(rv));
        return EX_STORE;
    }
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "purged", json_integer((json_int_t) n));
        print_json(o);
    } else {
        printf("purged %" APR_UINT64_T_FMT " expired record%s\n", n, n == 1 ? "" : "s");
    }
    return EX_OK;
}

static int cmd_stats(ctl_t *c, int argc)
{
    af_store_stats_t s;
    apr_status_t rv;

    if (argc != 0) {
        return af_ctl_usage("stats takes no arguments");
    }
    rv = af_store_stats(&s, c->st, c->now);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "authflowctl: stats failed: %s\n", af_strerror(rv));
        return EX_STORE;
    }
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "logins", json_integer((json_int_t) s.logins));
        json_object_set_new(o, "active_logins", json_integer((json_int_t) s.active_families));
        json_object_set_new(o, "rotations", json_integer((json_int_t) s.rotations));
        json_object_set_new(o, "reuse_detections", json_integer((json_int_t) s.reuse_detections));
        json_object_set_new(o, "revocations", json_integer((json_int_t) s.revocations));
        json_object_set_new(o, "swept", json_integer((json_int_t) s.swept));
        json_object_set_new(o, "family_records", json_integer((json_int_t) s.families));
        json_object_set_new(o, "token_records", json_integer((json_int_t) s.tokens));
        json_object_set_new(o, "flow_records", json_integer((json_int_t) s.flows));
        json_object_set_new(o, "map_size", json_integer((json_int_t) s.map_size));
        json_object_set_new(o, "map_used", json_integer((json_int_t) s.map_used));
        json_object_set_new(o, "map_free", json_integer((json_int_t) s.map_free));
        json_object_set_new(o, "readers_used", json_integer(s.readers_used));
        json_object_set_new(o, "readers_max", json_integer(s.max_readers));
        print_json(o);
        return EX_OK;
    }
    printf("store:             %s\n", af_store_pg_redact(c->store_dir, c->p));
    printf("logins:            %" APR_UINT64_T_FMT " (%" APR_UINT64_T_FMT " active now)\n",
           s.logins, s.active_families);
    printf("rotations:         %" APR_UINT64_T_FMT "\n", s.rotations);
    printf("reuse detections:  %" APR_UINT64_T_FMT "\n", s.reuse_detections);
    printf("revocations:       %" APR_UINT64_T_FMT "\n", s.revocations);
    printf("swept records:     %" APR_UINT64_T_FMT "\n", s.swept);
    printf("records:           %" APR_UINT64_T_FMT " logins, %" APR_UINT64_T_FMT
           " tokens, %" APR_UINT64_T_FMT " flows\n",
           s.families, s.tokens, s.flows);
    if (af_store_is_uri(c->store_dir)) {
        printf("database:          %.1f MiB on disk (tables and indexes)\n",
               s.map_used / 1048576.0);
        return EX_OK;
    }
    printf("map:               %.1f MiB in use of %.1f MiB (%.0f%%); file %.1f MiB, "
           "%.1f MiB of it free for reuse\n",
           (s.map_used - s.map_free) / 1048576.0, s.map_size / 1048576.0,
           s.map_size ? 100.0 * (s.map_used - s.map_free) / s.map_size : 0.0,
           s.map_used / 1048576.0, s.map_free / 1048576.0);
    printf("reader slots:      %u used of %u\n", s.readers_used, s.max_readers);
    return EX_OK;
}

static int cmd_migrate(ctl_t *c, int argc)
{
    af_store_opts_t opts;
    apr_status_t rv;
    int v = 0;

    if (argc != 0) {
        return af_ctl_usage("migrate takes no arguments");
    }
    memset(&opts, 0, sizeof(opts));
    rv = af_store_migrate(&v, c->store_dir, &opts, c->p);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "authflowctl: migrate failed: %s\n",
                AF_IS_AF_ERROR(rv) ? af_strerror(rv) : strerror(APR_TO_OS_ERROR(rv)));
        return EX_STORE;
    }
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "backend",
                            json_string(af_store_is_uri(c->store_dir) ? "postgresql" : "lmdb"));
        json_object_set_new(o, "schema_version", json_integer(v));
        print_json(o);
    } else if (af_store_is_uri(c->store_dir)) {
        printf("schema version %d\n", v);
    } else {
        printf("nothing to migrate (LMDB)\n");
    }
    return EX_OK;
}

int main(int argc, char **argv)
{
    af_store_opts_t opts;
    ctl_t c;
    struct stat sb;
    const char *cmd;
    apr_status_t rv;
    int i = 1, ex;

    memset(&c, 0, sizeof(c));
    c.store_dir = DEFAULT_STORE;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return EX_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("authflowctl %s\n", AF_VERSION);
            return EX_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            c.json = 1;
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            c.store_dir = argv[++i];
        } else {
            fprintf(stderr, "authflowctl: unknown option %s\n", argv[i]);
            return af_ctl_usage(NULL);
        }
    }
    if (i >= argc) {
        return af_ctl_usage("no command");
    }
    cmd = argv[i++];
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return EX_OK;
    }
    if (strcmp(cmd, "check") == 0) {
        return af_ctl_check(c.json, argc - i, argv + i);
    }
    if (strcmp(cmd, "list") && strcmp(cmd, "show") && strcmp(cmd, "revoke") &&
        strcmp(cmd, "sweep") && strcmp(cmd, "stats") && strcmp(cmd, "migrate")) {
        return af_ctl_usage("unknown command");
    }
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&c.p, NULL) != APR_SUCCESS) {
        return EX_STORE;
    }
    af_log_set(af_ctl_log_stderr, NULL, AF_LOG_WARNING);
    c.now = (apr_int64_t) time(NULL);
    if (strcmp(cmd, "migrate") == 0) {
        ex = cmd_migrate(&c, argc - i);
        apr_pool_destroy(c.p);
        apr_terminate();
        return ex;
    }
    if (!af_store_is_uri(c.store_dir) &&
        stat(apr_pstrcat(c.p, c.store_dir, "/data.mdb", NULL), &sb) != 0) {
        fprintf(stderr, "authflowctl: no store in %s (see --store)\n", c.store_dir);
        return EX_STORE;
    }
    /* single-threaded: may adopt a map another process grew */
    memset(&opts, 0, sizeof(opts));
    opts.flags = AF_STORE_ADOPT_MAPSIZE; /* one thread: it may adopt a grown map */
    rv = af_store_open(&c.st, c.store_dir, &opts, c.p);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "authflowctl: cannot open the store in %s: %s\n",
                af_store_pg_redact(c.store_dir, c.p),
                AF_IS_AF_ERROR(rv) ? af_strerror(rv) : strerror(APR_TO_OS_ERROR(rv)));
        return EX_STORE;
    }
    if (strcmp(cmd, "list") == 0) {
        ex = cmd_list(&c, argc - i, argv + i);
    } else if (strcmp(cmd, "show") == 0) {
        ex = cmd_show(&c, argc - i, argv + i);
    } else if (strcmp(cmd, "revoke") == 0) {
        ex = cmd_revoke(&c, argc - i, argv + i);
    } else if (strcmp(cmd, "sweep") == 0) {
        ex = cmd_sweep(&c, argc - i);
    } else {
        ex = cmd_stats(&c, argc - i);
    }
    apr_pool_destroy(c.p);
    apr_terminate();
    return ex;
}
