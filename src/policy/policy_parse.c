/* policy_parse.c -- recursive-descent parser of the claim language, with the
 * compile-time type checks.  Grammar in af_policy.h.
 *
 * Every error is "column N: <what>" where N is the 1-based column (in characters)
 * of the token at fault; at the end of the input it is one past the last character.
 * The wording is part of the interface (tests pin it; operators grep for it).
 * Chains of and/or/+/- become one n-ary node, so the depth of the tree (and of
 * the evaluator's recursion) is the nesting depth of ( [ not !, which is capped.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "policy/policy_int.h"

typedef struct {
    lex_t lx;
    token_t tok;  /* the current token */
    token_t prev; /* the token consumed last (kind TK_EOF before the first) */
    apr_pool_t *pool;
    const char *err;
    apr_size_t err_off;
    int err_col; /* when set, the column of the error (else from err_off) */
    apr_status_t rv;
    int depth;
    int nodes;
} parser_t;

node_t *parse_value(parser_t *ps);

static node_t *fail(parser_t *ps, apr_size_t off, apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static node_t *fail(parser_t *ps, apr_size_t off, apr_status_t rv, const char *fmt, ...)
{
    va_list ap;

    if (ps->err == NULL) {
        va_start(ap, fmt);
        ps->err = apr_pvsprintf(ps->pool, fmt, ap);
        va_end(ap);
        ps->err_off = off;
        ps->rv = rv;
    }
    return NULL;
}

/* The source text of a token for messages, cut to 24 characters. */
static const char *tok_text(parser_t *ps, const token_t *t)
{
    apr_size_t n = t->len;

    if (t->kind == TK_EOF) {
        return "the end";
    }
    if (n > 24) {
        n = 21;
        while (n > 0 && ((unsigned char) ps->lx.src[t->off + n] & 0xC0) == 0x80) {
            n--;
        }
        return apr_pstrcat(ps->pool, "'", apr_pstrmemdup(ps->pool, ps->lx.src + t->off, n), "...'",
                           NULL);
    }
    return apr_pstrcat(ps->pool, "'", apr_pstrmemdup(ps->pool, ps->lx.src + t->off, n), "'", NULL);
}

static int advance(parser_t *ps)
{
    ps->prev = ps->tok;
    af_policy_lex_next(&ps->lx, &ps->tok);
    if (ps->tok.kind == TK_ERROR) {
        fail(ps, ps->lx.err_off, AF_EPOLICY_SYNTAX, "%s", ps->lx.err);
        return 0;
    }
    return 1;
}

static node_t *mknode(parser_t *ps, nkind_t kind, stype_t st, apr_size_t off)
{
    node_t *n = apr_pcalloc(ps->pool, sizeof(*n));

    n->kind = kind;
    n->stype = st;
    n->col = af_policy_column(ps->lx.src, off);
    ps->nodes++;
    return n;
}

static int enter(parser_t *ps)
{
    if (++ps->depth > AF_POLICY_MAX_DEPTH) {
        fail(ps, ps->tok.off, AF_EPOLICY_LIMIT, "expression nested too deeply");
        return 0;
    }
    return 1;
}

static const char *stype_name(stype_t t)
{
    switch (t) {
    case ST_NUM:
        return "a number";
    case ST_STR:
        return "a string";
    case ST_BOOL:
        return "a boolean";
    case ST_NULL:
        return "null";
    case ST_LIST:
        return "a list";
    case ST_REGEX:
        return "a regex";
    default:
        return "a value";
    }
}

static int is_cmp(tkind_t k)
{
    return k == TK_EQ || k == TK_NE || k == TK_LT || k == TK_LE || k == TK_GT || k == TK_GE ||
           k == TK_MATCH || k == TK_NMATCH || k == TK_IN;
}

static node_t *parse_or(parser_t *ps);

static node_t *expected_value(parser_t *ps)
{
    if (ps->prev.kind == TK_EOF) {
        return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected a value");
    }
    return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected a value after %s",
                tok_text(ps, &ps->prev));
}

/* path := IDENT ( "." IDENT | "[" INT "]" )* -- the current token is the IDENT */
static int parse_path(parser_t *ps, af_policy_path_t *path)
{
    apr_array_header_t *segs = apr_array_make(ps->pool, 4, sizeof(pseg_t));
    pseg_t *s;

    s = apr_array_push(segs);
    s->name = ps->tok.str;
    if (!advance(ps)) {
        return 0;
    }
    while (ps->tok.kind == TK_DOT || ps->tok.kind == TK_LBRACK) {
        if (ps->tok.kind == TK_DOT) {
            if (!advance(ps)) {
                return 0;
            }
            /* any word names a member after '.', keywords included: a.in, b.true */
            if (ps->tok.str == NULL || ps->tok.kind == TK_STRING || ps->tok.kind == TK_REGEX) {
                fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected a name after '.'");
                return 0;
            }
            s = apr_array_push(segs);
            s->name = ps->tok.str;
        } else {
            if (!advance(ps)) {
                return 0;
            }
            if (ps->tok.kind != TK_INT) {
                fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected an index after '['");
                return 0;
            }
            s = apr_array_push(segs);
            s->name = NULL;
            s->index = (apr_size_t) ps->tok.i;
            if (!advance(ps)) {
                return 0;
            }
            if (ps->tok.kind != TK_RBRACK) {
                fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected ']' after the index");
                return 0;
            }
        }
        if (!advance(ps)) {
            return 0;
        }
    }
    path->nseg = segs->nelts;
    path->seg = (pseg_t *) segs->elts;
    return 1;
}

/* fn "(" args ")" -- the current token is '(' and name the function's token */
static node_t *parse_call(parser_t *ps, const token_t *name)
{
    node_t *n;
    const char *open = apr_pstrcat(ps->pool, name->str, "(", NULL);

    if (strcmp(name->str, "now") == 0) {
        n = mknode(ps, N_NOW, ST_NUM, name->off);
        if (!advance(ps)) {
            return NULL;
        }
    } else if (strcmp(name->str, "exists") == 0 || strcmp(name->str, "len") == 0) {
        int ex = name->str[0] == 'e';
        n = mknode(ps, ex ? N_EXISTS : N_LEN, ex ? ST_BOOL : ST_NUM, name->off);
        if (!advance(ps)) {
            return NULL;
        }
        if (ps->tok.kind != TK_IDENT) {
            return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected a claim path after '%s'",
                        open);
        }
        if (!parse_path(ps, &n->u.path)) {
            return NULL;
        }
    } else {
        return fail(ps, name->off, AF_EPOLICY_SYNTAX, "unknown function '%s'", name->str);
    }
    if (ps->tok.kind != TK_RPAREN) {
        return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected ')' to close '%s'", open);
    }
    return advance(ps) ? n : NULL;
}

static node_t *parse_list(parser_t *ps)
{
    node_t *n = mknode(ps, N_LIST, ST_LIST, ps->tok.off);
    apr_array_header_t *kids = apr_array_make(ps->pool, 4, sizeof(node_t *));
    node_t *v;

    if (!enter(ps) || !advance(ps)) {
        return NULL;
    }
    for (;;) {
        v = parse_value(ps);
        if (v == NULL) {
            return NULL;
        }
        *(node_t **) apr_array_push(kids) = v;
        if (ps->tok.kind == TK_RBRACK) {
            break;
        }
        if (ps->tok.kind != TK_COMMA) {
            return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected ',' or ']' in a list");
        }
        if (!advance(ps)) {
            return NULL;
        }
    }
    ps->depth--;
    n->n = kids->nelts;
    n->kids = (node_t **) kids->elts;
    return advance(ps) ? n : NULL;
}

static node_t *parse_regex_misplaced(parser_t *ps)
{
    lex_t peek = ps->lx;
    token_t next;

    af_policy_lex_next(&peek, &next);
    if (next.kind == TK_MATCH || next.kind == TK_NMATCH) {
        return fail(ps, ps->tok.off, AF_EPOLICY_TYPE, "a regex must be on the right of '%s'",
                    next.kind == TK_MATCH ? "=~" : "!~");
    }
    return fail(ps, ps->tok.off, AF_EPOLICY_TYPE, "a regex can only follow '=~' or '!~'");
}

node_t *parse_value(parser_t *ps)
{
    node_t *n;
    token_t t = ps->tok;

    switch (t.kind) {
    case TK_IDENT:
        if (!advance(ps)) {
            return NULL;
        }
        if (ps->tok.kind == TK_LPAREN) {
            return parse_call(ps, &t);
        }
        ps->lx.pos = t.off; /* re-read the name as the start of a path */
        af_policy_lex_next(&ps->lx, &ps->tok);
        n = mknode(ps, N_PATH, ST_ANY, t.off);
        return parse_path(ps, &n->u.path) ? n : NULL;
    case TK_STRING:
        n = mknode(ps, N_STR, ST_STR, t.off);
        n->u.str.s = t.str;
        n->u.str.len = t.slen;
        break;
    case TK_INT:
        n = mknode(ps, N_INT, ST_NUM, t.off);
        n->u.i = t.i;
        break;
    case TK_REAL:
        n = mknode(ps, N_REAL, ST_NUM, t.off);
        n->u.d = t.d;
        break;
    case TK_TRUE:
    case TK_FALSE:
        n = mknode(ps, N_BOOL, ST_BOOL, t.off);
        n->u.b = t.kind == TK_TRUE;
        break;
    case TK_NULL:
        n = mknode(ps, N_NULL, ST_NULL, t.off);
        break;
    case TK_MINUS: /* a negative number literal */
        if (!advance(ps)) {
            return NULL;
        }
        if (ps->tok.kind == TK_INT) {
            n = mknode(ps, N_INT, ST_NUM, t.off);
            n->u.i = -ps->tok.i;
        } else if (ps->tok.kind == TK_REAL) {
            n = mknode(ps, N_REAL, ST_NUM, t.off);
            n->u.d = -ps->tok.d;
        } else {
            return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "expected a number after '-'");
        }
        break;
    case TK_REGEX:
        return parse_regex_misplaced(ps);
    case TK_LBRACK:
        return parse_list(ps);
    case TK_LPAREN:
        if (!enter(ps) || !advance(ps)) {
            return NULL;
        }
        n = parse_or(ps);
        if (n == NULL) {
            return NULL;
        }
        if (ps->tok.kind != TK_RPAREN) {
            return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX,
                        "expected ')' to close '(' at column %d",
                        af_policy_column(ps->lx.src, t.off));
        }
        ps->depth--;
        n->col = af_policy_column(ps->lx.src, t.off); /* messages point at the '(' */
        break;
    default:
        return expected_value(ps);
    }
    return advance(ps) ? n : NULL;
}

static node_t *parse_sum(parser_t *ps)
{
    apr_array_header_t *kids, *ops;
    node_t *first, *n, *v;
    int i;

    first = parse_value(ps);
    if (first == NULL || (ps->tok.kind != TK_PLUS && ps->tok.kind != TK_MINUS)) {
        return first;
    }
    n = mknode(ps, N_SUM, ST_NUM, 0);
    n->col = first->col;
    kids = apr_array_make(ps->pool, 4, sizeof(node_t *));
    ops = apr_array_make(ps->pool, 4, sizeof(char));
    *(node_t **) apr_array_push(kids) = first;
    *(char *) apr_array_push(ops) = ' ';
    while (ps->tok.kind == TK_PLUS || ps->tok.kind == TK_MINUS) {
        *(char *) apr_array_push(ops) = ps->tok.kind == TK_PLUS ? '+' : '-';
        if (!advance(ps) || (v = parse_value(ps)) == NULL) {
            return NULL;
        }
        *(node_t **) apr_array_push(kids) = v;
    }
    n->n = kids->nelts;
    n->kids = (node_t **) kids->elts;
    n->ops = ops->elts;
    for (i = 0; i < n->n; i++) {
        stype_t st = n->kids[i]->stype;
        if (st != ST_ANY && st != ST_NUM) {
            char op = n->ops[i == 0 ? 1 : i];
            fail(ps, 0, AF_EPOLICY_TYPE, "'%c' needs numbers, found %s", op, stype_name(st));
            if (ps->err_col == 0) {
                ps->err_col = n->kids[i]->col;
            }
            return NULL;
        }
    }
    return n;
}

static const char *const op_text[] = {"==", "!=", "<", "<=", ">", ">=", "=~", "!~", "in"};

/* compile-time type checks of `a op b`; returns an error message or NULL */
static const char *check_cmp(parser_t *ps, cmpop_t op, stype_t a, stype_t b)
{
    const char *o = op_text[op];

    switch (op) {
    case OP_EQ:
    case OP_NE:
        if (a == ST_LIST || b == ST_LIST) {
            return apr_psprintf(ps->pool, "'%s' cannot compare a list; use 'in'", o);
        }
        break;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        if (a == ST_BOOL || a == ST_NULL || a == ST_LIST) {
            return apr_psprintf(ps->pool, "'%s' needs numbers or strings, found %s", o,
                                stype_name(a));
        }
        if (b == ST_BOOL || b == ST_NULL || b == ST_LIST) {
            return apr_psprintf(ps->pool, "'%s' needs numbers or strings, found %s", o,
                                stype_name(b));
        }
        break;
    case OP_MATCH:
    case OP_NMATCH:
        if (a != ST_ANY && a != ST_STR) {
            return apr_psprintf(ps->pool, "'%s' needs a string on the left, found %s", o,
                                stype_name(a));
        }
        return NULL;
    case OP_IN:
        if (b == ST_NUM || b == ST_BOOL || b == ST_NULL) {
            return apr_psprintf(ps->pool, "'in' needs a list or a string on the right, found %s",
                                stype_name(b));
        }
        if (a == ST_LIST) {
            return "'in' cannot look for a list";
        }
        if (b == ST_STR && a != ST_ANY && a != ST_STR) {
            return apr_psprintf(ps->pool, "'in' a string needs a string on the left, found %s",
                                stype_name(a));
        }
        return NULL;
    }
    if (a != ST_ANY && b != ST_ANY && a != b) {
        return apr_psprintf(ps->pool, "'%s' compares %s with %s", o, stype_name(a), stype_name(b));
    }
    return NULL;
}

static node_t *parse_cmp(parser_t *ps)
{
    static const tkind_t kinds[] = {TK_EQ, TK_NE,    TK_LT,     TK_LE, TK_GT,
                                    TK_GE, TK_MATCH, TK_NMATCH, TK_IN};
    node_t *a, *b, *n;
    token_t optok;
    cmpop_t op = OP_EQ;
    const char *msg;
    int i;

    a = parse_sum(ps);
    if (a == NULL || !is_cmp(ps->tok.kind)) {
        return a;
    }
    optok = ps->tok;
    for (i = 0; i < 9; i++) {
        if (kinds[i] == optok.kind) {
            op = (cmpop_t) i;
        }
    }
    if (!advance(ps)) {
        return NULL;
    }
    if (op == OP_MATCH || op == OP_NMATCH) {
        af_policy_rx_t *rx;
        const char *rerr;
        apr_size_t roff;
        apr_status_t rv;

        if (ps->tok.kind != TK_REGEX) {
            return fail(ps, ps->tok.off, AF_EPOLICY_TYPE, "expected a regex after '%s'",
                        op_text[op]);
        }
        rv = af_policy_rx_compile(&rx, &rerr, &roff, ps->tok.str, ps->tok.slen, ps->tok.icase,
                                  ps->pool);
        if (rv != APR_SUCCESS) {
            return fail(ps, ps->tok.off + 1 + roff, rv, "%s", rerr);
        }
        b = mknode(ps, N_REGEX, ST_REGEX, ps->tok.off);
        b->u.rx = rx;
        if (!advance(ps)) {
            return NULL;
        }
    } else {
        b = parse_sum(ps);
        if (b == NULL) {
            return NULL;
        }
    }
    msg = check_cmp(ps, op, a->stype, b->stype);
    if (msg != NULL) {
        return fail(ps, optok.off, AF_EPOLICY_TYPE, "%s", msg);
    }
    if (is_cmp(ps->tok.kind)) {
        return fail(ps, ps->tok.off, AF_EPOLICY_SYNTAX, "comparisons do not chain; use 'and'");
    }
    n = mknode(ps, N_CMP, ST_BOOL, optok.off);
    n->col = a->col;
    n->op = op;
    n->n = 2;
    n->kids = apr_palloc(ps->pool, 2 * sizeof(node_t *));
    n->kids[0] = a;
    n->kids[1] = b;
    return n;
}

static node_t *parse_unary(parser_t *ps)
{
    node_t *n, *x;

    if (ps->tok.kind != TK_NOT) {
        return parse_cmp(ps);
    }
    n = mknode(ps, N_NOT, ST_BOOL, ps->tok.off);
    if (!enter(ps) || !advance(ps) || (x = parse_unary(ps)) == NULL) {
        return NULL;
    }
    ps->depth--;
    n->n = 1;
    n->kids = apr_palloc(ps->pool, sizeof(node_t *));
    n->kids[0] = x;
    return n;
}

/* and := unary ( ("&&" | "and") unary )*   or := and ( ("||" | "or") and )* */
static node_t *parse_chain(parser_t *ps, tkind_t sep)
{
    apr_array_header_t *kids;
    node_t *first, *n, *v;

    first = sep == TK_OR ? parse_chain(ps, TK_AND) : parse_unary(ps);
    if (first == NULL || ps->tok.kind != sep) {
        return first;
    }
    n = mknode(ps, sep == TK_OR ? N_OR : N_AND, ST_BOOL, 0);
    n->col = first->col;
    kids = apr_array_make(ps->pool, 4, sizeof(node_t *));
    *(node_t **) apr_array_push(kids) = first;
    while (ps->tok.kind == sep) {
        if (!advance(ps)) {
            return NULL;
        }
        v = sep == TK_OR ? parse_chain(ps, TK_AND) : parse_unary(ps);
        if (v == NULL) {
            return NULL;
        }
        *(node_t **) apr_array_push(kids) = v;
    }
    n->n = kids->nelts;
    n->kids = (node_t **) kids->elts;
    return n;
}

static node_t *parse_or(parser_t *ps)
{
    return parse_chain(ps, TK_OR);
}

static apr_status_t parser_start(parser_t *ps, const char *src, apr_pool_t *p)
{
    apr_size_t len = strlen(src), bad;

    memset(ps, 0, sizeof(*ps));
    ps->pool = p;
    ps->prev.kind = TK_EOF;
    af_policy_lex_init(&ps->lx, src, len, p);
    if (len > AF_POLICY_MAX_LEN) {
        fail(ps, 0, AF_EPOLICY_LIMIT, "expression too long (more than %d bytes)",
             AF_POLICY_MAX_LEN);
        return ps->rv;
    }
    if (!af_policy_utf8_valid(src, len, &bad)) {
        fail(ps, bad, AF_EPOLICY_SYNTAX, "invalid UTF-8");
        return ps->rv;
    }
    af_policy_lex_next(&ps->lx, &ps->tok);
    if (ps->tok.kind == TK_ERROR) {
        fail(ps, ps->lx.err_off, AF_EPOLICY_SYNTAX, "%s", ps->lx.err);
        return ps->rv;
    }
    return APR_SUCCESS;
}

static const char *format_error(parser_t *ps)
{
    int col;

    col = ps->err_col ? ps->err_col : af_policy_column(ps->lx.src, ps->err_off);
    return apr_psprintf(ps->pool, "column %d: %s", col, ps->err);
}

apr_status_t af_policy_compile(af_policy_t **out, const char **err, const char *src, apr_pool_t *p)
{
    parser_t ps;
    af_policy_t *pol;
    node_t *root = NULL;

    *out = NULL;
    *err = NULL;
    if (parser_start(&ps, src, p) == APR_SUCCESS) {
        root = parse_or(&ps);
        if (root != NULL && ps.tok.kind != TK_EOF) {
            if (ps.tok.kind == TK_RPAREN) {
                fail(&ps, ps.tok.off, AF_EPOLICY_SYNTAX, "unexpected ')' without '('");
            } else {
                fail(&ps, ps.tok.off, AF_EPOLICY_SYNTAX, "unexpected %s", tok_text(&ps, &ps.tok));
            }
        }
    }
    if (ps.err != NULL) {
        *err = format_error(&ps);
        return ps.rv;
    }
    pol = apr_pcalloc(p, sizeof(*pol));
    pol->source = apr_pstrdup(p, src);
    pol->root = root;
    pol->nodes = ps.nodes;
    *out = pol;
    return APR_SUCCESS;
}

static apr_status_t compile_path(af_policy_path_t *path, const char **err, const char *src,
                                 apr_pool_t *p)
{
    parser_t ps;

    if (parser_start(&ps, src, p) == APR_SUCCESS) {
        if (ps.tok.kind != TK_IDENT) {
            fail(&ps, ps.tok.off, AF_EPOLICY_SYNTAX, "expected a claim path");
        } else if (parse_path(&ps, path) && ps.tok.kind != TK_EOF) {
            fail(&ps, ps.tok.off, AF_EPOLICY_SYNTAX, "unexpected %s after the claim path",
                 tok_text(&ps, &ps.tok));
        }
    }
    if (ps.err != NULL) {
        *err = format_error(&ps);
        return ps.rv;
    }
    return APR_SUCCESS;
}

apr_status_t af_policy_path_compile(af_policy_path_t **out, const char **err, const char *src,
                                    apr_pool_t *p)
{
    af_policy_path_t *path = apr_pcalloc(p, sizeof(*path));
    apr_status_t rv;

    *out = NULL;
    rv = compile_path(path, err, src, p);
    if (rv == APR_SUCCESS) {
        *out = path;
    }
    return rv;
}

apr_status_t af_policy_compile_claim(af_policy_t **out, const char **err, const char *path,
                                     const char *const *values, int nvalues, apr_pool_t *p)
{
    af_policy_t *pol;
    node_t *n;
    apr_status_t rv;
    const char *source;
    char **strs;
    int i;

    *out = NULL;
    n = apr_pcalloc(p, sizeof(*n));
    n->kind = N_CLAIM;
    n->stype = ST_BOOL;
    n->col = 1;
    rv = compile_path(&n->u.path, err, path, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (nvalues < 1) {
        *err = "expected at least one value after the claim path";
        return AF_EPOLICY_SYNTAX;
    }
    strs = apr_palloc(p, (apr_size_t) nvalues * sizeof(char *));
    source = path;
    for (i = 0; i < nvalues; i++) {
        strs[i] = apr_pstrdup(p, values[i]);
        source = apr_pstrcat(p, source, " ", values[i], NULL);
    }
    n->strs = (const char *const *) strs;
    n->n = nvalues;
    pol = apr_pcalloc(p, sizeof(*pol));
    pol->source = source;
    pol->root = n;
    pol->nodes = 1;
    *out = pol;
    return APR_SUCCESS;
}

const char *af_policy_source(const af_policy_t *pol)
{
    return pol->source;
}

int af_policy_nodes(const af_policy_t *pol)
{
    return pol->nodes;
}
