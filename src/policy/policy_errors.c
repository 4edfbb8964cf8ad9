/* policy_errors.c -- reason strings of the src/policy error block (AF_E_POLICY).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "policy/af_policy_errors.h"

const af_errdesc_t af_policy_errors[] = {
    {0, NULL, NULL}};
