/* af_json.c -- strict JSON parsing into pool-owned jansson objects. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "common/af_error.h"
#include "common/af_json.h"
#include "common/json_reader.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *) data);
    return APR_SUCCESS;
}

json_t *af_json_pool_own(json_t *j, apr_pool_t *p)
{
    if (j != NULL) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

apr_status_t af_json_parse(json_t **out, const char *text, apr_size_t len, apr_size_t max_len,
                           apr_pool_t *p)
{
    json_t *j;
    apr_status_t rv;

    *out = NULL;
    if (text == NULL) {
        return AF_EJSON;
    }
    if (max_len != 0 && len > max_len) {
        return AF_ETOOBIG;
    }
    rv = af_json_read(&j, text, len);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return AF_EJSON;
    }
    *out = af_json_pool_own(j, p);
    return APR_SUCCESS;
}

const char *af_json_dump(const json_t *j, apr_pool_t *p)
{
    char *s;
    const char *r;

    if (j == NULL) {
        return NULL;
    }
    s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) {
        return NULL;
    }
    r = apr_pstrdup(p, s);
    free(s);
    return r;
}

json_t *af_json_path(const json_t *root, const char *path)
{
    const json_t *cur = root;
    const char *s = path;
    char name[256];

    if (root == NULL || path == NULL || *path == '\0') {
        return NULL;
    }
    /* a member whose name itself contains '.' or '[' ("http://example.com/is_root") */
    if (json_is_object(root)) {
        json_t *whole = json_object_get(root, path);
        if (whole != NULL) {
            return whole;
        }
    }
    while (*s != '\0' && cur != NULL) {
        apr_size_t n = strcspn(s, ".[");

        if (n > 0) {
            if (n >= sizeof(name) || !json_is_object(cur)) {
                return NULL;
            }
            memcpy(name, s, n);
            name[n] = '\0';
            cur = json_object_get(cur, name);
            s += n;
        }
        while (*s == '[' && cur != NULL) {
            char *end;
            unsigned long idx;

            if (s[1] < '0' || s[1] > '9' || !json_is_array(cur)) {
                return NULL;
            }
            idx = strtoul(s + 1, &end, 10);
            if (*end != ']') {
                return NULL;
            }
            cur = json_array_get(cur, (size_t) idx);
            s = end + 1;
        }
        if (*s == '.') {
            s++;
            if (*s == '\0') {
                return NULL;
            }
        } else if (*s != '\0') {
            return NULL;
        }
    }
    return (json_t *) cur;
}
