/* authflowctl.h -- what the two halves of authflowctl share (authflowctl.c: the store
 * commands and main; authflowctl_check.c: `check CONF`). */
#ifndef AUTHFLOWCTL_H
#define AUTHFLOWCTL_H

#include <apr_pools.h>

#define EX_OK       0
#define EX_NOTFOUND 1
#define EX_USAGE    2
#define EX_STORE    3
#define EX_CHECK    4

/** Print why (may be NULL) and the synopsis on stderr.  @return EX_USAGE */
int af_ctl_usage(const char *why);

/** The core's log sink for the CLI: stderr. */
void af_ctl_log_stderr(void *baton, apr_pool_t *p, int level, const char *tag, const char *msg);

/** `authflowctl [--json] check [--server-root DIR] CONF`.  @return an exit status */
int af_ctl_check(int json, int argc, char **argv);

#endif
