/* gate.h -- internals shared by gate.c and gate_fail.c. */
#ifndef AF_GATE_H
#define AF_GATE_H

#include <httpd.h>

#include "httpd/af_config.h"

/** The login URL for this request, with return_to. */
const char *af_gate_login_url(request_rec *r, const af_srv_conf_t *sc, const af_dir_conf_t *dc);

/** Answer an unauthenticated request (302 or 401 + JSON); returns the hook's status. */
int af_gate_fail(request_rec *r, const af_srv_conf_t *sc, const af_dir_conf_t *dc,
                 const char *reason);

#endif
