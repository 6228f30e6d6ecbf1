package topic

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// maxDecodeProblems bounds the type and unknown-member problems reported
// for one body, and so the size of the answer; past it, the body's rules
// are not checked either.
const maxDecodeProblems = 20

// marshal encodes v canonically: struct fields in declaration order, map
// keys sorted, nil slices and maps as [] and {}.
func marshal(v any) ([]byte, error) {
	return json.Marshal(v, json.Deterministic(true))
}

// checkSyntax returns a *SyntaxError unless body is exactly one
// well-formed JSON value: no trailing data, no duplicate member names, no
// invalid UTF-8.
func checkSyntax(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	// ReadValue, not SkipValue: its errors point at the offending character
	// (SkipValue blames the comma before a '}' that ends an object early).
	_, err := dec.ReadValue()
	var serr *jsontext.SyntacticError
	switch {
	case err == io.EOF: // only whitespace, or nothing at all
		return newSyntaxError(body, int64(len(body)), "the body is empty")
	case errors.As(err, &serr):
		return newSyntaxError(body, serr.ByteOffset, syntaxDetail(serr))
	case err != nil:
		return newSyntaxError(body, dec.InputOffset(), "invalid JSON")
	}
	end := dec.InputOffset()
	rest := bytes.TrimLeft(body[end:], " \t\r\n")
	if len(rest) > 0 {
		return newSyntaxError(body, int64(len(body)-len(rest)), "unexpected data after the JSON value")
	}
	return nil
}

func syntaxDetail(serr *jsontext.SyntacticError) string {
	switch {
	case errors.Is(serr.Err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	case errors.Is(serr.Err, jsontext.ErrDuplicateName):
		return fmt.Sprintf("duplicate member name %q", serr.JSONPointer.LastToken())
	case serr.Err != nil:
		// The decoder's own sentences name characters and positions in
		// the text, never Go types.
		return serr.Err.Error()
	}
	return "invalid JSON"
}

func newSyntaxError(body []byte, offset int64, detail string) *SyntaxError {
	offset = min(max(offset, 0), int64(len(body)))
	before := body[:offset]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return &SyntaxError{
		offset: offset,
		line:   1 + bytes.Count(before, []byte{'\n'}),
		column: 1 + utf8.RuneCount(before[lineStart:]),
		detail: detail,
	}
}

// decode turns body into a validated value made by newValue, a pointer to
// a struct of type typ, or returns a *SyntaxError or a *ValidationError
// that lists every problem found. what names the body in messages: "the
// document", "the input".
func (s *Set) decode(body []byte, typ reflect.Type, newValue func() any, what string) (any, error) {
	v, problems, err := s.decodeStrict(body, typ, newValue, what)
	if err != nil {
		return nil, err
	}
	if v != nil {
		failures, err := s.validateValue(v, typ)
		if err != nil {
			return nil, err
		}
		decodeProblems := len(problems)
		for _, f := range failures {
			// A value that could not be decoded was decoded as its zero
			// value and is reported already; its rules would only repeat
			// the problem.
			covered := slices.ContainsFunc(problems[:decodeProblems], func(p FieldError) bool {
				return jsontext.Pointer(p.Pointer).Contains(jsontext.Pointer(f.Pointer))
			})
			if !covered {
				problems = append(problems, f)
			}
		}
	}
	if len(problems) > 0 {
		sortFieldErrors(problems)
		return nil, &ValidationError{Errors: problems}
	}
	return v, nil
}

// decodeStrict decodes body into a value made by newValue. A body that is
// not one well-formed JSON value is a *SyntaxError. Problems with the
// content (a body that is not an object, members of the wrong type, members
// typ does not have) are returned as FieldErrors; the value is returned too
// when decoding could get past them, so that the caller can validate the
// rest and report everything at once.
//
// The JSON decoder stops at its first problem, so the problems are found
// first by one pass over the body along typ's shape (see [shape]); when
// there are any, the body is rewritten once without the unknown members
// and with null (the zero value) in place of the wrong values, and decoded
// once. However many problems a body has, it is read at most three times
// and decoded at most once.
func (s *Set) decodeStrict(body []byte, typ reflect.Type, newValue func() any, what string) (any, []FieldError, error) {
	if err := checkSyntax(body); err != nil {
		return nil, nil, err
	}
	if jsontext.Value(body).Kind() != '{' {
		return nil, []FieldError{{Rule: "type", Param: "object", Message: what + " must be a JSON object"}}, nil
	}
	c := checker{root: typ}
	if err := c.run(body, s.shapeFor(typ)); err != nil {
		return nil, nil, err
	}
	if c.stopped {
		return nil, c.problems, nil
	}
	if len(c.problems) > 0 {
		var err error
		if body, _, err = rewrite(body, c.fixes); err != nil {
			return nil, nil, fmt.Errorf("decoding %s: %w", typ, err)
		}
	}
	v, problem, err := decodeOnce(body, typ, newValue)
	if err != nil {
		return nil, nil, err
	}
	if problem != nil {
		// Only a type the shapes cannot follow exactly gets here; its
		// problem is reported unless one found before covers it.
		covered := slices.ContainsFunc(c.problems, func(p FieldError) bool {
			return jsontext.Pointer(p.Pointer).Contains(jsontext.Pointer(problem.Pointer))
		})
		if !covered {
			c.problems = append(c.problems, *problem)
		}
		return nil, c.problems, nil
	}
	return v, c.problems, nil
}

// decodeOnce decodes body, well-formed JSON, strictly into a value made by
// newValue, in one pass. A member typ does not have or a value of the
// wrong type is returned as a problem, the first one json meets.
func decodeOnce(body []byte, typ reflect.Type, newValue func() any) (any, *FieldError, error) {
	v := newValue()
	err := json.Unmarshal(body, v, json.RejectUnknownMembers(true))
	if err == nil {
		return v, nil, nil
	}
	serr, ok := errors.AsType[*json.SemanticError](err)
	if !ok {
		return nil, nil, fmt.Errorf("decoding %s: %w", typ, err)
	}
	p := decodeProblem(typ, serr)
	return nil, &p, nil
}

// checkPatch returns the unknown members and values of the wrong type of
// patch, a well-formed merge patch that is a JSON object, for a document
// of type typ, in one pass and without the current document: a merge
// keeps the patch's members at the same pointers in the merged document
// (arrays and other values are replaced whole), so these are exactly the
// problems the merge would bring into it. Deleting a member (null) is
// never a problem.
func (s *Set) checkPatch(patch []byte, typ reflect.Type) ([]FieldError, error) {
	c := checker{root: typ, merge: true}
	if err := c.run(patch, s.shapeFor(typ)); err != nil {
		return nil, err
	}
	return c.problems, nil
}

// decodeProblem describes a decoding error of a document of type root.
func decodeProblem(root reflect.Type, serr *json.SemanticError) FieldError {
	ptr := string(serr.JSONPointer)
	if serr.Err == json.ErrUnknownName {
		return unknownMember(root, ptr)
	}
	field, subject := describe(root, ptr)
	if subject == "" {
		subject = "the document"
	}
	expected := jsonType(serr.GoType)
	return FieldError{Field: field, Pointer: ptr, Rule: "type", Param: expected, Message: typeMessage(subject, expected, serr)}
}

// unknownMember describes a member at ptr that a document of type root
// does not have.
func unknownMember(root reflect.Type, ptr string) FieldError {
	field, subject := describe(root, ptr)
	return FieldError{Field: field, Pointer: ptr, Rule: "unknown", Message: subject + " is not a known field"}
}

// jsonType names the JSON type that values of t decode from, or returns ""
// when t decodes itself and could accept anything.
func jsonType(t reflect.Type) string {
	t = indirect(t)
	if t == nil {
		return ""
	}
	switch pt := reflect.PointerTo(t); {
	case pt.Implements(reflect.TypeFor[json.Unmarshaler]()), pt.Implements(reflect.TypeFor[json.UnmarshalerFrom]()):
		return ""
	case pt.Implements(reflect.TypeFor[encoding.TextUnmarshaler]()):
		return "string" // time.Time, netip.Addr, ...
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string" // bytes are base64 text
		}
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return ""
}

// typeMessage explains why a value could not be decoded into the expected
// JSON type.
func typeMessage(subject, expected string, serr *json.SemanticError) string {
	var given string
	switch serr.JSONKind {
	case 't', 'f':
		given = "boolean"
	case '"':
		given = "string"
	case '0':
		given = "number"
	case '{':
		given = "object"
	case '[':
		given = "array"
	}
	switch {
	case errors.Is(serr.Err, strconv.ErrRange):
		return subject + " is out of range"
	case serr.GoType == reflect.TypeFor[time.Time]():
		return subject + " must be a date and time such as 2025-01-31T09:30:00Z"
	case expected == "integer" && given == "number":
		if bytes.HasPrefix(serr.JSONValue, []byte("-")) {
			return subject + " must not be negative" // the only way a number fails an unsigned integer
		}
		return subject + " must be an integer"
	case expected != "" && given != expected:
		return subject + " must be " + withArticle(expected)
	}
	return subject + " is not valid"
}

func withArticle(jsonType string) string {
	switch jsonType {
	case "integer", "object", "array":
		return "an " + jsonType
	}
	return "a " + jsonType
}

// rewriteAt returns body, a valid JSON value, with the object member at ptr
// removed (remove) or with null in place of the value at ptr.
func rewriteAt(body []byte, ptr jsontext.Pointer, remove bool) ([]byte, error) {
	out, found, err := rewrite(body, map[string]bool{string(ptr): remove})
	if err != nil {
		return nil, err
	}
	if found == 0 {
		return nil, fmt.Errorf("no value at %q", ptr)
	}
	return out, nil
}

// rewrite returns body, a valid JSON value, with each object member whose
// pointer fixes maps to true removed and each value whose pointer it maps
// to false replaced by null, in one pass, and how many it found. Only the
// containers on the way to a fix are taken apart; everything else is
// copied whole.
func rewrite(body []byte, fixes map[string]bool) ([]byte, int, error) {
	onPath := make(map[string]bool)
	for ptr := range fixes {
		for p := jsontext.Pointer(ptr); p != ""; p = p.Parent() {
			onPath[string(p.Parent())] = true
		}
	}
	r := rewriter{fixes: fixes, onPath: onPath}
	var out bytes.Buffer
	out.Grow(len(body))
	enc := jsontext.NewEncoder(&out)
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if err := r.value(dec, enc, ""); err != nil {
		return nil, 0, err
	}
	return bytes.TrimRight(out.Bytes(), "\n"), r.found, nil
}

type rewriter struct {
	fixes  map[string]bool // pointer → remove the member (true) or null the value
	onPath map[string]bool // pointers of the containers that hold a fix
	found  int
}

// value copies the next value from dec to enc, at pointer ptr.
func (r *rewriter) value(dec *jsontext.Decoder, enc *jsontext.Encoder, ptr jsontext.Pointer) error {
	if remove, ok := r.fixes[string(ptr)]; ok && !remove {
		r.found++
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return enc.WriteToken(jsontext.Null)
	}
	kind := dec.PeekKind()
	if (kind != '{' && kind != '[') || !r.onPath[string(ptr)] {
		return copyValue(dec, enc)
	}
	if err := copyToken(dec, enc); err != nil { // '{' or '['
		return err
	}
	end := jsontext.Kind(']')
	if kind == '{' {
		end = '}'
	}
	for i := 0; dec.PeekKind() != end; i++ {
		key := strconv.Itoa(i)
		if kind == '{' {
			name, err := dec.ReadToken()
			if err != nil {
				return err
			}
			key = name.String()
			if r.fixes[string(ptr.AppendToken(key))] {
				r.found++
				if err := dec.SkipValue(); err != nil {
					return err
				}
				continue
			}
			if err := enc.WriteToken(name); err != nil {
				return err
			}
		}
		if err := r.value(dec, enc, ptr.AppendToken(key)); err != nil {
			return err
		}
	}
	return copyToken(dec, enc) // '}' or ']'
}

func copyToken(dec *jsontext.Decoder, enc *jsontext.Encoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	return enc.WriteToken(tok)
}

func copyValue(dec *jsontext.Decoder, enc *jsontext.Encoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return enc.WriteValue(v)
}
