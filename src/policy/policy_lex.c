/* policy_lex.c -- the tokenizer of the claim language.
 *
 * Strings: '...' or "..." with the escapes \\ \' \" \/ \n \r \t \uXXXX (surrogate
 * pairs combine; \u0000 and lone surrogates are refused).  Regexes: /.../ with an
 * optional i flag; a backslash protects the next character and '/' inside [...]
 * does not end the regex; the text between the slashes goes to PCRE unchanged.
 * Numbers: 12, 1.5, 2e3 (a leading '-' is handled by the parser).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "common/af_parse.h"
#include "policy/policy_int.h"

void af_policy_lex_init(lex_t *lx, const char *src, apr_size_t len, apr_pool_t *p)
{
    memset(lx, 0, sizeof(*lx));
    lx->src = src;
    lx->len = len;
    lx->pool = p;
}

int af_policy_column(const char *src, apr_size_t off)
{
    apr_size_t i;
    int col = 1;

    for (i = 0; i < off; i++) {
        if (((unsigned char) src[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    return col;
}

int af_policy_utf8_valid(const char *s, apr_size_t len, apr_size_t *bad)
{
    const unsigned char *u = (const unsigned char *) s;
    apr_size_t i = 0;

    while (i < len) {
        unsigned c = u[i];
        apr_size_t n, k;
        unsigned cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07;
        } else {
            goto fail;
        }
        for (k = 1; k <= n; k++) {
            if (i + k >= len || (u[i + k] & 0xC0) != 0x80) {
                goto fail;
            }
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            goto fail;
        }
        i += n + 1;
    }
    return 1;
fail:
    *bad = i;
    return 0;
}

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ident(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static void lex_error(lex_t *lx, token_t *t, apr_size_t off, const char *msg)
{
    lx->err = msg;
    lx->err_off = off;
    t->kind = TK_ERROR;
}

static apr_size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char) (0xC0 | (cp >> 6));
        o[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char) (0xE0 | (cp >> 12));
        o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char) (0xF0 | (cp >> 18));
    o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX at s[i] (s[i] == '\\', s[i+1] == 'u'); returns bytes consumed or 0. */
static apr_size_t lex_uescape(const lex_t *lx, apr_size_t i, unsigned *cp)
{
    unsigned hi, lo;

    if (i + 6 > lx->len || !af_parse_hex4(lx->src + i + 2, &hi)) {
        return 0;
    }
    if (hi >= 0xDC00 && hi <= 0xDFFF) {
        return 0;
    }
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (i + 12 > lx->len || lx->src[i + 6] != '\\' || lx->src[i + 7] != 'u' ||
            !af_parse_hex4(lx->src + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
            return 0;
        }
        *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        return 12;
    }
    if (hi == 0) {
        return 0;
    }
    *cp = hi;
    return 6;
}

static void lex_string(lex_t *lx, token_t *t)
{
    char q = lx->src[lx->pos];
    apr_size_t i = lx->pos + 1;
    char *out = apr_palloc(lx->pool, lx->len - lx->pos + 1);
    apr_size_t o = 0;

    while (i < lx->len && lx->src[i] != q) {
        char c = lx->src[i];
        if (c != '\\') {
            out[o++] = c;
            i++;
            continue;
        }
        if (i + 1 >= lx->len) {
            i = lx->len; /* a backslash at the very end: still unterminated */
            break;
        }
        switch (lx->src[i + 1]) {
        case '\\':
        case '\'':
        case '"':
        case '/':
            out[o++] = lx->src[i + 1];
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned cp;
            apr_size_t used = lex_uescape(lx, i, &cp);
            if (used == 0) {
                lex_error(lx, t, i, "invalid \\u escape in a string");
                return;
            }
            o += put_utf8(out + o, cp);
            i += used;
            continue;
        }
        default: {
            /* show the escaped character whole, even when it is multi-byte */
            apr_size_t n = 1;
            while (i + 1 + n < lx->len && ((unsigned char) lx->src[i + 1 + n] & 0xC0) == 0x80) {
                n++;
            }
            lex_error(lx, t, i,
                      apr_psprintf(lx->pool, "invalid escape '\\%.*s' in a string", (int) n,
                                   lx->src + i + 1));
            return;
        }
        }
        i += 2;
    }
    if (i >= lx->len) {
        lex_error(lx, t, lx->pos, "unterminated string");
        return;
    }
    out[o] = '\0';
    t->kind = TK_STRING;
    t->str = out;
    t->slen = o;
    lx->pos = i + 1;
}

static void lex_regex(lex_t *lx, token_t *t)
{
    apr_size_t start = lx->pos + 1, i = start;
    apr_size_t in_class = 0; /* inside [...]: where the class body starts, else 0 */

    while (i < lx->len) {
        char c = lx->src[i];
        if (c == '\\') {
            i += 2;
            continue;
        }
        if (in_class) {
            if (c == ']' && !(i == in_class || (i == in_class + 1 && lx->src[in_class] == '^'))) {
                in_class = 0;
            }
        } else if (c == '[') {
            in_class = i + 1;
        } else if (c == '/') {
            break;
        }
        i++;
    }
    if (i >= lx->len) {
        lex_error(lx, t, lx->pos, "unterminated regex");
        return;
    }
    t->kind = TK_REGEX;
    t->str = apr_pstrmemdup(lx->pool, lx->src + start, i - start);
    t->slen = i - start;
    t->icase = 0;
    i++;
    while (i < lx->len && is_ident(lx->src[i])) {
        if (lx->src[i] != 'i' || t->icase) {
            lex_error(lx, t, i, apr_psprintf(lx->pool, "unknown regex flag '%c'", lx->src[i]));
            return;
        }
        t->icase = 1;
        i++;
    }
    lx->pos = i;
}

static void lex_number(lex_t *lx, token_t *t)
{
    apr_size_t i = lx->pos;
    int real = 0;
    char *text, *end;

    while (i < lx->len && is_digit(lx->src[i])) {
        i++;
    }
    if (i < lx->len && lx->src[i] == '.') {
        real = 1;
        i++;
        if (i >= lx->len || !is_digit(lx->src[i])) {
            goto bad;
        }
        while (i < lx->len && is_digit(lx->src[i])) {
            i++;
        }
    }
    if (i < lx->len && (lx->src[i] == 'e' || lx->src[i] == 'E')) {
        real = 1;
        i++;
        if (i < lx->len && (lx->src[i] == '+' || lx->src[i] == '-')) {
            i++;
        }
        if (i >= lx->len || !is_digit(lx->src[i])) {
            goto bad;
        }
        while (i < lx->len && is_digit(lx->src[i])) {
            i++;
        }
    }
    if (i < lx->len && (is_ident(lx->src[i]) || lx->src[i] == '.')) {
        goto bad;
    }
    text = apr_pstrmemdup(lx->pool, lx->src + lx->pos, i - lx->pos);
    errno = 0;
    if (real) {
        t->kind = TK_REAL;
        t->d = strtod(text, &end);
        if (errno == ERANGE && (t->d > 1.0 || t->d < -1.0)) {
            lex_error(lx, t, lx->pos, "number out of range");
            return;
        }
    } else {
        t->kind = TK_INT;
        t->i = strtoll(text, &end, 10);
        if (errno == ERANGE) {
            lex_error(lx, t, lx->pos, "number out of range");
            return;
        }
    }
    lx->pos = i;
    return;
bad:
    while (i < lx->len && (is_ident(lx->src[i]) || lx->src[i] == '.')) {
        i++;
    }
    lex_error(
        lx, t, lx->pos,
        apr_psprintf(lx->pool, "invalid number '%.*s'", (int) (i - lx->pos), lx->src + lx->pos));
}

static const struct {
    const char *word;
    tkind_t kind;
} keywords[] = {{"and", TK_AND},   {"or", TK_OR},       {"not", TK_NOT},  {"in", TK_IN},
                {"true", TK_TRUE}, {"false", TK_FALSE}, {"null", TK_NULL}};

static void lex_ident(lex_t *lx, token_t *t)
{
    apr_size_t i = lx->pos, n;
    size_t k;

    while (i < lx->len && is_ident(lx->src[i])) {
        i++;
    }
    n = i - lx->pos;
    t->kind = TK_IDENT;
    for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
        if (strlen(keywords[k].word) == n && memcmp(keywords[k].word, lx->src + lx->pos, n) == 0) {
            t->kind = keywords[k].kind;
        }
    }
    t->str = apr_pstrmemdup(lx->pool, lx->src + lx->pos, n);
    t->slen = n;
    lx->pos = i;
}

/* two-character operators first, then one-character ones */
static int lex_op(lex_t *lx, token_t *t)
{
    static const struct {
        const char *text;
        tkind_t kind;
    } ops[] = {{"==", TK_EQ},    {"!=", TK_NE},     {"<=", TK_LE},    {">=", TK_GE},
               {"=~", TK_MATCH}, {"!~", TK_NMATCH}, {"&&", TK_AND},   {"||", TK_OR},
               {"<", TK_LT},     {">", TK_GT},      {"!", TK_NOT},    {"(", TK_LPAREN},
               {")", TK_RPAREN}, {"[", TK_LBRACK},  {"]", TK_RBRACK}, {",", TK_COMMA},
               {".", TK_DOT},    {"+", TK_PLUS},    {"-", TK_MINUS}};
    size_t k;

    for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        apr_size_t n = strlen(ops[k].text);
        if (lx->pos + n <= lx->len && memcmp(lx->src + lx->pos, ops[k].text, n) == 0) {
            t->kind = ops[k].kind;
            lx->pos += n;
            return 1;
        }
    }
    return 0;
}

void af_policy_lex_next(lex_t *lx, token_t *t)
{
    char c;

    memset(t, 0, sizeof(*t));
    while (lx->pos < lx->len && strchr(" \t\r\n", lx->src[lx->pos]) != NULL) {
        lx->pos++;
    }
    t->off = lx->pos;
    if (lx->pos >= lx->len) {
        t->kind = TK_EOF;
        return;
    }
    c = lx->src[lx->pos];
    if (is_ident_start(c)) {
        lex_ident(lx, t);
    } else if (is_digit(c)) {
        lex_number(lx, t);
    } else if (c == '\'' || c == '"') {
        lex_string(lx, t);
    } else if (c == '/') {
        lex_regex(lx, t);
    } else if (!lex_op(lx, t)) {
        if (c == '=' || c == '&' || c == '|') {
            lex_error(lx, t, lx->pos,
                      apr_psprintf(lx->pool, "unexpected '%c' (did you mean '%c%c'?)", c, c, c));
        } else if ((unsigned char) c >= 0x20 && (unsigned char) c < 0x7F) {
            lex_error(lx, t, lx->pos, apr_psprintf(lx->pool, "unexpected character '%c'", c));
        } else {
            lex_error(lx, t, lx->pos,
                      apr_psprintf(lx->pool, "unexpected character 0x%02X", (unsigned char) c));
        }
        return;
    }
    if (t->kind != TK_ERROR) {
        t->len = lx->pos - t->off;
    }
}
