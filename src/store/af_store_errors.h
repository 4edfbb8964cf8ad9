/* af_store_errors.h -- error codes of src/store, in the AF_E_STORE block.
 * Append-only; each code has a row in store_errors.c. */
#ifndef AF_STORE_ERRORS_H
#define AF_STORE_ERRORS_H

#include "common/af_error.h"

#endif
