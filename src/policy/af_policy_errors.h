/* af_policy_errors.h -- error codes of src/policy, in the AF_E_POLICY block.
 * Append-only; each code has a row in policy_errors.c. */
#ifndef AF_POLICY_ERRORS_H
#define AF_POLICY_ERRORS_H

#include "common/af_error.h"

#define AF_EPOLICY_SYNTAX      (AF_E_POLICY + 1) /* "policy_syntax_error" */
#define AF_EPOLICY_TYPE        (AF_E_POLICY + 2) /* "policy_type_error" */
#define AF_EPOLICY_REGEX       (AF_E_POLICY + 3) /* "policy_regex_invalid" */
#define AF_EPOLICY_LIMIT       (AF_E_POLICY + 4) /* "policy_too_complex" */
#define AF_EPOLICY_DENIED      (AF_E_POLICY + 5) /* "policy_denied" */
#define AF_EPOLICY_MATCH_LIMIT (AF_E_POLICY + 6) /* "policy_regex_match_limit" */
#define AF_EPOLICY_NO_CLAIMS   (AF_E_POLICY + 7) /* "policy_no_claims" */

#endif
