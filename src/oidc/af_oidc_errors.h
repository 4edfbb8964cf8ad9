/* af_oidc_errors.h -- error codes of src/oidc, in the AF_E_OIDC block.
 * Append-only; each code has a row in oidc_errors.c. */
#ifndef AF_OIDC_ERRORS_H
#define AF_OIDC_ERRORS_H

#include "common/af_error.h"

#endif
