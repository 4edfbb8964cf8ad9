/* af_httpd.h -- the glue between httpd and the core library.
 *
 * Only src/httpd/ and mod_authflow.c include httpd headers or see request_rec.
 * One file per concern: config.c (directives, create/merge), gate.c
 * (check_user_id), export.c (scrub + env/headers), authz.c (Require providers),
 * handler.c (SetHandler authflow endpoints).
 */
#ifndef AF_HTTPD_H
#define AF_HTTPD_H

#include <httpd.h>
#include <http_config.h>
#include <jansson.h>

extern module AP_MODULE_DECLARE_DATA authflow_module;

/* config.c */
extern const command_rec af_config_cmds[];
void *af_config_dir_create(apr_pool_t *p, char *dir);
void *af_config_dir_merge(apr_pool_t *p, void *base, void *add);
void *af_config_srv_create(apr_pool_t *p, server_rec *s);
void *af_config_srv_merge(apr_pool_t *p, void *base, void *add);

/* hook registration, one per concern (called from mod_authflow.c) */
void af_gate_register_hooks(apr_pool_t *p);
void af_authz_register_hooks(apr_pool_t *p);
void af_handler_register_hooks(apr_pool_t *p);

/**
 * The verified claims of this request (set by the gate in check_user_id), or NULL
 * when the request is not authenticated by us.  Borrowed: lives as long as r->pool.
 */
json_t *af_request_claims(request_rec *r);

#endif
