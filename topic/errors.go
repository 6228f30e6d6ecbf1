package topic

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/pinionkit/pinion/internal/jsonbound"
	"github.com/pinionkit/pinion/internal/rules"
)

// ErrUnknownAction is returned by [Topic.PrepareAction] for an action the
// topic does not define. The HTTP layer answers it with 404.
var ErrUnknownAction = errors.New("unknown action")

// LimitError reports a body nested deeper or with more members and
// elements than the set's limits ([WithJSONLimits]). The HTTP layer
// answers it with 413, like a body over the size limit.
type LimitError = jsonbound.LimitError

// SyntaxError reports a body that is not exactly one well-formed JSON value:
// an empty body, malformed JSON, data after the value, a duplicate member
// name or invalid UTF-8. The HTTP layer answers it with 400.
type SyntaxError struct {
	// offset is the zero-based byte offset at which the problem was found.
	offset int64
	// line and column locate offset for a human; both start at 1, and the
	// column counts characters, not bytes.
	line, column int
	// detail says what is wrong, without the position.
	detail string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d (byte %d): %s", e.line, e.column, e.offset, e.detail)
}

// FieldError is one problem with one value of a submitted document. Its
// JSON form is an entry of the `errors` member of a 422 problem.
type FieldError struct {
	// Field is the JSON name of the field the value belongs to ("" for the
	// document itself). For an element of an array or map it is the name
	// of the array or map.
	Field string `json:"field"`
	// Pointer is an RFC 6901 JSON Pointer to the value in the submitted
	// document (for a merge patch, in the merged document).
	Pointer string `json:"pointer"`
	// Rule is the validation tag that failed (required, max, oneof, ...),
	// "type" for a value of the wrong JSON type, or "unknown" for a member
	// the document type does not have.
	Rule string `json:"rule"`
	// Param is the rule's parameter, "" when it has none. For "type" it is
	// the expected JSON type: object, array, string, integer, number or
	// boolean.
	Param string `json:"param"`
	// Message is an English sentence a form can show next to the field.
	Message string `json:"message"`
}

// ValidationError reports well-formed JSON whose content is wrong: a wrong
// type, an unknown member or a failed rule. The HTTP layer answers it with
// 422 and lists Errors.
type ValidationError struct {
	// Errors holds one entry per problem, sorted by pointer.
	Errors []FieldError `json:"errors"`
}

func (e *ValidationError) Error() string {
	switch len(e.Errors) {
	case 0:
		return "the document is invalid"
	case 1:
		return e.Errors[0].Message
	default:
		return fmt.Sprintf("%d fields are invalid", len(e.Errors))
	}
}

// Reject builds the error an action function returns to refuse a command
// because of one field of its input, for example:
//
//	return topic.Reject("sku", "exists", "", "sku does not match any item in the cart")
//
// The pointer is "/" followed by field. An empty message is replaced by a
// generic sentence. For a nested field, build a [ValidationError] directly.
func Reject(field, rule, param, message string) *ValidationError {
	if message == "" {
		message = rules.Fallback(field, rule)
	}
	return &ValidationError{Errors: []FieldError{{
		Field:   field,
		Pointer: string(jsontext.Pointer("").AppendToken(field)),
		Rule:    rule,
		Param:   param,
		Message: message,
	}}}
}

// sortFieldErrors orders errors by pointer, comparing array indices as
// numbers so that /items/2 comes before /items/10, then by rule, so that
// the output does not depend on the order in which problems were found.
func sortFieldErrors(errs []FieldError) {
	slices.SortStableFunc(errs, func(a, b FieldError) int {
		return cmp.Or(comparePointers(a.Pointer, b.Pointer), strings.Compare(a.Rule, b.Rule))
	})
}

func comparePointers(a, b string) int {
	at, bt := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == bt[i] {
			continue
		}
		an, aerr := strconv.ParseUint(at[i], 10, 64)
		bn, berr := strconv.ParseUint(bt[i], 10, 64)
		if aerr == nil && berr == nil {
			return cmp.Compare(an, bn)
		}
		return strings.Compare(at[i], bt[i])
	}
	return cmp.Compare(len(at), len(bt))
}
