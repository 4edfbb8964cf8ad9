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

static void vlog(apr_pool_t *p, int level, const char *tag, const char *fmt, va_list ap)
{
    char buf[1024];

    vsnprintf(buf, sizeof(buf), fmt, ap);
    log_fn(log_baton, p, level, tag, buf);
}

void af_log(int level, const char *tag, const char *fmt, ...)
{
    va_list ap;

    if (!af_log_wanted(level)) {
        return;
    }
    va_start(ap, fmt);
    vlog(NULL, level, tag, fmt, ap);
    va_end(ap);
}

void af_log_p(apr_pool_t *p, int level, const char *tag, const char *fmt, ...)
{
    va_list ap;

    if (!af_log_wanted(level)) {
        return;
    }
    va_start(ap, fmt);
    vlog(p, level, tag, fmt, ap);
    va_end(ap);
}

int af_log_throttle(af_log_throttle_t *t, apr_int64_t now, apr_int64_t interval,
                    apr_uint64_t *suppressed)
{
    apr_int64_t next = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE);

    *suppressed = 0;
    if (now >= next && __atomic_compare_exchange_n(&t->next, &next, now + interval, 0,
                                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        *suppressed = __atomic_exchange_n(&t->suppressed, 0, __ATOMIC_ACQ_REL);
        return 1;
    }
    __atomic_add_fetch(&t->suppressed, 1, __ATOMIC_ACQ_REL);
    return 0;
}
