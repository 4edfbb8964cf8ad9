/* http_errors.c -- reason strings of the src/http error block (AF_E_HTTP).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "http/af_http_errors.h"

const af_errdesc_t af_http_errors[] = {{AF_EHTTP_URL, "http_url_not_allowed"},
                                       {AF_EHTTP_TIMEOUT, "http_timeout"},
                                       {AF_EHTTP_TOOBIG, "http_response_too_large"},
                                       {AF_EHTTP_CONNECT, "http_connect_failed"},
                                       {AF_EHTTP_TLS, "http_tls_failed"},
                                       {AF_EHTTP_STATUS, "http_bad_status"},
                                       {AF_EHTTP_REFUSED, "http_refused"},
                                       {0, NULL}};
