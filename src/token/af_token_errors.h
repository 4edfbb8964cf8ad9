/* af_token_errors.h -- error codes of src/token, in the AF_E_TOKEN block.
 * Append-only; each code has a row in token_errors.c. */
#ifndef AF_TOKEN_ERRORS_H
#define AF_TOKEN_ERRORS_H

#include "common/af_error.h"

#endif
