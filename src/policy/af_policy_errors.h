/* af_policy_errors.h -- error codes of src/policy, in the AF_E_POLICY block.
 * Append-only; each code has a row in policy_errors.c. */
#ifndef AF_POLICY_ERRORS_H
#define AF_POLICY_ERRORS_H

#include "common/af_error.h"

#endif
