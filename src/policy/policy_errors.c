/* policy_errors.c -- reason strings of the src/policy error block (AF_E_POLICY).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "policy/af_policy_errors.h"

const af_errdesc_t af_policy_errors[] = {
    {AF_EPOLICY_SYNTAX, "policy_syntax_error", "the claim expression has a syntax error"},
    {AF_EPOLICY_TYPE, "policy_type_error", "the claim expression mixes incompatible types"},
    {AF_EPOLICY_REGEX, "policy_regex_invalid", "a regex in the claim expression is invalid"},
    {AF_EPOLICY_LIMIT, "policy_too_complex", "the claim expression is too long or too deep"},
    {AF_EPOLICY_DENIED, "policy_denied", "the claims do not satisfy the expression"},
    {AF_EPOLICY_MATCH_LIMIT, "policy_regex_match_limit", "a regex match hit its resource limit"},
    {AF_EPOLICY_NO_CLAIMS, "policy_no_claims", "the request carries no authflow claims"},
    {0, NULL, NULL}};
