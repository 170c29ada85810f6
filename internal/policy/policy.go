package policy

import "fmt"

// DocKind says where a document is used: resource policies (vault access and lock policies) require
// Principal/NotPrincipal in every statement; identity policies (attached to users) must not have them.
type DocKind int

const (
	ResourcePolicy DocKind = iota
	IdentityPolicy
)

func (k DocKind) String() string {
	switch k {
	case ResourcePolicy:
		return "resource policy"
	case IdentityPolicy:
		return "identity policy"
	}
	return fmt.Sprintf("DocKind(%d)", int(k))
}

// MaxSize is the largest accepted document, in bytes of its UTF-8 text (20 KB = 20480).
const MaxSize = 20480

// The two policy language versions (§2). Only Version2012 has policy
// variables; a document without Version is read as Version2008.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed, validated document. It is immutable, so one Policy
// may be evaluated by many goroutines at once.
type Policy struct {
	version string
	id      string
	kind    DocKind
	// Statements are split by effect so that Evaluate's deny pass and allow
	// pass each walk only the statements they need.
	deny  []statement
	allow []statement
}

// Version returns the document's Version element, "" when it had none.
func (p *Policy) Version() string { return p.version }

// ID returns the document's Id element, "" when it had none.
func (p *Policy) ID() string { return p.id }

// Kind returns the kind the document was parsed as.
func (p *Policy) Kind() DocKind { return p.kind }

// statement is one compiled statement.
type statement struct {
	principals *principalSet // nil: no Principal element (identity policies)
	actions    actionSet
	resources  resourceSet
	conditions []condition
}

// actionSet is an Action (not=false) or NotAction element.
type actionSet struct {
	not   bool
	globs []glob
}

// resourceSet is a Resource (not=false) or NotResource element.
type resourceSet struct {
	not      bool
	patterns []resourcePattern
}

// resourcePattern is one Resource value: a compiled ARN glob, or a
// template when it has policy variables, compiled per request.
type resourcePattern struct {
	arn  arnGlob
	tmpl *template
}

// Error is a validation failure; Message names the element and the problem
// and is safe to return to the client.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func errorf(format string, args ...any) error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// Decision is the outcome of Evaluate.
type Decision int

const (
	ImplicitDeny Decision = iota // nothing allowed it
	Allow
	ExplicitDeny // a Deny statement applied
)

func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}
