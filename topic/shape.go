package topic

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/pinionkit/pinion/internal/jsonbound"
)

// A shape is what a one-pass check of a JSON body needs to know about the
// Go type the body decodes into: for a struct, its JSON member names and
// their shapes; for a map or a slice, the shape of its elements. A Set
// computes the shapes of its document and input types once, in NewSet.
//
// Shapes exist so that every unknown member and every value of the wrong
// type in a body can be found in one pass over it, instead of decoding the
// whole body again after each problem (which made a 1 MiB body cost up to
// twenty decodings). Where the shape cannot follow json's rules exactly
// (a type that decodes itself, a field tag with options that change
// matching or decoding, a fixed-size array, a map keyed by anything but
// strings) the value is a leaf: it is decoded on its own, so that json
// decides, and its first problem is reported.
type shape struct {
	kind   shapeKind
	typ    reflect.Type // the type a leaf decodes into, pointers removed
	fields map[string]*shape
	elem   *shape
}

type shapeKind uint8

const (
	leafShape   shapeKind = iota // decoded whole by json
	anyShape                     // an empty interface: any value decodes
	stringShape                  // a string kind without its own decoding
	boolShape                    // a bool kind without its own decoding
	structShape
	mapShape
	sliceShape
)

// shapeOf returns the shape of t, reusing and filling seen so that
// recursive types end.
func shapeOf(t reflect.Type, seen map[reflect.Type]*shape) *shape {
	t = indirect(t)
	if sh, ok := seen[t]; ok {
		return sh
	}
	sh := &shape{kind: leafShape, typ: t}
	seen[t] = sh // before the fields: a recursive type refers to itself
	if decodesItself(t) {
		return sh
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			sh.kind = anyShape
		}
	case reflect.String:
		sh.kind = stringShape
	case reflect.Bool:
		sh.kind = boolShape
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 { // []byte is base64 text
			sh.kind, sh.elem = sliceShape, shapeOf(t.Elem(), seen)
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && !decodesItself(t.Key()) {
			sh.kind, sh.elem = mapShape, shapeOf(t.Elem(), seen)
		}
	case reflect.Struct:
		if fields, ok := structFields(t, seen, 0); ok {
			sh.kind, sh.fields = structShape, fields
		}
	}
	return sh
}

// decodesItself reports whether json decodes values of t with t's own
// methods.
func decodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(reflect.TypeFor[json.Unmarshaler]()) ||
		pt.Implements(reflect.TypeFor[json.UnmarshalerFrom]()) ||
		pt.Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// structFields maps the JSON member names of struct type t to their
// shapes, flattening embedded structs as json does (a struct's own fields
// win over those of the structs it embeds). It reports false when t uses
// anything the map cannot express exactly: tag options other than
// omitempty and omitzero, quoted names, or a name that two embedded
// structs at the same depth both provide (json ignores such names).
func structFields(t reflect.Type, seen map[reflect.Type]*shape, depth int) (map[string]*shape, bool) {
	if depth > 16 {
		return nil, false
	}
	fields := make(map[string]*shape, t.NumField())
	var embedded []map[string]*shape
	for i := range t.NumField() {
		sf := t.Field(i)
		name, embeds, ignored := jsonField(sf)
		if ignored {
			continue
		}
		tag := sf.Tag.Get("json")
		if strings.HasPrefix(tag, "'") {
			return nil, false
		}
		if _, options, _ := strings.Cut(tag, ","); options != "" {
			for opt := range strings.SplitSeq(options, ",") {
				if opt != "omitempty" && opt != "omitzero" && !(embeds && opt == "embed") {
					return nil, false
				}
			}
		}
		if embeds {
			et := indirect(sf.Type)
			if et.Kind() != reflect.Struct || decodesItself(et) {
				return nil, false
			}
			inner, ok := structFields(et, seen, depth+1)
			if !ok {
				return nil, false
			}
			embedded = append(embedded, inner)
			continue
		}
		if _, dup := fields[name]; dup {
			return nil, false
		}
		fields[name] = shapeOf(sf.Type, seen)
	}
	promoted := make(map[string]int)
	for _, inner := range embedded {
		for name := range inner {
			promoted[name]++
		}
	}
	for _, inner := range embedded {
		for name, sh := range inner {
			if _, own := fields[name]; own {
				continue
			}
			if promoted[name] > 1 {
				return nil, false
			}
			fields[name] = sh
		}
	}
	return fields, true
}

// A checker finds, in one pass over a JSON body, the members its shape
// does not have and the values of the wrong type, as json would report
// them, and the fixes that take them out (see rewrite).
type checker struct {
	root  reflect.Type
	merge bool // the body is a merge patch: null deletes, unknown or not

	dec      *jsontext.Decoder
	path     []string
	problems []FieldError
	fixes    map[string]bool // pointer → remove the member (true) or null the value
	// stopped is set when no value can be decoded past the problems:
	// there are maxDecodeProblems of them, or the document itself is wrong.
	stopped bool
}

// errStop unwinds the walk once the checker has stopped.
var errStop = errors.New("stop")

// run checks body, well-formed JSON, against sh.
func (c *checker) run(body []byte, sh *shape) error {
	c.dec = jsontext.NewDecoder(bytes.NewReader(body))
	c.fixes = make(map[string]bool)
	if err := c.value(sh); err != nil && err != errStop {
		return fmt.Errorf("checking %s: %w", c.root, err)
	}
	return nil
}

func (c *checker) pointer() string {
	var ptr jsontext.Pointer
	for _, tok := range c.path {
		ptr = ptr.AppendToken(tok)
	}
	return string(ptr)
}

// report records a problem and its fix, and stops the walk when there is
// no way past it.
func (c *checker) report(p FieldError, remove bool) error {
	c.problems = append(c.problems, p)
	c.fixes[p.Pointer] = remove
	if p.Pointer == "" || len(c.problems) >= maxDecodeProblems {
		c.stopped = true
		return errStop
	}
	return nil
}

// value checks the next value of the body, which decodes into sh.
func (c *checker) value(sh *shape) error {
	switch kind := c.dec.PeekKind(); {
	case kind == 'n', sh.kind == anyShape: // null decodes into anything, as the zero value
	case sh.kind == stringShape && kind == '"':
	case sh.kind == boolShape && (kind == 't' || kind == 'f'):
	case (sh.kind == structShape || sh.kind == mapShape) && kind == '{':
		return c.object(sh)
	case sh.kind == sliceShape && kind == '[':
		return c.array(sh)
	default:
		return c.leaf(sh)
	}
	return c.dec.SkipValue()
}

func (c *checker) object(sh *shape) error {
	if _, err := c.dec.ReadToken(); err != nil { // '{'
		return err
	}
	for c.dec.PeekKind() != '}' {
		tok, err := c.dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		member := sh.elem
		if sh.kind == structShape {
			member = sh.fields[name]
		}
		if member == nil && !(c.merge && c.dec.PeekKind() == 'n') {
			// In a merge patch, deleting a member the document cannot
			// have changes nothing.
			c.path = append(c.path, name)
			err := c.report(unknownMember(c.root, c.pointer()), true)
			c.path = c.path[:len(c.path)-1]
			if err != nil {
				return err
			}
		}
		if member == nil {
			if err := c.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		c.path = append(c.path, name)
		err = c.value(member)
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			return err
		}
	}
	_, err := c.dec.ReadToken() // '}'
	return err
}

func (c *checker) array(sh *shape) error {
	if _, err := c.dec.ReadToken(); err != nil { // '['
		return err
	}
	for i := 0; c.dec.PeekKind() != ']'; i++ {
		c.path = append(c.path, strconv.Itoa(i))
		err := c.value(sh.elem)
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			return err
		}
	}
	_, err := c.dec.ReadToken() // ']'
	return err
}

// leaf decodes the next value on its own, into sh's type, and reports the
// first problem json finds in it.
func (c *checker) leaf(sh *shape) error {
	v, err := c.dec.ReadValue()
	if err != nil {
		return err
	}
	if c.merge && v.Kind() == '{' {
		if decodesItself(sh.typ) {
			// Such a type may need members that the current document
			// holds and the patch does not; it is checked after the merge.
			return nil
		}
		// Merged into the current value, the object keeps its members
		// but not its nulls.
		if v, err = jsonbound.MergePatch([]byte(`{}`), v); err != nil {
			return err
		}
	}
	err = json.Unmarshal(v, reflect.New(sh.typ).Interface(), json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	serr, ok := errors.AsType[*json.SemanticError](err)
	if !ok {
		return fmt.Errorf("decoding %s: %w", sh.typ, err)
	}
	at := *serr
	at.JSONPointer = jsontext.Pointer(c.pointer()) + serr.JSONPointer
	return c.report(decodeProblem(c.root, &at), serr.Err == json.ErrUnknownName && at.JSONPointer != "")
}
