package policy

import "strings"

// Condition keys the server fills (§5). Callers should use these
// spellings: a context key spelt this way is found with one map lookup,
// any other spelling only by a case-insensitive scan.
const (
	KeyArchiveAgeInDays       = "glacier:ArchiveAgeInDays"
	KeyResourceTagPrefix      = "glacier:ResourceTag/" // + tag key
	KeyAWSResourceTagPrefix   = "aws:ResourceTag/"     // + tag key; alias of glacier:ResourceTag (§5.1)
	KeyRequestTagPrefix       = "aws:RequestTag/"      // + tag key
	KeyTagKeys                = "aws:TagKeys"
	KeyCurrentTime            = "aws:CurrentTime"
	KeyEpochTime              = "aws:EpochTime"
	KeySecureTransport        = "aws:SecureTransport"
	KeySourceIP               = "aws:SourceIp"
	KeyUserAgent              = "aws:UserAgent"
	KeyReferer                = "aws:Referer"
	KeyRequestedRegion        = "aws:RequestedRegion"
	KeyPrincipalARN           = "aws:PrincipalArn"
	KeyPrincipalAccount       = "aws:PrincipalAccount"
	KeyPrincipalType          = "aws:PrincipalType"
	KeyUserID                 = "aws:userid"
	KeyUsername               = "aws:username"
	KeyPrincipalTagPrefix     = "aws:PrincipalTag/" // + tag key
	KeyMultiFactorAuthPresent = "aws:MultiFactorAuthPresent"
	KeyMultiFactorAuthAge     = "aws:MultiFactorAuthAge"
	KeyTokenIssueTime         = "aws:TokenIssueTime"
	KeyResourceAccount        = "aws:ResourceAccount"
	KeyViaAWSService          = "aws:ViaAWSService"
	KeyPrincipalIsAWSService  = "aws:PrincipalIsAWSService"
)

// canonicalKeys maps lower-cased known key names to their spelling above.
var canonicalKeys = map[string]string{}

// canonicalPrefixes are the known keys that take a tag name after them.
var canonicalPrefixes = []string{
	KeyResourceTagPrefix, KeyAWSResourceTagPrefix, KeyRequestTagPrefix, KeyPrincipalTagPrefix,
}

func init() {
	for _, k := range []string{
		KeyArchiveAgeInDays, KeyTagKeys, KeyCurrentTime, KeyEpochTime, KeySecureTransport,
		KeySourceIP, KeyUserAgent, KeyReferer, KeyRequestedRegion, KeyPrincipalARN,
		KeyPrincipalAccount, KeyPrincipalType, KeyUserID, KeyUsername,
		KeyMultiFactorAuthPresent, KeyMultiFactorAuthAge, KeyTokenIssueTime,
		KeyResourceAccount, KeyViaAWSService, KeyPrincipalIsAWSService,
	} {
		canonicalKeys[strings.ToLower(k)] = k
	}
}

// keyRef is a condition key (or variable name) as compiled at Parse: key
// names are case-insensitive (§4.1), including the tag name after a
// prefix, and the request context may spell them any way.
type keyRef struct {
	name  string  // as written in the policy
	lower string  // lower-cased
	canon string  // the canonical spelling (see the Key constants), or ""
	alias *keyRef // aws:ResourceTag/<k> falls back to glacier:ResourceTag/<k> (§5.1)
}

func newKeyRef(name string) keyRef {
	k := keyRef{name: name, lower: strings.ToLower(name)}
	if c, ok := canonicalKeys[k.lower]; ok {
		k.canon = c
	}
	for _, p := range canonicalPrefixes {
		if len(k.lower) > len(p) && k.lower[:len(p)] == strings.ToLower(p) {
			k.canon = p + name[len(p):]
		}
	}
	if k.canon == name {
		k.canon = ""
	}
	if tag, ok := strings.CutPrefix(k.lower, strings.ToLower(KeyAWSResourceTagPrefix)); ok && tag != "" {
		alias := newKeyRef(KeyResourceTagPrefix + name[len(KeyAWSResourceTagPrefix):])
		k.alias = &alias
	}
	return k
}

// evaluation is the state of one Evaluate call.
type evaluation struct {
	req     *Request
	done    <-chan struct{} // EvaluateContext: closed when the request ends
	stopped bool            // done was seen closed; every check now fails
}

// cancelled reports whether the evaluation must stop. Once it has, every
// statement stops applying, and EvaluateContext discards the decision.
func (e *evaluation) cancelled() bool {
	if e.stopped {
		return true
	}
	if e.done == nil {
		return false
	}
	select {
	case <-e.done:
		e.stopped = true
	default:
	}
	return e.stopped
}

// lookup returns the values of key in the request: the context first, in
// the canonical spelling, as written, lower-cased and finally by a
// case-insensitive scan; then, for aws:ResourceTag/<k>, the
// glacier:ResourceTag/<k> alias, so callers fill only the Glacier key;
// then the principal-derived keys from req.Principal, so a caller that did
// not merge PrincipalContext still gets them. A nil or empty result means
// the key is absent.
func (e *evaluation) lookup(k *keyRef) []string {
	if ctx := e.req.Context; len(ctx) > 0 {
		if k.canon != "" {
			if v, ok := ctx[k.canon]; ok {
				return v
			}
		}
		if v, ok := ctx[k.name]; ok {
			return v
		}
		if k.lower != k.name {
			if v, ok := ctx[k.lower]; ok {
				return v
			}
		}
		for name, v := range ctx {
			if strings.EqualFold(name, k.name) {
				return v
			}
		}
	}
	if k.alias != nil {
		return e.lookup(k.alias)
	}
	if v, ok := principalValue(&e.req.Principal, k.lower); ok {
		return []string{v}
	}
	return nil
}

// principalValue is one principal-derived key (§5.2); lower is the key
// name lower-cased.
func principalValue(p *Principal, lower string) (string, bool) {
	var v string
	switch lower {
	case "aws:principalarn":
		v = principalARN(p)
	case "aws:principalaccount":
		v = p.AccountID
	case "aws:principaltype":
		v = p.Type
	case "aws:userid":
		v = p.UserID
	case "aws:username":
		if p.Type == TypeUser {
			v = p.UserName
		}
	default:
		const prefix = "aws:principaltag/"
		if len(lower) > len(prefix) && lower[:len(prefix)] == prefix {
			tag := lower[len(prefix):]
			for k, tv := range p.Tags {
				if strings.EqualFold(k, tag) {
					return tv, true
				}
			}
		}
		return "", false
	}
	return v, v != ""
}

// principalARN is aws:PrincipalArn: the caller's ARN, except that a role
// session reports its role (§5.2). Principal carries only the session ARN,
// so the role ARN is rebuilt without the role's path.
func principalARN(p *Principal) string {
	if p.Type == TypeAssumedRole {
		if acct, role, ok := sessionRole(p.ARN); ok {
			return "arn:aws:iam::" + acct + ":role/" + role
		}
	}
	return p.ARN
}

// PrincipalContext returns aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid and (users only) aws:username, plus aws:PrincipalTag/<k>.
// Empty fields are left out, since an absent key and an empty one differ
// (§4.2).
func PrincipalContext(p Principal) map[string][]string {
	m := make(map[string][]string, 5+len(p.Tags))
	add := func(k, v string) {
		if v != "" {
			m[k] = []string{v}
		}
	}
	add(KeyPrincipalARN, principalARN(&p))
	add(KeyPrincipalAccount, p.AccountID)
	add(KeyPrincipalType, p.Type)
	add(KeyUserID, p.UserID)
	if p.Type == TypeUser {
		add(KeyUsername, p.UserName)
	}
	for k, v := range p.Tags {
		m[KeyPrincipalTagPrefix+k] = []string{v}
	}
	return m
}
