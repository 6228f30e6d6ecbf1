package topic

import (
	"context"
	"reflect"
)

// Action is a named domain command on documents of type T: a typed input,
// and a function that changes the document on the server. Make one with
// [NewAction].
type Action[T any] struct {
	input       reflect.Type
	description string
	newInput    func() any // returns a *In
	run         func(ctx context.Context, doc, in any) error
}

// NewAction makes an action from a typed function. The input is decoded
// strictly from the request body and validated before fn runs; fn changes
// *doc in place; the result is validated again before it is stored. In
// must be a struct type; use struct{} for an action without input (its
// body is then {}).
//
// To refuse a command because of its input, fn returns a [*ValidationError],
// for example from [Reject]; any other error is an internal error.
func NewAction[T, In any](fn func(ctx context.Context, doc *T, in In) error) Action[T] {
	a := Action[T]{input: reflect.TypeFor[In]()}
	if fn == nil {
		return a // NewSet reports the missing function.
	}
	a.newInput = func() any { return new(In) }
	a.run = func(ctx context.Context, doc, in any) error {
		return fn(ctx, doc.(*T), *in.(*In))
	}
	return a
}

// Describe returns a copy of the action with a description, for the
// generated API documentation.
func (a Action[T]) Describe(description string) Action[T] {
	a.description = description
	return a
}
