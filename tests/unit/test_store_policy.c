/* test_store_policy.c -- the rotation decision both store backends follow (store_policy.h):
 * every branch, the boundaries of the grace window, the absolute expiry and the idle timeout
 * (G02 rotation, G03 reuse, G05 grace, G06 pending, G07 expiry). */
#include <check.h>

#include "store/store_policy.h"
#include "af_testutil.h"

#define T0 1700000000LL

/* an active token of a live login */
static af_rot_facts_t live(void)
{
    af_rot_facts_t f = {0};

    f.now = T0;
    f.grace = 10;
    f.idle = 3600;
    f.expires = T0 + 86400;
    f.last_used = T0 - 60;
    f.token_active = 1;
    return f;
}

/* the immediate predecessor of the active token, rotated `ago` seconds before now */
static af_rot_facts_t predecessor(apr_int64_t ago)
{
    af_rot_facts_t f = live();

    f.token_active = 0;
    f.has_successor = 1;
    f.successor_is_current = 1;
    f.rotated_at = T0 - ago;
    return f;
}

START_TEST(test_G02_active_token_rotates)
{
    af_rot_facts_t f = live();

    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_ROTATE);
}
END_TEST

START_TEST(test_G07_expiry_revocation_idle)
{
    af_rot_facts_t f = live();

    f.now = f.expires; /* absolute expiry: never extended */
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_EXPIRED);
    f = live();
    f.now = f.expires - 1;
    f.last_used = f.now - 60;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_ROTATE);
    f = live();
    f.family_revoked = 1;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_EXPIRED);
    f = live();
    f.token_revoked = 1;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_EXPIRED);
    f = live();
    f.last_used = T0 - 3601; /* idle */
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_EXPIRED);
    f.last_used = T0 - 3600;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_ROTATE);
    f.idle = 0; /* no idle timeout */
    f.last_used = T0 - 10 * 86400;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_ROTATE);
    /* a revoked login is expired for its rotated tokens too: never "reuse" twice */
    f = predecessor(100);
    f.family_revoked = 1;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_EXPIRED);
}
END_TEST

START_TEST(test_G05_grace_window_boundaries)
{
    af_rot_facts_t f = predecessor(10);

    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REPLAY); /* now - rotated_at == grace */
    f = predecessor(11);
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REUSE);
    f = predecessor(0);
    f.grace = 0;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REPLAY);
}
END_TEST

START_TEST(test_G06_pending_replays_whatever_the_time)
{
    af_rot_facts_t f = predecessor(3600);

    f.pending = 1;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REPLAY);
    f.pending = 0;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REUSE);
}
END_TEST

START_TEST(test_G03_older_or_unsealed_tokens_are_reuse)
{
    af_rot_facts_t f = predecessor(1);

    f.successor_is_current = 0; /* two generations old: even inside the grace */
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REUSE);
    f = predecessor(1);
    f.has_successor = 0; /* nothing kept to replay */
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REUSE);
    f.pending = 1;
    ck_assert_int_eq(af_store_rotation_decide(&f), AF_ROT_REUSE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_policy");
    TCase *tc = tcase_create("store_policy");

    tcase_add_test(tc, test_G02_active_token_rotates);
    tcase_add_test(tc, test_G07_expiry_revocation_idle);
    tcase_add_test(tc, test_G05_grace_window_boundaries);
    tcase_add_test(tc, test_G06_pending_replays_whatever_the_time);
    tcase_add_test(tc, test_G03_older_or_unsealed_tokens_are_reuse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return af_test_run(suite());
}
