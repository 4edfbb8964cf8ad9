/* export.h -- scrubbing and claim export (export.c). */
#ifndef AF_EXPORT_H
#define AF_EXPORT_H

#include <httpd.h>
#include <jansson.h>

#include "httpd/af_config.h"

/** Remove every inbound header the module may set on this server (see af_config_is_ours). */
void af_export_scrub(request_rec *r, const af_srv_conf_t *sc);

/** Remove our cookies (-at, -rt, -flow, -logout) from the Cookie header. */
void af_export_strip_cookies(request_rec *r, const af_srv_conf_t *sc);

/**
 * A claim as export text: strings as is, numbers and booleans as text, arrays of scalars
 * joined with sep, objects (and arrays of non-scalars) as compact JSON.
 * @return NULL when absent, null, or refused (control characters, > AF_EXPORT_MAX_VALUE)
 */
const char *af_export_value(const json_t *j, const char *sep, apr_pool_t *p);

/** REMOTE_USER, AUTHFLOW_*, AUTHFLOW_CLAIM_* and the AuthFlowExport entries. */
void af_export_claims(request_rec *r, const af_dir_conf_t *dc, const json_t *claims,
                      const char *issuer);

#endif
