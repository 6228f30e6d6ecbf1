package topic_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/pinionkit/pinion/topic"
)

// Settings is the document type most tests use: it has a rule of each
// kind on a number, a string, a slice, a map and nested structs.
type Settings struct {
	Theme    string         `json:"theme" validate:"required,oneof=light dark system"`
	FontSize int            `json:"fontSize" validate:"min=10,max=32"`
	Name     string         `json:"name" validate:"max=5"`
	Color    string         `json:"color" validate:"omitempty,hexcolor"`
	Tags     []string       `json:"tags" validate:"max=3,dive,required,max=4"`
	Items    []Item         `json:"items" validate:"max=3,dive"`
	Labels   map[string]int `json:"labels" validate:"dive,max=9"`
}

type Item struct {
	SKU string `json:"sku" validate:"required"`
	Qty int    `json:"qty" validate:"min=1,max=99"`
}

type AddInput struct {
	SKU string `json:"sku" validate:"required"`
	Qty int    `json:"qty" validate:"min=1,max=99"`
}

var errBroken = errors.New("broken")

type ctxKey struct{}

func defineSettings() *topic.Definition {
	return topic.Define("settings", topic.Spec[Settings]{
		Description: "Test settings.",
		Default:     Settings{Theme: "system", FontSize: 14},
		Actions: map[string]topic.Action[Settings]{
			"add": topic.NewAction(func(_ context.Context, s *Settings, in AddInput) error {
				for i := range s.Items {
					if s.Items[i].SKU == in.SKU {
						s.Items[i].Qty += in.Qty
						return nil
					}
				}
				s.Items = append(s.Items, Item(in))
				return nil
			}).Describe("Adds an item."),
			"remove": topic.NewAction(func(_ context.Context, s *Settings, in struct {
				SKU string `json:"sku" validate:"required"`
			}) error {
				for i := range s.Items {
					if s.Items[i].SKU == in.SKU {
						s.Items = append(s.Items[:i], s.Items[i+1:]...)
						return nil
					}
				}
				return topic.Reject("sku", "exists", "", "sku is not in the list")
			}),
			"reset-name": topic.NewAction(func(_ context.Context, s *Settings, _ struct{}) error {
				s.Name = ""
				return nil
			}),
			"break": topic.NewAction(func(_ context.Context, _ *Settings, _ struct{}) error {
				return errBroken
			}),
			"from-context": topic.NewAction(func(ctx context.Context, s *Settings, _ struct{}) error {
				s.Name, _ = ctx.Value(ctxKey{}).(string)
				return nil
			}),
		},
	})
}

// mustRegister compiles defs into a new Set and fails the test if that
// does not work.
func mustRegister(t *testing.T, defs ...*topic.Definition) *topic.Set {
	t.Helper()
	set, err := topic.NewSet(defs)
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	return set
}

// mustTopic compiles def alone, with opts, and returns its compiled topic.
func mustTopic(t *testing.T, def *topic.Definition, opts ...topic.Option) *topic.Topic {
	t.Helper()
	set, err := topic.NewSet([]*topic.Definition{def}, opts...)
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	tp, ok := set.Lookup(def.Name())
	if !ok {
		t.Fatalf("Lookup(%q) found nothing", def.Name())
	}
	return tp
}

func settingsTopic(t *testing.T) *topic.Topic {
	t.Helper()
	return mustTopic(t, defineSettings())
}

// wantValidation fails the test unless err is a *ValidationError with
// exactly want.
func wantValidation(t *testing.T, err error, want ...topic.FieldError) {
	t.Helper()
	verr, ok := errors.AsType[*topic.ValidationError](err)
	if !ok {
		t.Fatalf("error = %#v, want a *ValidationError", err)
	}
	if !reflect.DeepEqual(verr.Errors, want) {
		t.Errorf("errors:\n got %+v\nwant %+v", verr.Errors, want)
	}
}

func fe(field, pointer, rule, param, message string) topic.FieldError {
	return topic.FieldError{Field: field, Pointer: pointer, Rule: rule, Param: param, Message: message}
}
