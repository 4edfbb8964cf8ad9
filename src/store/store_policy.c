/* store_policy.c -- the rotation decision every backend follows (store_policy.h). */
#include "store/store_policy.h"

af_rot_action_t af_store_rotation_decide(const af_rot_facts_t *f)
{
    if (f->family_revoked || f->token_revoked || f->now >= f->expires ||
        (f->idle > 0 && f->now - f->last_used > f->idle)) {
        return AF_ROT_EXPIRED;
    }
    if (f->token_active) {
        return AF_ROT_ROTATE;
    }
    if (f->has_successor && f->successor_is_current &&
        (f->pending || f->now - f->rotated_at <= f->grace)) {
        return AF_ROT_REPLAY;
    }
    return AF_ROT_REUSE;
}
