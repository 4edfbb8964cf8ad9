/* gate.c -- AuthType AuthFlow: check_user_id (stub). */
#include "httpd/af_httpd.h"

void af_gate_register_hooks(apr_pool_t *p)
{
}

json_t *af_request_claims(request_rec *r)
{
    return NULL;
}
