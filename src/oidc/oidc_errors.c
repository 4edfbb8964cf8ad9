/* oidc_errors.c -- reason strings of the src/oidc error block (AF_E_OIDC).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "oidc/af_oidc_errors.h"

const af_errdesc_t af_oidc_errors[] = {
    {0, NULL, NULL}};
