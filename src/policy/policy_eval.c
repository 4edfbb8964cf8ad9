/* policy_eval.c -- the evaluator: a pure walk of the compiled tree over jansson
 * claims.  Values are small structs on the C stack that borrow from the claims and
 * the tree; nothing is allocated (a regex's match block comes from the context,
 * once).  Missing claims and type mismatches are "no value": every comparison
 * with no value is false, and there is no coercion between types.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <apr_strings.h>

#include "policy/policy_int.h"

typedef enum { V_NONE, V_NULL, V_BOOL, V_INT, V_REAL, V_STR, V_ARR, V_OBJ, V_LIST } vkind_t;

typedef struct {
    vkind_t k;
    union {
        int b;
        apr_int64_t i;
        double d;
        struct {
            const char *s;
            apr_size_t n;
        } s;
        const json_t *j;    /* V_ARR, V_OBJ */
        const node_t *list; /* V_LIST: an N_LIST node, elements evaluated on demand */
    } u;
} val_t;

static void eval_value(val_t *v, const node_t *n, const json_t *claims, af_policy_ctx_t *ctx);
static int eval_bool(const node_t *n, const json_t *claims, af_policy_ctx_t *ctx);

void af_policy_ctx_init(af_policy_ctx_t *ctx, apr_pool_t *pool)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->pool = pool;
}

const json_t *af_policy_path_resolve(const af_policy_path_t *path, const json_t *claims)
{
    const json_t *j = claims;
    int i;

    for (i = 0; i < path->nseg && j != NULL; i++) {
        const pseg_t *s = &path->seg[i];
        if (s->name != NULL) {
            j = json_is_object(j) ? json_object_get(j, s->name) : NULL;
        } else {
            j = json_is_array(j) ? json_array_get(j, s->index) : NULL;
        }
    }
    return j;
}

const json_t *af_policy_path_get(const af_policy_path_t *path, const json_t *claims)
{
    return claims == NULL ? NULL : af_policy_path_resolve(path, claims);
}

static void from_json(val_t *v, const json_t *j)
{
    if (j == NULL) {
        v->k = V_NONE;
        return;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        v->k = V_OBJ;
        v->u.j = j;
        break;
    case JSON_ARRAY:
        v->k = V_ARR;
        v->u.j = j;
        break;
    case JSON_STRING:
        v->k = V_STR;
        v->u.s.s = json_string_value(j);
        v->u.s.n = json_string_length(j);
        break;
    case JSON_INTEGER:
        v->k = V_INT;
        v->u.i = (apr_int64_t) json_integer_value(j);
        break;
    case JSON_REAL:
        v->k = V_REAL;
        v->u.d = json_real_value(j);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->k = V_BOOL;
        v->u.b = json_is_true(j);
        break;
    default:
        v->k = V_NULL;
        break;
    }
}

static int truthy(const val_t *v)
{
    switch (v->k) {
    case V_BOOL:
        return v->u.b;
    case V_INT:
        return v->u.i != 0;
    case V_REAL:
        return v->u.d != 0.0;
    case V_STR:
        return v->u.s.n > 0;
    case V_ARR:
        return json_array_size(v->u.j) > 0;
    case V_OBJ:
        return 1;
    case V_LIST:
        return v->u.list->n > 0;
    default: /* V_NONE, V_NULL */
        return 0;
    }
}

static int is_num(const val_t *v)
{
    return v->k == V_INT || v->k == V_REAL;
}

static long double as_ld(const val_t *v)
{
    return v->k == V_INT ? (long double) v->u.i : (long double) v->u.d;
}

/* -1, 0, 1; or 2 when the two are not ordered (types differ, or not numbers/strings) */
static int order(const val_t *a, const val_t *b)
{
    if (is_num(a) && is_num(b)) {
        if (a->k == V_INT && b->k == V_INT) {
            return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        } else {
            long double x = as_ld(a), y = as_ld(b);
            return x < y ? -1 : x > y;
        }
    }
    if (a->k == V_STR && b->k == V_STR) {
        apr_size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        int c = memcmp(a->u.s.s, b->u.s.s, n);
        if (c != 0) {
            return c < 0 ? -1 : 1;
        }
        return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
    }
    return 2;
}

static int is_scalar(const val_t *v)
{
    return v->k == V_NULL || v->k == V_BOOL || v->k == V_INT || v->k == V_REAL || v->k == V_STR;
}

/* equality of two scalars (the caller checked is_scalar) */
static int equal(const val_t *a, const val_t *b)
{
    if (is_num(a) || is_num(b) || (a->k == V_STR && b->k == V_STR)) {
        return order(a, b) == 0;
    }
    if (a->k != b->k) {
        return 0;
    }
    return a->k == V_NULL || (a->k == V_BOOL && a->u.b == b->u.b);
}

static int contains(const char *hay, apr_size_t hn, const char *needle, apr_size_t nn)
{
    apr_size_t i;

    if (nn == 0) {
        return 1;
    }
    for (i = 0; i + nn <= hn; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nn) == 0) {
            return 1;
        }
    }
    return 0;
}

static int member(const val_t *a, const val_t *b, const json_t *claims, af_policy_ctx_t *ctx)
{
    val_t e;
    apr_size_t i, n;

    if (b->k == V_STR) {
        return a->k == V_STR && contains(b->u.s.s, b->u.s.n, a->u.s.s, a->u.s.n);
    }
    if (!is_scalar(a)) {
        return 0;
    }
    if (b->k == V_ARR) {
        n = json_array_size(b->u.j);
        for (i = 0; i < n; i++) {
            from_json(&e, json_array_get(b->u.j, i));
            if (is_scalar(&e) && equal(a, &e)) {
                return 1;
            }
        }
    } else if (b->k == V_LIST) {
        for (i = 0; i < (apr_size_t) b->u.list->n && !ctx->failure; i++) {
            eval_value(&e, b->u.list->kids[i], claims, ctx);
            if (is_scalar(&e) && equal(a, &e)) {
                return 1;
            }
        }
    }
    return 0;
}

static int eval_cmp(const node_t *n, const json_t *claims, af_policy_ctx_t *ctx)
{
    val_t a, b;
    int o, m;

    eval_value(&a, n->kids[0], claims, ctx);
    if (a.k == V_NONE) {
        return 0; /* a missing claim: every comparison is false, and b is not evaluated */
    }
    if (n->op == OP_MATCH || n->op == OP_NMATCH) {
        if (a.k != V_STR) {
            return 0;
        }
        m = af_policy_rx_match(n->kids[1]->u.rx, a.u.s.s, a.u.s.n, ctx);
        if (m < 0) {
            return 0;
        }
        return n->op == OP_MATCH ? m : !m;
    }
    eval_value(&b, n->kids[1], claims, ctx);
    if (b.k == V_NONE) {
        return 0;
    }
    switch (n->op) {
    case OP_EQ:
        return is_scalar(&a) && is_scalar(&b) && equal(&a, &b);
    case OP_NE:
        return is_scalar(&a) && is_scalar(&b) && !equal(&a, &b);
    case OP_IN:
        return member(&a, &b, claims, ctx);
    default:
        break;
    }
    o = order(&a, &b);
    if (o == 2) {
        return 0;
    }
    switch (n->op) {
    case OP_LT:
        return o < 0;
    case OP_LE:
        return o <= 0;
    case OP_GT:
        return o > 0;
    default:
        return o >= 0;
    }
}

/* `Require authflow-claim PATH VALUE...` on one JSON scalar */
static int claim_matches(const json_t *j, const char *s)
{
    char buf[32];

    switch (json_typeof(j)) {
    case JSON_STRING:
        return json_string_length(j) == strlen(s) && strcmp(json_string_value(j), s) == 0;
    case JSON_TRUE:
        return strcmp(s, "true") == 0;
    case JSON_FALSE:
        return strcmp(s, "false") == 0;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return strcmp(buf, s) == 0;
    default:
        return 0;
    }
}

static int eval_claim(const node_t *n, const json_t *claims)
{
    const json_t *j = af_policy_path_resolve(&n->u.path, claims);
    apr_size_t i, size = 1;
    int k;

    if (j == NULL) {
        return 0;
    }
    if (json_is_array(j)) {
        size = json_array_size(j);
    }
    for (i = 0; i < size; i++) {
        const json_t *e = json_is_array(j) ? json_array_get(j, i) : j;
        for (k = 0; k < n->n; k++) {
            if (claim_matches(e, n->strs[k])) {
                return 1;
            }
        }
    }
    return 0;
}

static int eval_bool(const node_t *n, const json_t *claims, af_policy_ctx_t *ctx)
{
    val_t v;
    int i;

    ctx->steps++;
    switch (n->kind) {
    case N_AND:
        for (i = 0; i < n->n; i++) {
            if (!eval_bool(n->kids[i], claims, ctx) || ctx->failure) {
                return 0;
            }
        }
        return 1;
    case N_OR:
        for (i = 0; i < n->n && !ctx->failure; i++) {
            if (eval_bool(n->kids[i], claims, ctx)) {
                return 1;
            }
        }
        return 0;
    case N_NOT:
        return !eval_bool(n->kids[0], claims, ctx);
    case N_CMP:
        return eval_cmp(n, claims, ctx);
    case N_CLAIM:
        return eval_claim(n, claims);
    case N_EXISTS:
        return af_policy_path_resolve(&n->u.path, claims) != NULL;
    default:
        ctx->steps--; /* counted again by eval_value */
        eval_value(&v, n, claims, ctx);
        return truthy(&v);
    }
}

static apr_int64_t utf8_chars(const char *s, apr_size_t n)
{
    apr_size_t i;
    apr_int64_t c = 0;

    for (i = 0; i < n; i++) {
        c += ((unsigned char) s[i] & 0xC0) != 0x80;
    }
    return c;
}

static void eval_sum(val_t *v, const node_t *n, const json_t *claims, af_policy_ctx_t *ctx)
{
    val_t x;
    int i, real = 0;
    apr_int64_t acc = 0;
    double dacc = 0;

    for (i = 0; i < n->n; i++) {
        eval_value(&x, n->kids[i], claims, ctx);
        if (!is_num(&x)) {
            v->k = V_NONE;
            return;
        }
        if (!real && x.k == V_INT) {
            apr_int64_t r;
            int ovf = n->ops[i] == '-' ? __builtin_sub_overflow(acc, x.u.i, &r)
                                       : __builtin_add_overflow(acc, x.u.i, &r);
            if (!ovf) {
                acc = r;
                continue;
            }
        }
        if (!real) {
            real = 1;
            dacc = (double) acc;
        }
        dacc += (n->ops[i] == '-' ? -1.0 : 1.0) * (x.k == V_INT ? (double) x.u.i : x.u.d);
    }
    if (real) {
        v->k = V_REAL;
        v->u.d = dacc;
    } else {
        v->k = V_INT;
        v->u.i = acc;
    }
}

static void eval_value(val_t *v, const node_t *n, const json_t *claims, af_policy_ctx_t *ctx)
{
    const json_t *j;

    ctx->steps++;
    switch (n->kind) {
    case N_BOOL:
        v->k = V_BOOL;
        v->u.b = n->u.b;
        return;
    case N_NULL:
        v->k = V_NULL;
        return;
    case N_INT:
        v->k = V_INT;
        v->u.i = n->u.i;
        return;
    case N_REAL:
        v->k = V_REAL;
        v->u.d = n->u.d;
        return;
    case N_STR:
        v->k = V_STR;
        v->u.s.s = n->u.str.s;
        v->u.s.n = n->u.str.len;
        return;
    case N_LIST:
        v->k = V_LIST;
        v->u.list = n;
        return;
    case N_PATH:
        from_json(v, af_policy_path_resolve(&n->u.path, claims));
        return;
    case N_LEN:
        j = af_policy_path_resolve(&n->u.path, claims);
        v->k = V_INT;
        if (json_is_string(j)) {
            v->u.i = utf8_chars(json_string_value(j), json_string_length(j));
        } else if (json_is_array(j)) {
            v->u.i = (apr_int64_t) json_array_size(j);
        } else if (json_is_object(j)) {
            v->u.i = (apr_int64_t) json_object_size(j);
        } else {
            v->k = V_NONE;
        }
        return;
    case N_NOW:
        if (ctx->now == NULL) {
            v->k = V_NONE;
        } else {
            v->k = V_INT;
            v->u.i = ctx->now(ctx->now_baton);
        }
        return;
    case N_SUM:
        eval_sum(v, n, claims, ctx);
        return;
    case N_REGEX: /* never a value: the parser only puts it right of =~ */
        v->k = V_NONE;
        return;
    default: /* boolean nodes */
        ctx->steps--;
        v->k = V_BOOL;
        v->u.b = eval_bool(n, claims, ctx);
        return;
    }
}

apr_status_t af_policy_eval(int *allowed, const af_policy_t *pol, const json_t *claims,
                            af_policy_ctx_t *ctx)
{
    int r;

    ctx->failure = APR_SUCCESS;
    *allowed = 0;
    if (claims != NULL && !json_is_object(claims)) {
        claims = NULL; /* NULL: every path is missing */
    }
    r = eval_bool(pol->root, claims, ctx);
    if (ctx->failure != APR_SUCCESS) {
        return ctx->failure;
    }
    *allowed = r != 0;
    return APR_SUCCESS;
}

static const char *scalar_text(const json_t *j, apr_pool_t *p)
{
    double d;

    switch (json_typeof(j)) {
    case JSON_STRING:
        return apr_pstrmemdup(p, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t) json_integer_value(j));
    case JSON_REAL:
        d = json_real_value(j);
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double) (apr_int64_t) d) {
            return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t) d);
        }
        return apr_psprintf(p, "%.17g", d);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return NULL;
    }
}

static const char *dump_json(const json_t *v, apr_pool_t *p)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *r = s ? apr_pstrdup(p, s) : NULL;

    free(s);
    return r;
}

/* A value may be handed over only whole: never cut or cleaned (it could name someone else). */
static int text_ok(const char *v)
{
    apr_size_t n = strlen(v), i;

    if (n > AF_POLICY_TEXT_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char) v[i] < 0x20 || v[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

const char *af_policy_claim_text(const json_t *v, const char *sep, apr_pool_t *p)
{
    const char *t;
    apr_size_t i, n;

    if (v == NULL || json_is_null(v)) {
        return NULL;
    }
    sep = sep != NULL ? sep : ",";
    if (json_is_array(v)) {
        const char **parts;
        int simple = 1;

        n = json_array_size(v);
        parts = apr_palloc(p, sizeof(*parts) * (n + 1));
        for (i = 0; i < n && simple; i++) {
            parts[i] = scalar_text(json_array_get(v, i), p);
            simple = parts[i] != NULL && strstr(parts[i], sep) == NULL;
        }
        if (simple) {
            struct iovec *vec = apr_palloc(p, sizeof(*vec) * (2 * n + 1));
            apr_size_t k = 0;

            for (i = 0; i < n; i++) {
                if (i > 0) {
                    vec[k].iov_base = (void *) sep;
                    vec[k++].iov_len = strlen(sep);
                }
                vec[k].iov_base = (void *) parts[i];
                vec[k++].iov_len = strlen(parts[i]);
            }
            t = k ? apr_pstrcatv(p, vec, k, NULL) : "";
        } else {
            t = dump_json(v, p); /* nested or ambiguous members: JSON text */
        }
    } else if (json_is_object(v)) {
        t = dump_json(v, p);
    } else {
        t = scalar_text(v, p);
    }
    return t != NULL && text_ok(t) ? t : NULL;
}
