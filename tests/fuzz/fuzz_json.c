/* fuzz_json.c -- differential fuzzing of our strict JSON reader against jansson.
 *
 * af_json_read (src/common/json_reader.c) replaces json_loadb on the hot path for speed.
 * The safety property: whatever our reader accepts, jansson (with JSON_REJECT_DUPLICATES,
 * which also refuses NUL in strings and trailing bytes) accepts too, and both build equal
 * values.  Our reader may be stricter (depth cap, BOM), never looser.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/af_error.h"
#include "common/json_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *ours = NULL, *theirs;
    json_error_t err;
    apr_status_t rv;

    rv = af_json_read(&ours, (const char *) data, size);
    theirs = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (rv == APR_SUCCESS) {
        if (theirs == NULL || !json_equal(ours, theirs)) {
            abort(); /* our reader accepted what jansson refuses, or read it differently */
        }
    } else if (rv != AF_EJSON && rv != AF_EJSON_DEPTH) {
        abort(); /* only the documented codes */
    }
    json_decref(ours);
    json_decref(theirs);
    return 0;
}
