package policy

import "strings"

// The Glacier side of the language, for Analyze: the actions a request
// can carry (policies.md §7) and which condition keys permafrost puts in
// the context of each (§5, docs/policy-context.md). Evaluate does not use
// this: it judges whatever Request it is given.

// GlacierActions are the 33 actions, one per API operation (§7).
var GlacierActions = []string{
	"glacier:AbortMultipartUpload", "glacier:AbortVaultLock", "glacier:AddTagsToVault",
	"glacier:CompleteMultipartUpload", "glacier:CompleteVaultLock", "glacier:CreateVault",
	"glacier:DeleteArchive", "glacier:DeleteVault", "glacier:DeleteVaultAccessPolicy",
	"glacier:DeleteVaultNotifications", "glacier:DescribeJob", "glacier:DescribeVault",
	"glacier:GetDataRetrievalPolicy", "glacier:GetJobOutput", "glacier:GetVaultAccessPolicy",
	"glacier:GetVaultLock", "glacier:GetVaultNotifications", "glacier:InitiateJob",
	"glacier:InitiateMultipartUpload", "glacier:InitiateVaultLock", "glacier:ListJobs",
	"glacier:ListMultipartUploads", "glacier:ListParts", "glacier:ListProvisionedCapacity",
	"glacier:ListTagsForVault", "glacier:ListVaults", "glacier:PurchaseProvisionedCapacity",
	"glacier:RemoveTagsFromVault", "glacier:SetDataRetrievalPolicy", "glacier:SetVaultAccessPolicy",
	"glacier:SetVaultNotifications", "glacier:UploadArchive", "glacier:UploadMultipartPart",
}

// ResourceTagActions are the actions whose context carries the vault's tags
// as glacier:ResourceTag/<key> and aws:ResourceTag/<key> (§5.1, §7).
var ResourceTagActions = map[string]bool{
	"glacier:AddTagsToVault": true, "glacier:CompleteMultipartUpload": true, "glacier:CompleteVaultLock": true,
	"glacier:DeleteArchive": true, "glacier:DeleteVault": true, "glacier:DeleteVaultAccessPolicy": true,
	"glacier:DeleteVaultNotifications": true, "glacier:InitiateJob": true, "glacier:InitiateMultipartUpload": true,
	"glacier:InitiateVaultLock": true, "glacier:RemoveTagsFromVault": true, "glacier:SetVaultAccessPolicy": true,
	"glacier:SetVaultNotifications": true, "glacier:UploadArchive": true, "glacier:UploadMultipartPart": true,
}

// presence says whether a condition key can be in a request's context.
type presence uint8

const (
	never     presence = iota // permafrost never sets it for the action
	sometimes                 // set for some requests (a header sent, a tag set, a user caller)
	always                    // set for every signed request of the action
)

// keyType is the value type of a known key, for operator checks.
type keyType uint8

const (
	typeString keyType = iota
	typeNumeric
	typeDate // aws:CurrentTime
	typeDateOrNumeric
	typeBool
	typeIP
	typeARN
)

// globalKeys are the global keys permafrost fills for every Glacier
// action: lower-cased name → presence and type.
var globalKeys = map[string]struct {
	p presence
	t keyType
}{
	"aws:currenttime":           {always, typeDate},
	"aws:epochtime":             {always, typeDateOrNumeric},
	"aws:securetransport":       {always, typeBool},
	"aws:sourceip":              {always, typeIP},
	"aws:useragent":             {sometimes, typeString},
	"aws:referer":               {sometimes, typeString},
	"aws:requestedregion":       {always, typeString},
	"aws:principalarn":          {always, typeARN},
	"aws:principalaccount":      {always, typeString},
	"aws:principaltype":         {always, typeString},
	"aws:userid":                {always, typeString},
	"aws:username":              {sometimes, typeString},
	"aws:resourceaccount":       {always, typeString},
	"aws:viaawsservice":         {always, typeBool},
	"aws:principalisawsservice": {always, typeBool},
}

// keyInfo returns the presence of the lower-cased key for action, and
// its type.
func keyInfo(lower, action string) (presence, keyType) {
	if g, ok := globalKeys[lower]; ok {
		return g.p, g.t
	}
	switch {
	case lower == "glacier:archiveageindays":
		switch action {
		case "glacier:DeleteArchive":
			return always, typeNumeric
		case "glacier:InitiateJob":
			return sometimes, typeNumeric // archive-retrieval jobs only
		}
		return never, typeNumeric
	case hasTagPrefix(lower, "glacier:resourcetag/"), hasTagPrefix(lower, "aws:resourcetag/"):
		if ResourceTagActions[action] {
			return sometimes, typeString
		}
	case hasTagPrefix(lower, "aws:requesttag/"):
		if action == "glacier:AddTagsToVault" {
			return sometimes, typeString
		}
	case lower == "aws:tagkeys":
		if action == "glacier:AddTagsToVault" || action == "glacier:RemoveTagsFromVault" {
			return always, typeString
		}
	}
	return never, typeString
}

func hasTagPrefix(lower, prefix string) bool {
	return len(lower) > len(prefix) && strings.HasPrefix(lower, prefix)
}

// canonicalSpelling returns the documented spelling of a known key (with
// the tag name as written), or "" for an unknown key.
func canonicalSpelling(name string) string {
	lower := strings.ToLower(name)
	if c, ok := canonicalKeys[lower]; ok {
		return c
	}
	for _, p := range canonicalPrefixes {
		if hasTagPrefix(lower, strings.ToLower(p)) {
			return p + name[len(p):]
		}
	}
	return ""
}

// typeAccepts reports whether an operator family can ever be true for a
// value of type t. The String families compare any value's text.
func typeAccepts(f family, t keyType) bool {
	switch f {
	case famNumeric:
		return t == typeNumeric || t == typeDateOrNumeric
	case famDate:
		return t == typeDate || t == typeDateOrNumeric
	case famBool:
		return t == typeBool
	case famIP:
		return t == typeIP
	case famARN:
		return t == typeARN
	}
	return true
}
