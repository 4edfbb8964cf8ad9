/* store_policy.h -- for the store's backends only: what a presented refresh token gets, decided
 * in one place for every backend (af_store.h, af_store_rotate).  Pure: the backend reads the
 * token's and the login's records inside its transaction, asks here, and carries out the
 * answer in the same transaction. */
#ifndef AF_STORE_POLICY_H
#define AF_STORE_POLICY_H

#include <apr.h>

/** What a backend read about the presented token and its login. */
typedef struct af_rot_facts_t {
    apr_int64_t now;
    apr_int64_t grace;        /* AuthFlowReuseGrace */
    apr_int64_t idle;         /* the request's idle timeout, else the login's (0: none) */
    int family_revoked;       /* the login is revoked */
    apr_int64_t expires;      /* the login's absolute expiry */
    apr_int64_t last_used;    /* the login's last rotation (or creation) */
    int token_revoked;        /* the token's own state is revoked */
    int token_active;         /* the token is the login's active one */
    int has_successor;        /* a rotated token with a sealed successor kept */
    int successor_is_current; /* ... which is the login's active token (immediate predecessor) */
    int pending;              /* the rotation that made it is pending (answer not delivered) */
    apr_int64_t rotated_at;
} af_rot_facts_t;

typedef enum af_rot_action_t {
    AF_ROT_EXPIRED, /* AF_ESTORE_EXPIRED: revoked, absolutely or idle expired */
    AF_ROT_ROTATE,  /* the active token: rotate it */
    AF_ROT_REPLAY,  /* the immediate predecessor, pending or inside the grace: the same
                       successor again (mark it delivered when the request is not pending) */
    AF_ROT_REUSE    /* any other rotated token: revoke the whole login, AF_ESTORE_REUSE */
} af_rot_action_t;

af_rot_action_t af_store_rotation_decide(const af_rot_facts_t *f);

#endif
