/* af_http.c -- URL policy and dispatch to the installed HTTP implementation. */
#include <string.h>

#include <apr_strings.h>

#include "common/af_error.h"
#include "common/af_url.h"
#include "http/af_http.h"
#include "http/af_http_errors.h"

static const af_http_impl_t *http_impl;

void af_http_set_impl(const af_http_impl_t *impl)
{
    http_impl = impl;
}

apr_status_t af_http_url_check(const char *url)
{
    return af_url_ok(url) ? APR_SUCCESS : AF_EHTTP_URL;
}

apr_status_t af_http_perform(af_http_response_t **resp, const af_http_request_t *req, apr_pool_t *p)
{
    apr_status_t rv;

    if ((rv = af_http_url_check(req->url)) != APR_SUCCESS) {
        return rv;
    }
    if (http_impl == NULL) {
        http_impl = af_http_curl();
    }
    return http_impl->perform(resp, req, p);
}
