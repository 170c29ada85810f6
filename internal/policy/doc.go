// Package policy is the IAM policy language of policies.md: it parses and
// validates vault access policies, vault lock policies and identity
// policies, and evaluates an authorization request against them with the
// algorithm of policies.md §6. It is a pure core: every fact (the caller,
// the action, the resource, the condition keys, "now" as aws:CurrentTime)
// arrives in a Request, and nothing here reads a clock, a file or a socket.
//
// # Grammar
//
//	policy    = { "Version"?: "2012-10-17" | "2008-10-17", "Id"?: string, "Statement": stmt | [stmt, ...] }
//	stmt      = { "Sid"?: string, "Effect": "Allow" | "Deny",
//	              ("Principal" | "NotPrincipal"): principal,   (resource policies only, then required)
//	              ("Action" | "NotAction"): strings,
//	              ("Resource" | "NotResource"): strings,
//	              "Condition"?: { operator: { key: value | [value, ...] } } }
//	principal = "*" | { ("AWS" | "Service" | "Federated" | "CanonicalUser"): string | [string, ...] }
//	strings   = string | [string, ...]
//	operator  = ["ForAnyValue:" | "ForAllValues:"] base ["IfExists"]   (no IfExists on Null)
//
// Element and operator names are case-sensitive, as in AWS; condition key
// names are not (§4.1). A JSON object may not repeat a key: encoding/json
// silently keeps the last one, so the document is read token by token
// (jsontree.go) to refuse duplicates, which AWS also refuses.
//
// # Decisions where the spec is silent
//
//   - Everything is compiled at Parse: action and resource globs, lower-cased
//     and canonical key names, numbers, dates, CIDRs and base64 values, so
//     Evaluate does no parsing of the policy and, for policies without
//     variables, no allocation.
//   - A policy value that cannot be parsed for its operator (NumericLessThan
//     "abc", a bad CIDR, bad base64) is accepted and matches nothing, which
//     is §4.3's "unparsable value ⇒ no match" applied to both sides.
//   - A negated operator is the exact negation of its positive form over
//     the request values: true iff no request value matches any policy
//     value. So an unparsable request value makes NumericNotEquals true.
//   - An operator without a set qualifier applied to a multi-valued key is
//     true when any request value matches (negated: when none does).
//   - A key mapped to an empty slice is absent.
//   - Empty lists (Action: [], a condition key with []) and empty Principal
//     objects are rejected: an empty list can only be a mistake, and in a
//     negated Deny it would deny everything.
//   - Action values must be "*" or "service:pattern"; Resource values must be
//     "*" or an ARN of six colon-separated segments (IAM refuses others).
//   - Resource and ARN-condition matching is per segment: a pattern matches
//     only an ARN with the same six segments, "*" inside a segment never
//     crosses a colon, and the sixth segment (the resource) is the rest of
//     the string, so "*" there spans "/" and ":".
//   - Policy variables also take IAM's default form ${key, 'default'}. A
//     variable resolves from the request context, falling back to the
//     Principal for the principal keys; a missing or multi-valued key makes
//     the comparison it appears in false (no match), and its value is always
//     literal text, never a wildcard.
//   - aws:ResourceTag/<k> falls back to glacier:ResourceTag/<k> when the
//     context lacks it (§5.1 calls them aliases), so callers fill only the
//     Glacier key.
//   - Principal-derived keys (aws:PrincipalArn, aws:username, …) absent from
//     the context are taken from Request.Principal; PrincipalContext builds
//     the same values for callers that want them in the map.
//   - A role ARN in Principal matches the role's sessions by account and
//     role name; the session ARN carries no role path, so the path is not
//     compared.
//   - NotPrincipal in an Allow of a resource policy grants to every caller
//     it does not exclude.
//   - An empty Request.ResourceAccount is not the caller's account: the
//     request is judged cross-account, which fails closed.
//   - Wildcards are matched without backtracking (wild.go): a pattern is
//     split at its '*'s and each segment is found once, at its leftmost
//     occurrence, so a '*'-only pattern costs one pass over the value and a
//     pattern with '?' one pass of a bit-parallel automaton. No policy can
//     make one comparison cost seconds, whatever the value's size.
//   - EvaluateContext stops when the request's context ends, checking
//     before every statement and policy value, and then answers
//     ImplicitDeny with the context's error: an abandoned evaluation never
//     allows.
//   - Analyze is policy validation in the spirit of IAM Access Analyzer,
//     with the Glacier actions and the keys permafrost fills for each
//     (glacier.go) as its model of the service: what can never match is an
//     error, a Deny that can never apply a security warning.
package policy
