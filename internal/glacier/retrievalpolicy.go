package glacier

import (
	"encoding/json"
	"strconv"
	"strings"
)

// The data retrieval policy is stored in the account's setting
// retrievalPolicyKey+accountID as JSON:
//
//	{"Strategy":"BytesPerHour","BytesPerHour":1048576}
//	{"Strategy":"FreeTier"}
//
// Installations before that stored "Strategy:bytes" ("FreeTier:0"); such a
// value is still read as the policy it names, and the next
// SetDataRetrievalPolicy rewrites it as JSON.

// storedRetrievalPolicy is the stored form of a RetrievalPolicy.
type storedRetrievalPolicy struct {
	Strategy     string
	BytesPerHour int64 `json:",omitempty"`
}

// encodeRetrievalPolicy returns the stored form of p.
func encodeRetrievalPolicy(p RetrievalPolicy) string {
	b, err := json.Marshal(storedRetrievalPolicy(p))
	if err != nil {
		panic(err) // a struct of a string and an int always marshals
	}
	return string(b)
}

// decodeRetrievalPolicy reads a stored policy: JSON, or the former
// "Strategy:bytes". "" is strategy None.
func decodeRetrievalPolicy(v string) (RetrievalPolicy, error) {
	if v == "" {
		return RetrievalPolicy{Strategy: "None"}, nil
	}
	if strings.HasPrefix(v, "{") {
		var p storedRetrievalPolicy
		if err := json.Unmarshal([]byte(v), &p); err != nil || p.Strategy == "" {
			return RetrievalPolicy{}, Errorf(KindInternal, "stored data retrieval policy %q is not valid", v)
		}
		return RetrievalPolicy(p), nil
	}
	strategy, n, _ := strings.Cut(v, ":")
	bytes, _ := strconv.ParseInt(n, 10, 64)
	return RetrievalPolicy{Strategy: strategy, BytesPerHour: bytes}, nil
}
