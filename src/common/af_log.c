/* af_log.c -- the injected log sink. */
#include <stdarg.h>
#include <stdio.h>

#include "common/af_log.h"

static af_log_fn *log_fn;
static void *log_baton;
static int log_max = AF_LOG_WARNING;

void af_log_set(af_log_fn *fn, void *baton, int max_level)
{
    log_fn = fn;
    log_baton = baton;
    log_max = max_level;
}

int af_log_wanted(int level)
{
    return log_fn != NULL && level <= log_max;
}

void af_log(int level, const char *tag, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!af_log_wanted(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_fn(log_baton, NULL, level, tag, buf);
}

void af_log_p(apr_pool_t *p, int level, const char *tag, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!af_log_wanted(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_fn(log_baton, p, level, tag, buf);
}
