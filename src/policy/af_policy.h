/* af_policy.h -- the claim language of `Require authflow "EXPR"`.
 *
 * An expression is compiled once (at configuration time) into a small tree in a
 * long-lived pool; regexes are compiled then too (PCRE2, with the default options
 * of httpd's ap_regex: DOTALL and DOLLAR_ENDONLY; /re/i adds CASELESS).
 * Evaluation is pure: it reads a jansson claims object, allocates nothing except
 * one regex match block per context (from the context's pool, on the first regex
 * only), and never fails open: any error denies.
 *
 * Grammar (../shared/design/CONFIG.md, "The claim language"):
 *
 *   expr   := or
 *   or     := and ( ("||" | "or") and )*
 *   and    := unary ( ("&&" | "and") unary )*
 *   unary  := ("!" | "not") unary | cmp
 *   cmp    := sum [ op sum ]          op: == != < <= > >= =~ !~ in
 *   sum    := value ( ("+" | "-") value )*
 *   value  := path | STRING | NUMBER | true | false | null | /REGEX/[i]
 *           | "[" value ("," value)* "]" | "(" expr ")" | fn "(" args ")"
 *   path   := IDENT ( "." IDENT | "[" INT "]" )*
 *   fn     := exists(path) | len(path) | now()
 *
 * Semantics (see README "The claim language" for the operator-facing version):
 * - a bare value is true unless missing, false, null, "", 0 or [];
 * - a missing claim (or a value of the wrong type) makes any comparison false,
 *   also `!=`; values of different types are never equal nor ordered;
 *   `==`/`!=` with an array or object operand is false (use `in`);
 * - numbers compare numerically (integers exactly, otherwise as doubles);
 *   strings compare bytewise (UTF-8); `in` is membership in an array or list
 *   (by `==`) or substring in a string;
 * - len(path): characters (Unicode code points) of a string, elements of an
 *   array, members of an object; exists(path): the claim is present (any value,
 *   null included); now(): seconds since the epoch from the injected clock.
 * Errors are reported as "column N: ..." with a 1-based column counted in
 * characters of the expression.
 */
#ifndef AF_POLICY_H
#define AF_POLICY_H

#include <apr_pools.h>
#include <jansson.h>

#include "policy/af_policy_errors.h"

/** Longest accepted expression source, in bytes. */
#define AF_POLICY_MAX_LEN 4096
/** Deepest accepted nesting of ( [ not ! in an expression. */
#define AF_POLICY_MAX_DEPTH 64

typedef struct af_policy_t af_policy_t;
typedef struct af_policy_path_t af_policy_path_t;

/** The injected clock: seconds since the epoch. */
typedef apr_int64_t af_policy_clock_fn(void *baton);

/** Per-evaluation (or per-thread, reused) state.  Initialise with af_policy_ctx_init. */
typedef struct af_policy_ctx_t {
    af_policy_clock_fn *now; /* now(); NULL: now() has no value (comparisons false) */
    void *now_baton;
    apr_pool_t *pool;     /* source of the regex match block, allocated once per ctx */
    void *match;          /* internal: the regex match block (lazily created) */
    apr_uint32_t steps;   /* nodes evaluated since init (diagnostics, tests) */
    apr_status_t failure; /* internal: the first runtime error of an evaluation */
} af_policy_ctx_t;

/** Zero ctx and bind it to a pool (r->pool in httpd); set ctx->now afterwards. */
void af_policy_ctx_init(af_policy_ctx_t *ctx, apr_pool_t *pool);

/**
 * Compile an expression.
 * @param out the compiled policy, in p (with cleanups for its regexes)
 * @param err on failure: "column N: what was expected", a string in p
 * @return APR_SUCCESS, AF_EPOLICY_SYNTAX, AF_EPOLICY_TYPE, AF_EPOLICY_REGEX or
 *         AF_EPOLICY_LIMIT (longer than AF_POLICY_MAX_LEN, deeper than AF_POLICY_MAX_DEPTH)
 */
apr_status_t af_policy_compile(af_policy_t **out, const char **err, const char *src, apr_pool_t *p);

/**
 * Compile the `Require authflow-claim PATH VALUE...` shorthand: true when the claim
 * at PATH equals one of the values, or is an array containing one of them.  A value
 * matches a string claim by bytes, a boolean claim when it reads `true`/`false`, an
 * integer claim when it is that integer written in decimal.
 * @return APR_SUCCESS or AF_EPOLICY_SYNTAX (bad path, no value), err as above
 */
apr_status_t af_policy_compile_claim(af_policy_t **out, const char **err, const char *path,
                                     const char *const *values, int nvalues, apr_pool_t *p);

/**
 * Evaluate against a claims object (NULL behaves like an empty object).
 * @param allowed 1 when the expression is true, else 0 (always 0 on error)
 * @return APR_SUCCESS, or AF_EPOLICY_MATCH_LIMIT when a regex hit its match limit
 *         (the request is then denied whatever the rest of the expression says)
 */
apr_status_t af_policy_eval(int *allowed, const af_policy_t *pol, const json_t *claims,
                            af_policy_ctx_t *ctx);

/** The source text the policy was compiled from (for log lines). */
const char *af_policy_source(const af_policy_t *pol);

/** Number of nodes in the compiled tree. */
int af_policy_nodes(const af_policy_t *pol);

/**
 * Compile a claim path alone ("realm_access.roles", "groups[0]").
 * @return APR_SUCCESS or AF_EPOLICY_SYNTAX with err "column N: ..."
 */
apr_status_t af_policy_path_compile(af_policy_path_t **out, const char **err, const char *src,
                                    apr_pool_t *p);

/** Resolve a compiled path; NULL when absent.  Borrowed from claims. */
const json_t *af_policy_path_get(const af_policy_path_t *path, const json_t *claims);

/** The longest claim text handed to a backend (bytes). */
#define AF_POLICY_TEXT_MAX 4096

/**
 * A claim as text -- the one renderer of env export, AuthFlowExport headers and the
 * ap_expr function authflow_claim(): strings as they are, numbers as decimal text (an
 * integral real without fraction), true/false, arrays of scalars joined by sep (default
 * ","), arrays with a nested or sep-containing member and objects as compact JSON.
 * @return NULL when absent, null, or refused: a control character (CR, LF, NUL...) or
 *         longer than AF_POLICY_TEXT_MAX (a cut or cleaned value could name someone else)
 */
const char *af_policy_claim_text(const json_t *v, const char *sep, apr_pool_t *p);

#endif
