/* mod_authflow.c -- the module record and hook registration, nothing else.
 *
 * The gate, the export of claims, the authz providers and the handler live in
 * src/httpd/; the core library (JOSE, tokens, store, policy, OIDC) in src/.
 */
#include <httpd.h>
#include <http_config.h>

#include "httpd/af_httpd.h"

static void af_register_hooks(apr_pool_t *p)
{
    af_lifecycle_register_hooks(p);
    af_gate_register_hooks(p);
    af_authz_register_hooks(p);
    af_handler_register_hooks(p);
    af_metrics_register_hooks(p);
}

__attribute__((visibility("default"))) AP_DECLARE_MODULE(authflow) = {
    STANDARD20_MODULE_STUFF, af_config_dir_create, af_config_dir_merge, af_config_srv_create,
    af_config_srv_merge,     af_config_cmds,       af_register_hooks,   AP_MODULE_FLAG_ALWAYS_MERGE,
};
