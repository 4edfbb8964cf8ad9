/* af_token_errors.h -- error codes of src/token, in the AF_E_TOKEN block.
 * Append-only; each code has a row in token_errors.c. */
#ifndef AF_TOKEN_ERRORS_H
#define AF_TOKEN_ERRORS_H

#include "common/af_error.h"

#define AF_ETOKEN_FORMAT  (AF_E_TOKEN + 1) /* "refresh_token_malformed" */
#define AF_ETOKEN_SEAL    (AF_E_TOKEN + 2) /* "sealed_blob_invalid" */
#define AF_ETOKEN_EXPIRED (AF_E_TOKEN + 3) /* "sealed_blob_expired" */
#define AF_ETOKEN_TOOBIG  (AF_E_TOKEN + 4) /* "access_token_too_large" */
#define AF_ETOKEN_SECRET  (AF_E_TOKEN + 5) /* "secret_file_invalid" */
#define AF_ETOKEN_CLAIMS  (AF_E_TOKEN + 6) /* "access_token_claims_invalid" */

#endif
