// Package jsonbound reads untrusted JSON at a cost bounded by the size of
// the input: Check refuses values nested too deeply or with too many
// members and elements before anything decodes them, and MergePatch
// applies an RFC 7396 merge patch in time linear in the sizes of the
// document and the patch (the widely used evanphx/json-patch MergePatch
// is quadratic in width and depth: a 1 MiB patch held the write lock for
// tens of seconds).
package jsonbound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/go-json-experiment/json/jsontext"
)

// Limits bound the shape of one JSON value. Zero means no limit.
type Limits struct {
	// MaxDepth is the deepest nesting of objects and arrays allowed; the
	// outermost object is depth 1.
	MaxDepth int
	// MaxMembers bounds the object members plus array elements of the
	// whole value, at every depth together.
	MaxMembers int
}

// Defaults are limits that no real form reaches and that keep the cost of
// one body small: a 1 MiB body can otherwise hold about 100,000 members.
var Defaults = Limits{MaxDepth: 32, MaxMembers: 10000}

// LimitError reports a value that exceeds Limits.
type LimitError struct {
	// Offset is the byte offset at which the limit was crossed.
	Offset int64
	// Depth is true when the nesting limit was crossed, false for the
	// member limit.
	Depth bool
	Limit int
}

func (e *LimitError) Error() string {
	if e.Depth {
		return fmt.Sprintf("the JSON value is nested more than %d levels deep (at byte %d)", e.Limit, e.Offset)
	}
	return fmt.Sprintf("the JSON value has more than %d members and elements in all (at byte %d)", e.Limit, e.Offset)
}

// ErrSyntax wraps the error of a body that is not one well-formed JSON
// value; callers that need positions check the syntax first.
var ErrSyntax = errors.New("jsonbound: invalid JSON")

// Check scans body once, without building anything, and returns a
// *LimitError when it exceeds lim, or an error wrapping ErrSyntax when it
// is not one well-formed JSON value.
func Check(body []byte, lim Limits) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	members := 0
	for {
		kind := dec.PeekKind()
		depth := dec.StackDepth()
		switch {
		case kind == '}' || kind == ']':
			// Closing a container counts nothing.
		case depth > 0:
			// Each array element and each object member (counted at its
			// name, which comes at even positions) is one more.
			k, n := dec.StackIndex(depth)
			if k == '[' || n%2 == 0 {
				members++
				if lim.MaxMembers > 0 && members > lim.MaxMembers {
					return &LimitError{Offset: dec.InputOffset(), Limit: lim.MaxMembers}
				}
			}
		}
		if (kind == '{' || kind == '[') && lim.MaxDepth > 0 && depth+1 > lim.MaxDepth {
			return &LimitError{Offset: dec.InputOffset(), Depth: true, Limit: lim.MaxDepth}
		}
		if _, err := dec.ReadToken(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("%w: %w", ErrSyntax, err)
		}
		if dec.StackDepth() == 0 {
			break
		}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the JSON value")
		}
		return fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return nil
}

// node is one parsed value: an object, whose members keep their order, or
// any other value kept as its raw text (numbers keep every digit; arrays
// are replaced whole by a merge patch, so they are never taken apart).
type node struct {
	raw jsontext.Value
	obj *object
}

type object struct {
	names []string
	index map[string]int // name → position in names and vals
	vals  []*node        // nil: removed by the patch
}

func (o *object) get(name string) *node {
	if i, ok := o.index[name]; ok {
		return o.vals[i]
	}
	return nil
}

func (o *object) set(name string, v *node) {
	if i, ok := o.index[name]; ok {
		o.vals[i] = v
		return
	}
	o.index[name] = len(o.names)
	o.names = append(o.names, name)
	o.vals = append(o.vals, v)
}

// parse builds the tree of one JSON value, in one pass.
func parse(dec *jsontext.Decoder) (*node, error) {
	if dec.PeekKind() != '{' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		return &node{raw: slices.Clone(v)}, nil
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	o := &object{index: make(map[string]int)}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := tok.String() // a token is valid only until the next read
		v, err := parse(dec)
		if err != nil {
			return nil, err
		}
		o.set(name, v)
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	return &node{obj: o}, nil
}

func parseAll(b []byte) (*node, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	n, err := parse(dec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the JSON value")
		}
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return n, nil
}

func isNull(n *node) bool { return n.obj == nil && n.raw.Kind() == 'n' }

// merge is RFC 7396's MergePatch(target, patch), reusing target's tree.
// Each member of the patch is visited once and each lookup is a map
// lookup, so the cost is linear in the size of the patch (plus the
// parsing and encoding of the target, linear in its size).
func merge(target, patch *node) *node {
	if patch.obj == nil {
		return patch
	}
	if target == nil || target.obj == nil {
		target = &node{obj: &object{index: make(map[string]int)}}
	}
	o := target.obj
	for i, name := range patch.obj.names {
		pv := patch.obj.vals[i]
		if isNull(pv) {
			if _, ok := o.index[name]; ok {
				o.vals[o.index[name]] = nil
			}
			continue
		}
		o.set(name, merge(o.get(name), pv))
	}
	return target
}

func encode(enc *jsontext.Encoder, n *node) error {
	if n.obj == nil {
		return enc.WriteValue(n.raw)
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	for i, name := range n.obj.names {
		v := n.obj.vals[i]
		if v == nil {
			continue
		}
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return err
		}
		if err := encode(enc, v); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

// MergePatch returns the result of applying patch, an RFC 7396 merge
// patch, to doc: members of doc keep their order and new ones follow in
// the patch's order. Both must be well-formed JSON (an error wrapping
// ErrSyntax otherwise); check untrusted patches with Check first, which
// bounds the recursion depth.
func MergePatch(doc, patch []byte) ([]byte, error) {
	p, err := ParsePatch(patch)
	if err != nil {
		return nil, err
	}
	return p.Apply(doc)
}

// A Patch is a parsed merge patch. Applying it never changes it, so one
// Patch can be applied any number of times, concurrently: a caller parses
// a patch before taking a lock and only applies it inside.
type Patch struct {
	root *node
	size int
}

// ParsePatch parses patch, an RFC 7396 merge patch, which must be
// well-formed JSON (an error wrapping ErrSyntax otherwise); check
// untrusted patches with Check first, which bounds the recursion depth.
func ParsePatch(patch []byte) (*Patch, error) {
	p, err := parseAll(patch)
	if err != nil {
		return nil, fmt.Errorf("the patch: %w", err)
	}
	return &Patch{root: p, size: len(patch)}, nil
}

// Apply returns the result of applying the patch to doc, as MergePatch
// does.
func (p *Patch) Apply(doc []byte) ([]byte, error) {
	var d *node
	if p.root.obj != nil { // a patch that is not an object replaces doc unread
		var err error
		if d, err = parseAll(doc); err != nil {
			return nil, fmt.Errorf("the document: %w", err)
		}
	}
	var out bytes.Buffer
	out.Grow(len(doc) + p.size)
	enc := jsontext.NewEncoder(&out)
	if err := encode(enc, merge(d, p.root)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}
