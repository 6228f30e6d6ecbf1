// Package topic defines Pinion's topics: named JSON documents, each backed
// by a Go struct type, a default value, go-playground/validator rules and
// named actions. A developer declares topics with [Define], which returns
// an immutable [*Definition] that any number of sets and tests can reuse,
// and compiles definitions into a registry with [NewSet]. The registry owns
// the validator; its [*Topic]s offer what the HTTP layer needs: prepared
// writes ([Topic.PrepareReplace], [Topic.PreparePatch],
// [Topic.PrepareAction], [Topic.PrepareReset]) that check and decode a
// request body before the store's write lock, and whose [Write.Apply] runs
// only the read-modify-write against the current document inside it. They
// fail with a [*SyntaxError] (400), a [*LimitError] (413) or a
// [*ValidationError] (422).
//
// The package does no I/O and knows nothing about revisions or storage.
package topic

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/pinionkit/pinion/protocol"
)

// Scope says who shares a topic's document.
type Scope int

const (
	// Shared topics have one document for everyone allowed to read them.
	Shared Scope = iota
	// PerPrincipal topics have one document per principal under the same
	// topic name.
	PerPrincipal
	// PerTenant topics have one document per tenant under the same topic
	// name; the tenant comes only from the verified credential, and a
	// caller without one may not use the topic.
	PerTenant
)

// String returns the scope's name as the wire protocol spells it.
func (s Scope) String() string {
	switch s {
	case Shared:
		return protocol.ScopeShared
	case PerPrincipal:
		return protocol.ScopePerPrincipal
	case PerTenant:
		return protocol.ScopePerTenant
	default:
		return fmt.Sprintf("Scope(%d)", int(s))
	}
}

// Spec describes a topic whose document has type T, which must be a struct
// type: the document is a JSON object. Fields are decoded and encoded with
// their `json` tags and checked with their `validate` tags.
type Spec[T any] struct {
	// Description says what the document is for, in a sentence.
	Description string
	// Scope says who shares the document.
	Scope Scope
	// Default is the document of a topic that has never been written, and
	// what a reset restores. It must pass validation.
	Default T
	// Actions are the named domain commands the topic accepts, keyed by
	// action name.
	Actions map[string]Action[T]
}

// ActionInfo describes one action of a topic, for documentation.
type ActionInfo struct {
	Name        string
	Description string
	// Input is the struct type the action's request body decodes into.
	Input reflect.Type
}

// Definition is a defined topic, made by [Define]. It is immutable: any
// number of sets ([NewSet]) can compile it.
//
// Room to grow: what a topic says about itself beyond its document (an
// authorisation policy, a tenant scope) belongs in [Spec], so that a
// definition stays one value.
type Definition struct {
	name        string
	description string
	scope       Scope
	typ         reflect.Type
	newDoc      func() any // returns a *T
	defaultJSON []byte
	actions     map[string]erasedAction
	infos       []ActionInfo

	// problems are the mistakes Define found; NewSet reports them, so that
	// a program lists every mistake at once instead of dying on the first.
	problems []error
}

// Topic is a topic compiled into a [Set]: a [Definition] together with the
// set's validator and limits. It is safe for concurrent use.
type Topic struct {
	*Definition
	set *Set
}

// erasedAction is an Action with its document type erased.
type erasedAction struct {
	ActionInfo
	newInput func() any // returns a *In
	run      func(ctx context.Context, doc, in any) error
}

// Define declares a topic named name. It never panics: mistakes in name or
// spec are reported by [NewSet].
func Define[T any](name string, spec Spec[T]) *Definition {
	t := &Definition{
		name:        name,
		description: spec.Description,
		scope:       spec.Scope,
		typ:         reflect.TypeFor[T](),
		newDoc:      func() any { return new(T) },
		actions:     make(map[string]erasedAction, len(spec.Actions)),
	}
	if t.typ.Kind() != reflect.Struct {
		t.problems = append(t.problems, fmt.Errorf("the document type %s is not a struct type", t.typ))
	} else if b, err := marshal(&spec.Default); err != nil {
		t.problems = append(t.problems, fmt.Errorf("cannot encode the default document: %w", err))
	} else {
		t.defaultJSON = b
	}
	for _, actionName := range slices.Sorted(maps.Keys(spec.Actions)) { // sorted: problems in a stable order
		a := spec.Actions[actionName]
		info := ActionInfo{Name: actionName, Description: a.description, Input: a.input}
		switch {
		case a.run == nil:
			t.problems = append(t.problems, fmt.Errorf("action %q has no function; make it with NewAction", actionName))
		case a.input.Kind() != reflect.Struct:
			t.problems = append(t.problems, fmt.Errorf("action %q: the input type %s is not a struct type", actionName, a.input))
		}
		t.actions[actionName] = erasedAction{ActionInfo: info, newInput: a.newInput, run: a.run}
		t.infos = append(t.infos, info)
	}
	return t
}

// Name returns the topic's name.
func (t *Definition) Name() string { return t.name }

// Scope returns who shares the topic's document.
func (t *Definition) Scope() Scope { return t.scope }

// Description returns the topic's description.
func (t *Definition) Description() string { return t.description }

// Type returns the document's Go type, T of the Spec.
func (t *Definition) Type() reflect.Type { return t.typ }

// Actions describes the topic's actions, sorted by name.
func (t *Definition) Actions() []ActionInfo { return slices.Clone(t.infos) }

// Default returns the canonical JSON of the topic's default document.
func (t *Definition) Default() []byte { return slices.Clone(t.defaultJSON) }
