/* af_http_errors.h -- error codes of src/http, in the AF_E_HTTP block.
 * Append-only; each code has a row in http_errors.c. */
#ifndef AF_HTTP_ERRORS_H
#define AF_HTTP_ERRORS_H

#include "common/af_error.h"

#define AF_EHTTP_URL     (AF_E_HTTP + 1) /* "http_url_not_allowed" */
#define AF_EHTTP_TIMEOUT (AF_E_HTTP + 2) /* "http_timeout" */
#define AF_EHTTP_TOOBIG  (AF_E_HTTP + 3) /* "http_response_too_large" */
#define AF_EHTTP_CONNECT (AF_E_HTTP + 4) /* "http_connect_failed" */
#define AF_EHTTP_TLS     (AF_E_HTTP + 5) /* "http_tls_failed" */
#define AF_EHTTP_STATUS  (AF_E_HTTP + 6) /* "http_bad_status" */
#define AF_EHTTP_REFUSED (AF_E_HTTP + 7) /* "http_refused": not sent (a guard said no) */

#endif
