/* af_store_errors.h -- error codes of src/store, in the AF_E_STORE block.
 * Append-only; each code has a row in store_errors.c. */
#ifndef AF_STORE_ERRORS_H
#define AF_STORE_ERRORS_H

#include "common/af_error.h"

#define AF_ESTORE_UNKNOWN (AF_E_STORE + 1) /* "refresh_token_unknown"  -> 401 */
#define AF_ESTORE_EXPIRED (AF_E_STORE + 2) /* "login_expired"          -> 401, clear cookies */
#define AF_ESTORE_REUSE   (AF_E_STORE + 3) /* "refresh_token_reused"   -> 401, family revoked */
#define AF_ESTORE_REPLAY  (AF_E_STORE + 4) /* "flow_replayed"          -> 400 */
#define AF_ESTORE_FULL    (AF_E_STORE + 5) /* "store_full"             -> 503 */
#define AF_ESTORE_BUSY    (AF_E_STORE + 6) /* "store_busy"             -> 503 (also: map grown) */
#define AF_ESTORE_IO      (AF_E_STORE + 7) /* "store_io_error"         -> 503 */
#define AF_ESTORE_REVOKED (AF_E_STORE + 8) /* "login_revoked" */
#define AF_ESTORE_CORRUPT (AF_E_STORE + 9) /* "store_record_corrupt"   -> 503 */

#endif
