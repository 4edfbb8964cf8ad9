/* handler.c -- SetHandler authflow endpoints (stub). */
#include "httpd/af_httpd.h"

void af_handler_register_hooks(apr_pool_t *p)
{
}
