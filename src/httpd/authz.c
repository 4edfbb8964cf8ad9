/* authz.c -- Require authflow / authflow-claim providers (stub). */
#include "httpd/af_httpd.h"

void af_authz_register_hooks(apr_pool_t *p)
{
}
