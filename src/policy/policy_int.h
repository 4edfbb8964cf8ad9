/* policy_int.h -- internals of src/policy shared by the lexer, parser and evaluator. */
#ifndef AF_POLICY_INT_H
#define AF_POLICY_INT_H

#include <apr_pools.h>
#include <jansson.h>

#include "policy/af_policy.h"

/* ---- tokens (policy_lex.c) ---------------------------------------------------------- */
typedef enum {
    TK_EOF,
    TK_IDENT,
    TK_INT,
    TK_REAL,
    TK_STRING,
    TK_REGEX,
    TK_TRUE,
    TK_FALSE,
    TK_NULL,
    TK_AND, /* "and" or "&&" */
    TK_OR,  /* "or" or "||" */
    TK_NOT, /* "not" or "!" */
    TK_IN,
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACK,
    TK_RBRACK,
    TK_COMMA,
    TK_DOT,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_MATCH,
    TK_NMATCH,
    TK_PLUS,
    TK_MINUS,
    TK_ERROR /* the lexer failed: lex_t.err holds the message */
} tkind_t;

typedef struct {
    tkind_t kind;
    apr_size_t off;  /* byte offset of the first character in the source */
    apr_size_t len;  /* bytes of source text */
    const char *str; /* TK_STRING: decoded value; TK_REGEX: pattern; TK_IDENT: name */
    apr_size_t slen; /* length of str */
    int icase;       /* TK_REGEX: /i */
    apr_int64_t i;   /* TK_INT */
    double d;        /* TK_REAL */
} token_t;

typedef struct {
    const char *src;
    apr_size_t len;
    apr_size_t pos;
    apr_pool_t *pool;
    const char *err;    /* message of a TK_ERROR */
    apr_size_t err_off; /* its byte offset */
} lex_t;

void af_policy_lex_init(lex_t *lx, const char *src, apr_size_t len, apr_pool_t *p);
/** Next token; TK_ERROR sets lx->err/err_off. */
void af_policy_lex_next(lex_t *lx, token_t *t);
/** 1-based column, in UTF-8 characters, of a byte offset. */
int af_policy_column(const char *src, apr_size_t off);
/** Is the whole buffer valid UTF-8?  Sets *bad to the first bad byte's offset if not. */
int af_policy_utf8_valid(const char *s, apr_size_t len, apr_size_t *bad);

/* ---- the tree (policy_parse.c builds it, policy_eval.c walks it) -------------------- */
typedef enum {
    N_BOOL,
    N_NULL,
    N_INT,
    N_REAL,
    N_STR,
    N_LIST,   /* kids: the elements */
    N_PATH,   /* path */
    N_EXISTS, /* path */
    N_LEN,    /* path */
    N_NOW,
    N_NOT,   /* kids[0] */
    N_AND,   /* kids[0..n) */
    N_OR,    /* kids[0..n) */
    N_SUM,   /* kids[0..n), ops[1..n) are '+' or '-' */
    N_CMP,   /* kids[0] op kids[1] (for =~ / !~ kids[1] is an N_REGEX) */
    N_REGEX, /* rx */
    N_CLAIM  /* path, strs: the authflow-claim shorthand */
} nkind_t;

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_MATCH, OP_NMATCH, OP_IN } cmpop_t;

/* static types for compile-time checks */
typedef enum { ST_ANY, ST_NUM, ST_STR, ST_BOOL, ST_NULL, ST_LIST, ST_REGEX } stype_t;

typedef struct {
    const char *name; /* NULL: an array index */
    apr_size_t index;
} pseg_t;

struct af_policy_path_t {
    int nseg;
    pseg_t *seg;
};

typedef struct af_policy_rx_t af_policy_rx_t;

typedef struct node_t node_t;
struct node_t {
    nkind_t kind;
    stype_t stype;
    int col; /* column of the node's first token, for messages */
    int n;   /* number of kids / strs */
    node_t **kids;
    char *ops; /* N_SUM */
    cmpop_t op;
    union {
        int b;
        apr_int64_t i;
        double d;
        struct {
            const char *s;
            apr_size_t len;
        } str;
        af_policy_path_t path;
        af_policy_rx_t *rx;
    } u;
    const char *const *strs; /* N_CLAIM values */
};

struct af_policy_t {
    const char *source;
    node_t *root;
    int nodes;
};

/* ---- regexes (policy_regex.c) -------------------------------------------------------- */
/** Compile; on error *err = "invalid regex: <pcre2 message>", *err_off = offset in pattern. */
apr_status_t af_policy_rx_compile(af_policy_rx_t **out, const char **err, apr_size_t *err_off,
                                  const char *pattern, apr_size_t len, int icase, apr_pool_t *p);
/** 1 match, 0 no match; -1 error (ctx->failure set). */
int af_policy_rx_match(const af_policy_rx_t *rx, const char *s, apr_size_t len,
                       af_policy_ctx_t *ctx);

/* ---- paths (policy_eval.c) ----------------------------------------------------------- */
const json_t *af_policy_path_resolve(const af_policy_path_t *path, const json_t *claims);

#endif
