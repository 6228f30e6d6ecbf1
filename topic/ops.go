package topic

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/pinionkit/pinion/internal/jsonbound"
)

// Default returns the canonical JSON of the topic's default document.
func (t *Topic) Default() []byte {
	return slices.Clone(t.defaultJSON)
}

// Replace checks body as the topic's new document and returns its
// canonical JSON. It fails with a *SyntaxError or a *ValidationError.
func (t *Topic) Replace(body []byte) ([]byte, error) {
	s, err := t.registered()
	if err != nil {
		return nil, err
	}
	if err := s.checkBody(body); err != nil {
		return nil, err
	}
	doc, err := s.decode(body, t.typ, t.newDoc, "the document")
	if err != nil {
		return nil, err
	}
	return t.encode(doc)
}

// Merge applies patch, an RFC 7396 merge patch, to current and returns the
// canonical JSON of the merged document. The patch must be a JSON object
// (a *ValidationError otherwise, since a merge patch that is not an object
// would replace the whole document); the merged document is then checked
// like a replacement, so error pointers point into it. A nil current
// stands for the default document.
//
// It is PrepareMerge followed by the patch's Apply.
func (t *Topic) Merge(current, patch []byte) ([]byte, error) {
	p, err := t.PrepareMerge(patch)
	if err != nil {
		return nil, err
	}
	return p.Apply(current)
}

// Patch is a merge patch checked on its own, ready to be applied to the
// current document. Make one with PrepareMerge.
type Patch struct {
	t     *Topic
	s     *Set
	patch []byte
}

// PrepareMerge does the part of Merge that does not depend on the current
// document: the patch's size and nesting bounds, its syntax, and that it
// is an object. A write handler calls it before it takes the store's write
// lock, so that only Apply runs inside.
func (t *Topic) PrepareMerge(patch []byte) (*Patch, error) {
	s, err := t.registered()
	if err != nil {
		return nil, err
	}
	if err := s.checkBody(patch); err != nil {
		return nil, err
	}
	if jsontext.Value(patch).Kind() != '{' {
		return nil, &ValidationError{Errors: []FieldError{{
			Rule: "type", Param: "object", Message: "a merge patch must be a JSON object",
		}}}
	}
	return &Patch{t: t, s: s, patch: patch}, nil
}

// Apply merges the patch into current (nil: the default document) and
// checks the result like a replacement.
func (p *Patch) Apply(current []byte) ([]byte, error) {
	t := p.t
	if current == nil {
		current = t.defaultJSON
	}
	// Linear in the sizes of current and patch, so that no patch can hold
	// the write lock for long.
	merged, err := jsonbound.MergePatch(current, p.patch)
	if err != nil {
		return nil, fmt.Errorf("topic %q: merging a patch into the current document: %w", t.name, err)
	}
	doc, err := p.s.decode(merged, t.typ, t.newDoc, "the document")
	if err != nil {
		return nil, err
	}
	return t.encode(doc)
}

// Apply runs the named action on current with input, the request body,
// and returns the canonical JSON of the changed document. A nil current
// stands for the default document.
//
// It fails with an error wrapping ErrUnknownAction when the topic has no
// such action; with a *SyntaxError or a *ValidationError (pointers into
// input) when the input is wrong; with the *ValidationError the action
// returned to refuse the command; or with a *ValidationError (pointers into
// the document) when the changed document does not validate. Any other
// error from the action is returned wrapped, as an internal error.
//
// It is PrepareAction followed by the command's Run.
func (t *Topic) Apply(ctx context.Context, action string, current, input []byte) ([]byte, error) {
	cmd, err := t.PrepareAction(action, input)
	if err != nil {
		return nil, err
	}
	return cmd.Run(ctx, current)
}

// Command is an action with its input decoded and validated, ready to run
// on the current document. Make one with PrepareAction.
type Command struct {
	t    *Topic
	s    *Set
	name string
	a    erasedAction
	in   any
}

// PrepareAction does the part of Apply that does not depend on the current
// document: it finds the action, and bounds, decodes and validates its
// input. A write handler calls it before it takes the store's write lock,
// so that only Run runs inside.
func (t *Topic) PrepareAction(action string, input []byte) (*Command, error) {
	s, err := t.registered()
	if err != nil {
		return nil, err
	}
	a, ok := t.actions[action]
	if !ok {
		return nil, fmt.Errorf("topic %q: %w %q", t.name, ErrUnknownAction, action)
	}
	if err := s.checkBody(input); err != nil {
		return nil, err
	}
	in, err := s.decode(input, a.Input, a.newInput, "the input")
	if err != nil {
		return nil, err
	}
	return &Command{t: t, s: s, name: action, a: a, in: in}, nil
}

// Run applies the command to current (nil: the default document) and
// checks the changed document. It may run more than once (each time on a
// fresh copy of the document), but the action receives the same decoded
// input each time.
func (c *Command) Run(ctx context.Context, current []byte) ([]byte, error) {
	t := c.t
	if current == nil {
		current = t.defaultJSON
	}
	// The current document was validated when it was stored; it is decoded
	// leniently so that a member since removed from the type does not make
	// every action fail.
	doc := t.newDoc()
	if err := json.Unmarshal(current, doc); err != nil {
		return nil, fmt.Errorf("topic %q: decoding the current document: %w", t.name, err)
	}
	if err := c.a.run(ctx, doc, c.in); err != nil {
		if verr, ok := errors.AsType[*ValidationError](err); ok {
			return nil, verr
		}
		return nil, fmt.Errorf("topic %q: action %q: %w", t.name, c.name, err)
	}
	problems, err := c.s.validateValue(doc, t.typ)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		sortFieldErrors(problems)
		return nil, &ValidationError{Errors: problems}
	}
	return t.encode(doc)
}

// registered returns the Set the topic belongs to: every operation that
// validates needs that Set's validator.
func (t *Topic) registered() (*Set, error) {
	if t.set == nil {
		return nil, fmt.Errorf("topic %q is not registered in a Set", t.name)
	}
	return t.set, nil
}

func (t *Topic) encode(doc any) ([]byte, error) {
	b, err := marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("topic %q: encoding the document: %w", t.name, err)
	}
	return b, nil
}
