/* token_errors.c -- reason strings of the src/token error block (AF_E_TOKEN).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "token/af_token_errors.h"

const af_errdesc_t af_token_errors[] = {
    {0, NULL, NULL}};
