/* token_errors.c -- reason strings of the src/token error block (AF_E_TOKEN).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "token/af_token_errors.h"

const af_errdesc_t af_token_errors[] = {
    {AF_ETOKEN_FORMAT, "refresh_token_malformed", "not a refresh token of ours"},
    {AF_ETOKEN_SEAL, "sealed_blob_invalid", "sealed blob malformed, tampered or for another use"},
    {AF_ETOKEN_EXPIRED, "sealed_blob_expired", "sealed blob older than its maximum age"},
    {AF_ETOKEN_TOOBIG, "access_token_too_large", "the access token would not fit a 4 KB cookie"},
    {AF_ETOKEN_SECRET, "secret_file_invalid",
     "secret or key file has the wrong size or is readable by others"},
    {AF_ETOKEN_CLAIMS, "access_token_claims_invalid", "a required access-token claim is missing"},
    {0, NULL, NULL}};
