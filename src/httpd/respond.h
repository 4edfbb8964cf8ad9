/* respond.h -- reading a request into the session core's plain values, and applying the
 * core's effects to the response (respond.c).  The glue's only translations. */
#ifndef AF_RESPOND_H
#define AF_RESPOND_H

#include <httpd.h>

#include "session/af_session.h"

/** The request as plain values (the module clock includes the site's test offset). */
void af_req_read(af_req_in_t *in, request_rec *r, const af_site_t *site);

/** The gate's cookies (always on err_headers_out when eff says so) and, for a pending
 *  rotation, the delivery record after the response went out. */
void af_respond_cookies(request_rec *r, const af_site_t *site, const af_effects_t *eff);

/** Apply a handler endpoint's effects (the handler's security headers on every answer).
 *  @return OK */
/** The request's page language (Accept-Language, AuthFlowLanguage) and UNIQUE_ID into eff. */
void af_effects_read(af_effects_t *eff, request_rec *r, const af_site_t *site);

int af_respond_handler(request_rec *r, const af_effects_t *eff);

/** Apply the gate's failure answer.  @return the hook's status (a redirect, 401/503, DONE) */
int af_respond_gate(request_rec *r, const af_effects_t *eff);

#endif
