package topic

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/pinionkit/pinion/internal/jsonbound"
	"github.com/pinionkit/pinion/internal/rules"
	"github.com/pinionkit/pinion/protocol"
)

// Set is a checked registration of topics. It owns the validator that every
// topic registered in it uses. A Set is immutable and safe for concurrent
// use.
type Set struct {
	topics []*Topic // sorted by name
	byName map[string]*Topic

	validate *validator.Validate
	// custom holds the catalogue entries of the rules registered with
	// WithRule; they take precedence over the built-in ones.
	custom map[string]rules.Rule
	// limits bound the shape of every request body (documents, merge
	// patches, action inputs) before anything decodes it.
	limits jsonbound.Limits
	// shapes of the document and input types, computed by NewSet and
	// only read afterwards.
	shapes map[reflect.Type]*shape
}

// shapeFor returns the shape of typ.
func (s *Set) shapeFor(typ reflect.Type) *shape {
	if sh, ok := s.shapes[indirect(typ)]; ok {
		return sh
	}
	return shapeOf(typ, make(map[reflect.Type]*shape)) // a type NewSet did not see
}

// An Option configures a Set before any topic is checked.
type Option struct {
	apply func(*Set) error
}

// Rule is what a custom validation rule says about itself, for the 422
// answer and for the OpenAPI document.
type Rule struct {
	// Message completes the sentence that starts with the field's name,
	// in a 422 answer; "{param}" in it is replaced by the tag's parameter.
	Message string
	// Format and Pattern are the rule's JSON Schema form for a string: a
	// format such as "email", and a pattern in the syntax that Go and
	// ECMAScript share. When both are empty the rule has no schema form,
	// and the generated document names it in the field's description.
	Format, Pattern string
}

// WithRule adds a custom validation rule: fields tagged with tag are valid
// when fn reports true.
//
//	topic.WithRule("sku", isSKU, topic.Rule{
//		Message: "must be a stock-keeping unit like AB-1234",
//		Pattern: `^[A-Z]{2}-[0-9]{4}$`,
//	})
//
// A rule with the name of a built-in rule replaces it.
func WithRule(tag string, fn validator.Func, rule Rule) Option {
	return Option{apply: func(s *Set) error {
		if _, err := regexp.Compile(rule.Pattern); err != nil {
			return fmt.Errorf("rule %q: the pattern: %w", tag, err)
		}
		if err := registerValidation(s.validate, tag, fn); err != nil {
			return fmt.Errorf("rule %q: %w", tag, err)
		}
		s.custom[tag] = rules.Custom(tag, rule.Message, rule.Format, rule.Pattern)
		return nil
	}}
}

// LookupRule returns the catalogue entry of the validation rule named
// name: its message and its JSON Schema form, from WithRule or built in.
func (s *Set) LookupRule(name string) (rules.Rule, bool) {
	if r, ok := s.custom[name]; ok {
		return r, true
	}
	return rules.Lookup(name)
}

// ZeroValid reports whether the zero value of t passes this set's
// validator (custom rules included): for a struct type other than
// time.Time, the rules of its fields; for any other type, the rules of
// tag, a validate tag. The OpenAPI generator asks it to decide what a
// client may leave out or send as null.
func (s *Set) ZeroValid(t reflect.Type, tag string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = true // a tag NewSet never checked: promise nothing the server might refuse
		}
	}()
	if t.Kind() == reflect.Struct && t != reflect.TypeFor[time.Time]() {
		return s.validate.Struct(reflect.New(t).Interface()) == nil
	}
	return s.validate.Var(reflect.Zero(t).Interface(), tag) == nil
}

// WithJSONLimits bounds the nesting depth and the number of object members
// plus array elements of every body the set decodes; zero means no limit.
// The default (depth 32, 10,000 members) is beyond any real form and keeps
// the cost of a hostile body small. A body over a limit fails with a
// *LimitError.
func WithJSONLimits(maxDepth, maxMembers int) Option {
	return Option{apply: func(s *Set) error {
		if maxDepth < 0 || maxMembers < 0 {
			return fmt.Errorf("JSON limits must not be negative (depth %d, members %d)", maxDepth, maxMembers)
		}
		s.limits = jsonbound.Limits{MaxDepth: maxDepth, MaxMembers: maxMembers}
		return nil
	}}
}

// checkBody refuses a body that is not one well-formed JSON value (a
// *SyntaxError that says where) or that exceeds the set's limits (a
// *LimitError), in one pass and before anything is built from it.
func (s *Set) checkBody(body []byte) error {
	err := jsonbound.Check(body, s.limits)
	if errors.Is(err, jsonbound.ErrSyntax) {
		if serr := checkSyntax(body); serr != nil {
			return serr
		}
	}
	return err
}

// registerValidation turns the validator's panic on a reserved tag name
// ("dive", "omitempty", a name with a comma, ...) into an error, so that
// NewSet can report it along with every other problem.
func registerValidation(v *validator.Validate, tag string, fn validator.Func) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return v.RegisterValidation(tag, fn)
}

// NewSet compiles defs into a registry. It checks the whole registration and returns every problem it
// finds, joined: topic and action names that do not match the protocol's
// patterns, duplicate topic names, document and input types that are not
// structs, validate tags the validator does not understand, and a default
// document that does not pass validation. The definitions are not changed:
// they can be compiled into other sets too.
func NewSet(defs []*Definition, opts ...Option) (*Set, error) {
	s := &Set{
		byName:   make(map[string]*Topic, len(defs)),
		validate: newValidator(),
		custom:   make(map[string]rules.Rule),
		limits:   jsonbound.Defaults,
		shapes:   make(map[reflect.Type]*shape),
	}
	var problems []error
	for _, opt := range opts {
		if err := opt.apply(s); err != nil {
			problems = append(problems, err)
		}
	}
	for i, t := range defs {
		if t == nil {
			problems = append(problems, fmt.Errorf("topic #%d is nil", i+1))
			continue
		}
		if _, dup := s.byName[t.name]; dup {
			problems = append(problems, fmt.Errorf("topic %q is defined more than once", t.name))
			continue
		}
		for _, err := range s.check(t) {
			problems = append(problems, fmt.Errorf("topic %q: %w", t.name, err))
		}
		ct := &Topic{Definition: t, set: s}
		s.byName[t.name] = ct
		s.topics = append(s.topics, ct)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	slices.SortFunc(s.topics, func(a, b *Topic) int { return cmp.Compare(a.name, b.name) })
	return s, nil
}

// check returns every problem of one topic.
func (s *Set) check(t *Definition) []error {
	problems := slices.Clone(t.problems)
	if !protocol.ValidTopicName(t.name) {
		problems = append(problems, fmt.Errorf("the name does not match %s", protocol.TopicPattern))
	}
	if t.scope != Shared && t.scope != PerPrincipal && t.scope != PerTenant {
		problems = append(problems, fmt.Errorf("unknown scope %d", int(t.scope)))
	}
	for _, a := range t.infos {
		if !protocol.ValidActionName(a.Name) {
			problems = append(problems, fmt.Errorf("action %q: the name does not match %s", a.Name, protocol.ActionPattern))
		}
		if kindOf(a.Input) == reflect.Struct {
			shapeOf(a.Input, s.shapes)
			for _, err := range s.checkTags(a.Input) {
				problems = append(problems, fmt.Errorf("action %q: %w", a.Name, err))
			}
		}
	}
	if t.defaultJSON != nil { // the document type is a struct and the default encodes
		shapeOf(t.typ, s.shapes)
		if errs := s.checkTags(t.typ); len(errs) > 0 {
			problems = append(problems, errs...)
		} else if _, err := s.decode(t.defaultJSON, t.typ, t.newDoc, "the document"); err != nil {
			problems = append(problems, fmt.Errorf("the default document is invalid: %w", describeAll(err)))
		}
	}
	return problems
}

// describeAll spells out every entry of a *ValidationError, which a
// developer needs to fix a default; other errors are returned as they are.
func describeAll(err error) error {
	verr, ok := errors.AsType[*ValidationError](err)
	if !ok {
		return err
	}
	var msgs []string
	for _, fe := range verr.Errors {
		msg := fe.Message
		if fe.Pointer != "" {
			msg += " (at " + fe.Pointer + ")"
		}
		msgs = append(msgs, msg)
	}
	return fmt.Errorf("%w: %s", err, strings.Join(msgs, "; "))
}

// Lookup returns the topic named name.
func (s *Set) Lookup(name string) (*Topic, bool) {
	t, ok := s.byName[name]
	return t, ok
}

// All returns the registered topics, sorted by name.
func (s *Set) All() []*Topic { return slices.Clone(s.topics) }
