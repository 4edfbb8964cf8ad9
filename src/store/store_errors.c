/* store_errors.c -- reason strings of the src/store error block (AF_E_STORE).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "store/af_store_errors.h"

const af_errdesc_t af_store_errors[] = {
    {AF_ESTORE_UNKNOWN, "refresh_token_unknown", "the refresh token is not known"},
    {AF_ESTORE_EXPIRED, "login_expired", "the login expired or was revoked"},
    {AF_ESTORE_REUSE, "refresh_token_reused",
     "a rotated refresh token was presented again: the login is revoked"},
    {AF_ESTORE_REPLAY, "flow_replayed", "the login flow was already used"},
    {AF_ESTORE_FULL, "store_full", "the store is full (map size or disk)"},
    {AF_ESTORE_BUSY, "store_busy",
     "the store has no free reader slot, or its map was grown by another process"},
    {AF_ESTORE_IO, "store_io_error", "the store failed"},
    {AF_ESTORE_REVOKED, "login_revoked", "the login was revoked"},
    {AF_ESTORE_CORRUPT, "store_record_corrupt", "a store record is malformed"},
    {0, NULL, NULL}};
