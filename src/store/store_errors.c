/* store_errors.c -- reason strings of the src/store error block (AF_E_STORE).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "store/af_store_errors.h"

const af_errdesc_t af_store_errors[] = {{AF_ESTORE_UNKNOWN, "refresh_token_unknown"},
                                        {AF_ESTORE_EXPIRED, "login_expired"},
                                        {AF_ESTORE_REUSE, "refresh_token_reused"},
                                        {AF_ESTORE_REPLAY, "flow_replayed"},
                                        {AF_ESTORE_FULL, "store_full"},
                                        {AF_ESTORE_BUSY, "store_busy"},
                                        {AF_ESTORE_IO, "store_io_error"},
                                        {AF_ESTORE_REVOKED, "login_revoked"},
                                        {AF_ESTORE_CORRUPT, "store_record_corrupt"},
                                        {0, NULL}};
