/* policy_errors.c -- reason strings of the src/policy error block (AF_E_POLICY).
 * Append-only: never renumber or rename a released reason. */
#include "common/af_error.h"
#include "policy/af_policy_errors.h"

const af_errdesc_t af_policy_errors[] = {{AF_EPOLICY_SYNTAX, "policy_syntax_error"},
                                         {AF_EPOLICY_TYPE, "policy_type_error"},
                                         {AF_EPOLICY_REGEX, "policy_regex_invalid"},
                                         {AF_EPOLICY_LIMIT, "policy_too_complex"},
                                         {AF_EPOLICY_DENIED, "policy_denied"},
                                         {AF_EPOLICY_MATCH_LIMIT, "policy_regex_match_limit"},
                                         {AF_EPOLICY_NO_CLAIMS, "policy_no_claims"},
                                         {0, NULL}};
