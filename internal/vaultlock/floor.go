package vaultlock

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FloorAction is the action whose denial makes a retention floor.
const FloorAction = "glacier:DeleteArchive"

// Floor is what a Locked policy says about how long archives must be kept:
// the archive age, in days, below which the policy denies DeleteArchive to
// every principal. Days is 0 when no floor follows; Reasons then says why
// for each statement that came close (and, with a floor, which statements
// gave it).
type Floor struct {
	Days    int
	Reasons []string
}

// RetentionFloor derives the retention floor of the vault vaultARN from its
// lock policy doc. A statement gives a floor only when all of these hold:
//
//   - Effect is Deny;
//   - Principal is "*" or {"AWS": "*"} (every principal; NotPrincipal never);
//   - Action (not NotAction) covers glacier:DeleteArchive, directly or by a
//     wildcard (action names compare case-insensitively);
//   - Resource (not NotResource) covers vaultARN (the Resource may be a
//     wildcard);
//   - its Condition has exactly one operator, NumericLessThan or
//     NumericLessThanEquals, with exactly one key, glacier:ArchiveAgeInDays
//     (compared case-insensitively, as AWS does).
//
// NumericLessThan N gives ceil(N) days; NumericLessThanEquals N gives
// floor(N)+1 days (ages are whole days). Several values in the condition
// deny below the largest; several qualifying statements give the largest
// floor. Any other condition (a second key, IfExists, a set operator, a
// Bool on SecureTransport …) denies only some requests, so it gives no
// floor: the storage cannot know which requests the policy would let
// through.
func RetentionFloor(doc, vaultARN string) Floor {
	var f Floor
	var root struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &root); err != nil {
		f.Reasons = append(f.Reasons, "the policy is not a JSON object: "+err.Error())
		return f
	}
	var stmts []map[string]json.RawMessage
	if len(root.Statement) > 0 && root.Statement[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(root.Statement, &one); err == nil {
			stmts = []map[string]json.RawMessage{one}
		}
	} else if err := json.Unmarshal(root.Statement, &stmts); err != nil {
		f.Reasons = append(f.Reasons, "the policy has no readable Statement")
		return f
	}
	for i, st := range stmts {
		name := fmt.Sprintf("statement %d", i+1)
		if sid := str(st["Sid"]); sid != "" {
			name = fmt.Sprintf("statement %q", sid)
		}
		days, why := statementFloor(st, vaultARN)
		if why != "" {
			if why != "-" {
				f.Reasons = append(f.Reasons, name+": "+why)
			}
			continue
		}
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s denies %s to every principal below an archive age of %d days", name, FloorAction, days))
		if days > f.Days {
			f.Days = days
		}
	}
	if f.Days == 0 && len(f.Reasons) == 0 {
		f.Reasons = append(f.Reasons, "no Deny statement covers "+FloorAction)
	}
	return f
}

// statementFloor returns the floor one statement gives, or why it gives
// none ("-" for statements not worth mentioning: Allow, other actions).
func statementFloor(st map[string]json.RawMessage, vaultARN string) (int, string) {
	if !strings.EqualFold(str(st["Effect"]), "Deny") {
		return 0, "-"
	}
	acts := strs(st["Action"])
	if st["NotAction"] != nil || !anyMatch(acts, FloorAction, true) {
		return 0, "-"
	}
	if st["NotPrincipal"] != nil {
		return 0, "uses NotPrincipal, so it does not cover every principal"
	}
	if !everyone(st["Principal"]) {
		return 0, `its Principal is not "*" or {"AWS": "*"}, so some principal may delete`
	}
	if st["NotResource"] != nil || !anyMatch(strs(st["Resource"]), vaultARN, false) {
		return 0, "its Resource does not cover the vault " + vaultARN
	}
	var cond map[string]map[string]json.RawMessage
	if st["Condition"] == nil {
		return 0, "it denies " + FloorAction + " unconditionally: archives can never be deleted, which is not an age floor (no retention is set)"
	}
	if err := json.Unmarshal(st["Condition"], &cond); err != nil {
		return 0, "its Condition is not readable"
	}
	if len(cond) != 1 {
		return 0, "its Condition has more than one operator, so it denies only some requests"
	}
	for op, keys := range cond {
		if op != "NumericLessThan" && op != "NumericLessThanEquals" {
			return 0, "its condition operator " + op + " is not NumericLessThan or NumericLessThanEquals"
		}
		if len(keys) != 1 {
			return 0, "its Condition has more than one key, so it denies only some requests"
		}
		for key, raw := range keys {
			if !strings.EqualFold(key, "glacier:ArchiveAgeInDays") {
				return 0, "its condition key " + key + " is not glacier:ArchiveAgeInDays"
			}
			best := 0
			for _, v := range strs(raw) {
				n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
					return 0, fmt.Sprintf("its age value %q is not a number", v)
				}
				var d float64
				if op == "NumericLessThan" {
					d = math.Ceil(n)
				} else {
					d = math.Floor(n) + 1
				}
				if d > 36500*10 {
					d = 36500 * 10
				}
				if int(d) > best {
					best = int(d)
				}
			}
			if best <= 0 {
				return 0, "its age limit denies no archive"
			}
			return best, ""
		}
	}
	return 0, "its Condition is empty"
}

// everyone reports whether a Principal element is "*" or {"AWS": "*"}
// (or {"AWS": ["*"]}).
func everyone(raw json.RawMessage) bool {
	if raw == nil {
		return false
	}
	if str(raw) == "*" {
		return true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for k, v := range m {
		if k != "AWS" {
			continue
		}
		for _, p := range strs(v) {
			if p == "*" {
				return true
			}
		}
	}
	return false
}

// str decodes a JSON string ("" for anything else).
func str(raw json.RawMessage) string {
	var s string
	json.Unmarshal(raw, &s)
	return s
}

// strs decodes a JSON string, number or list of them.
func strs(raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	var out []string
	for _, v := range list {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if json.Unmarshal(v, &n) == nil {
			out = append(out, n.String())
		}
	}
	return out
}

// anyMatch reports whether one of the patterns (with * and ? wildcards)
// matches s.
func anyMatch(patterns []string, s string, fold bool) bool {
	if fold {
		s = strings.ToLower(s)
	}
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if wild(p, s) {
			return true
		}
	}
	return false
}

// wild matches s against a pattern of literal bytes, * (any run) and ?
// (any one character).
func wild(p, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == s[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			i = star + 1
			mark++
			j = mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
