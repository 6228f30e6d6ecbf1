package topic

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/pinionkit/pinion/internal/jsonbound"
)

// A Write is a change prepared outside the store's write lock: its request
// body has been checked, decoded and validated as far as that can be done
// without the current document. Apply computes the new document from the
// current one; it is what runs inside the store's transaction.
type Write struct {
	apply func(ctx context.Context, current []byte) ([]byte, error)
}

// Apply returns the canonical JSON of the new document, given the current
// one (nil stands for the default document). It fails with a
// *ValidationError when the result is invalid (a merge or an action can
// only be validated against the current document), or with the error an
// action returned.
func (w Write) Apply(ctx context.Context, current []byte) ([]byte, error) {
	return w.apply(ctx, current)
}

// PrepareReplace checks body as the topic's new document. Everything
// happens here; Apply only returns the result.
func (t *Topic) PrepareReplace(body []byte) (Write, error) {
	s := t.set
	if err := s.checkBody(body); err != nil {
		return Write{}, err
	}
	doc, err := s.decode(body, t.typ, t.newDoc, "the document")
	if err != nil {
		return Write{}, err
	}
	data, err := t.encode(doc)
	if err != nil {
		return Write{}, err
	}
	return Write{apply: func(context.Context, []byte) ([]byte, error) { return data, nil }}, nil
}

// PreparePatch checks patch, an RFC 7396 merge patch, which must be a JSON
// object (a *ValidationError otherwise, since a merge patch that is not an
// object would replace the whole document), and refuses its unknown
// members and values of the wrong type with a *ValidationError: the merge
// keeps them at the same pointers, so they are found here, before the
// store's write lock. Apply merges the patch into the current document,
// decodes the result once and validates it once, so the rules' error
// pointers point into the merged document.
func (t *Topic) PreparePatch(patch []byte) (Write, error) {
	s := t.set
	if err := s.checkBody(patch); err != nil {
		return Write{}, err
	}
	if jsontext.Value(patch).Kind() != '{' {
		return Write{}, &ValidationError{Errors: []FieldError{{
			Rule: "type", Param: "object", Message: "a merge patch must be a JSON object",
		}}}
	}
	problems, err := s.checkPatch(patch, t.typ)
	if err != nil {
		return Write{}, err
	}
	if len(problems) > 0 {
		sortFieldErrors(problems)
		return Write{}, &ValidationError{Errors: problems}
	}
	parsed, err := jsonbound.ParsePatch(patch)
	if err != nil {
		return Write{}, fmt.Errorf("topic %q: parsing a patch: %w", t.name, err)
	}
	return Write{apply: func(_ context.Context, current []byte) ([]byte, error) {
		if current == nil {
			current = t.defaultJSON
		}
		// Linear in the sizes of current and patch, so that no patch can
		// hold the write lock for long.
		merged, err := parsed.Apply(current)
		if err != nil {
			return nil, fmt.Errorf("topic %q: merging a patch into the current document: %w", t.name, err)
		}
		doc, problem, err := decodeOnce(merged, t.typ, t.newDoc)
		if err != nil {
			return nil, err
		}
		if problem != nil {
			// Only a type that decodes itself, checked after the merge,
			// or a current document stored before its type changed.
			return nil, &ValidationError{Errors: []FieldError{*problem}}
		}
		problems, err := s.validateValue(doc, t.typ)
		if err != nil {
			return nil, err
		}
		if len(problems) > 0 {
			sortFieldErrors(problems)
			return nil, &ValidationError{Errors: problems}
		}
		return t.encode(doc)
	}}, nil
}

// PrepareAction checks and decodes input, the request body of the named
// action. Apply runs the action on the current document and validates the
// changed document.
//
// Preparing fails with an error wrapping ErrUnknownAction when the topic
// has no such action, or with a *SyntaxError, *LimitError or
// *ValidationError (pointers into input) when the input is wrong. Apply
// fails with the *ValidationError the action returned to refuse the
// command, or with a *ValidationError (pointers into the document) when the
// changed document does not validate; any other error from the action is
// returned wrapped, as an internal error.
func (t *Topic) PrepareAction(action string, input []byte) (Write, error) {
	s := t.set
	a, ok := t.actions[action]
	if !ok {
		return Write{}, fmt.Errorf("topic %q: %w %q", t.name, ErrUnknownAction, action)
	}
	if err := s.checkBody(input); err != nil {
		return Write{}, err
	}
	in, err := s.decode(input, a.Input, a.newInput, "the input")
	if err != nil {
		return Write{}, err
	}
	return Write{apply: func(ctx context.Context, current []byte) ([]byte, error) {
		if current == nil {
			current = t.defaultJSON
		}
		// The current document was validated when it was stored; it is
		// decoded leniently so that a member since removed from the type
		// does not make every action fail.
		doc := t.newDoc()
		if err := json.Unmarshal(current, doc); err != nil {
			return nil, fmt.Errorf("topic %q: decoding the current document: %w", t.name, err)
		}
		if err := a.run(ctx, doc, in); err != nil {
			if verr, ok := errors.AsType[*ValidationError](err); ok {
				return nil, verr
			}
			return nil, fmt.Errorf("topic %q: action %q: %w", t.name, action, err)
		}
		problems, err := s.validateValue(doc, t.typ)
		if err != nil {
			return nil, err
		}
		if len(problems) > 0 {
			sortFieldErrors(problems)
			return nil, &ValidationError{Errors: problems}
		}
		return t.encode(doc)
	}}, nil
}

// PrepareReset resets the document to its default.
func (t *Topic) PrepareReset() Write {
	return Write{apply: func(context.Context, []byte) ([]byte, error) { return t.Default(), nil }}
}

func (t *Topic) encode(doc any) ([]byte, error) {
	b, err := marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("topic %q: encoding the document: %w", t.name, err)
	}
	return b, nil
}
