/* token_errors.c -- reason strings of the src/token error block (AF_E_TOKEN).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "token/af_token_errors.h"

const af_errdesc_t af_token_errors[] = {{AF_ETOKEN_FORMAT, "refresh_token_malformed"},
                                        {AF_ETOKEN_SEAL, "sealed_blob_invalid"},
                                        {AF_ETOKEN_EXPIRED, "sealed_blob_expired"},
                                        {AF_ETOKEN_TOOBIG, "access_token_too_large"},
                                        {AF_ETOKEN_SECRET, "secret_file_invalid"},
                                        {AF_ETOKEN_CLAIMS, "access_token_claims_invalid"},
                                        {0, NULL}};
