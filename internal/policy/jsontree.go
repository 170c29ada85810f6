package policy

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// node is one JSON value, read token by token so that repeated object keys
// can be refused (§2: "an element may not be repeated inside the same
// object"); json.Unmarshal would silently keep the last one.
type node struct {
	kind  nodeKind
	text  string   // string value, number literal, or "true"/"false"
	keys  []string // object member names in document order
	vals  []*node  // object member values, parallel to keys
	elems []*node  // array elements
}

type nodeKind uint8

const (
	kindObject nodeKind = iota
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

func (k nodeKind) String() string {
	return [...]string{"an object", "an array", "a string", "a number", "a boolean", "null"}[k]
}

// maxDepth bounds nesting. A valid policy nests six deep (policy,
// Statement array, statement, Condition, operator, value array); the bound
// only keeps hostile input from recursing far.
const maxDepth = 32

// decode reads doc as exactly one JSON value.
func decode(doc string) (*node, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	n, err := decodeValue(dec, "", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf("policy is not valid JSON: unexpected data after the top-level value")
	}
	return n, nil
}

func syntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf("policy is not valid JSON: unexpected end of input")
	}
	return errorf("policy is not valid JSON: %v", err)
}

// decodeValue reads one value; path names it in error messages
// ("" for the document itself).
func decodeValue(dec *json.Decoder, path string, depth int) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, errorf("policy nests deeper than %d levels", maxDepth)
		}
		switch t {
		case '{':
			if path == "Statement" {
				// A lone statement is Statement[0] in every other
				// message; keep duplicate-key errors consistent.
				path = "Statement[0]"
			}
			return decodeObject(dec, path, depth)
		case '[':
			return decodeArray(dec, path, depth)
		}
		return nil, errorf("policy is not valid JSON: unexpected %q", string(t))
	case string:
		return &node{kind: kindString, text: t}, nil
	case json.Number:
		return &node{kind: kindNumber, text: t.String()}, nil
	case bool:
		if t {
			return &node{kind: kindBool, text: "true"}, nil
		}
		return &node{kind: kindBool, text: "false"}, nil
	case nil:
		return &node{kind: kindNull}, nil
	}
	return nil, errorf("policy is not valid JSON: unexpected token")
}

func decodeObject(dec *json.Decoder, path string, depth int) (*node, error) {
	n := &node{kind: kindObject}
	var seen map[string]bool // built only for large objects; small ones scan keys
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errorf("policy is not valid JSON: object key is not a string")
		}
		if hasKey(n.keys, seen, key) {
			if path == "" {
				return nil, errorf("duplicate key %q in the policy", key)
			}
			return nil, errorf("%s: duplicate key %q", path, key)
		}
		if seen == nil && len(n.keys) >= 8 {
			seen = make(map[string]bool, 16)
			for _, k := range n.keys {
				seen[k] = true
			}
		}
		if seen != nil {
			seen[key] = true
		}
		child := key
		if path != "" {
			child = path + "." + key
		}
		v, err := decodeValue(dec, child, depth+1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, v)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, syntaxError(err)
	}
	return n, nil
}

func hasKey(keys []string, seen map[string]bool, key string) bool {
	if seen != nil {
		return seen[key]
	}
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

func decodeArray(dec *json.Decoder, path string, depth int) (*node, error) {
	n := &node{kind: kindArray}
	for dec.More() {
		v, err := decodeValue(dec, indexPath(path, len(n.elems)), depth+1)
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, syntaxError(err)
	}
	return n, nil
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
