/* store_errors.c -- reason strings of the src/store error block (AF_E_STORE).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "store/af_store_errors.h"

const af_errdesc_t af_store_errors[] = {
    {0, NULL, NULL}};
