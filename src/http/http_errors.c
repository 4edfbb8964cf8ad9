/* http_errors.c -- reason strings of the src/http error block (AF_E_HTTP).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "http/af_http_errors.h"

const af_errdesc_t af_http_errors[] = {
    {AF_EHTTP_URL, "http_url_not_allowed", "URL must be https (http only on loopback)"},
    {AF_EHTTP_TIMEOUT, "http_timeout", "the remote server did not answer in time"},
    {AF_EHTTP_TOOBIG, "http_response_too_large", "the response exceeded the size cap"},
    {AF_EHTTP_CONNECT, "http_connect_failed", "could not connect to the remote server"},
    {AF_EHTTP_TLS, "http_tls_failed", "TLS verification failed"},
    {AF_EHTTP_STATUS, "http_bad_status", "unexpected HTTP status"},
    {AF_EHTTP_REFUSED, "http_refused", "the request was not sent: refused by a local guard"},
    {0, NULL, NULL}};
