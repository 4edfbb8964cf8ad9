/* config.c -- directives, per-server and per-directory configuration (stub). */
#include <httpd.h>
#include <http_config.h>

#include "httpd/af_httpd.h"

const command_rec af_config_cmds[] = {{NULL}};

void *af_config_dir_create(apr_pool_t *p, char *dir)
{
    return NULL;
}

void *af_config_dir_merge(apr_pool_t *p, void *base, void *add)
{
    return add;
}

void *af_config_srv_create(apr_pool_t *p, server_rec *s)
{
    return NULL;
}

void *af_config_srv_merge(apr_pool_t *p, void *base, void *add)
{
    return add;
}
