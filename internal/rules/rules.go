// Package rules is Pinion's one catalogue of validation rules: for every
// go-playground/validator rule Pinion knows, what its parameter is
// compared with, the sentence of its 422 message, and its JSON Schema
// form or the fact that it has none. The topic registry reads it for its
// messages, the OpenAPI generator (through the registry, which adds the
// rules registered with topic.WithRule) for its schemas, so that a rule
// cannot say one thing in an answer and another in the document.
package rules

import (
	"reflect"
	"regexp"
	"strings"
)

// Size says what a rule's parameter is compared with, as the validator
// means it.
type Size int

const (
	// NoSize: the rule compares no size or value with its parameter.
	NoSize Size = iota
	// ByKind: a number's value, a string's length in runes (as JSON
	// Schema's minLength and maxLength count code points), the number of
	// elements of a slice, an array or a map (min, max, len, gt, gte, lt,
	// lte).
	ByKind
	// ValueOrCount: a number's, a string's or a boolean's value, the
	// number of elements of a slice, an array or a map (eq, ne).
	ValueOrCount
)

// Measure is what a size rule measures of one value.
type Measure int

const (
	// None: the rule does not apply to values of this kind.
	None Measure = iota
	// Value compares the value itself.
	Value
	// Length compares a string's length in runes.
	Length
	// Count compares a collection's number of elements.
	Count
)

// Of returns what s measures of a value of kind k.
func (s Size) Of(k reflect.Kind) Measure {
	switch {
	case s == NoSize:
		return None
	case isNumber(k):
		return Value
	case k == reflect.String && s == ByKind:
		return Length
	case (k == reflect.String || k == reflect.Bool) && s == ValueOrCount:
		return Value
	case k == reflect.Slice || k == reflect.Array || k == reflect.Map:
		return Count
	}
	return None
}

func isNumber(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// Form is the shape of a rule's JSON Schema form. The OpenAPI generator
// turns it into keywords for the value's JSON type; where a form does not
// fit the type, the rule is named in the member's description instead.
type Form int

const (
	// Unexpressible: no JSON Schema keyword says what the rule checks
	// (cross-field rules, rules that ask a library, custom rules without
	// a schema form).
	Unexpressible Form = iota
	// NonZero rules out the zero value (required).
	NonZero
	// Fixed is Rule.Format and Rule.Pattern, for a string.
	Fixed
	// AtLeast, AtMost, Above, Below, Exactly and NotEqual compare what
	// Rule.Size measures with the parameter: minimum, minLength, minItems
	// or minProperties for AtLeast, and so on; Exactly and NotEqual on a
	// Value are const and not-const.
	AtLeast
	AtMost
	Above
	Below
	Exactly
	NotEqual
	// OneOf is an enum of the parameter's values.
	OneOf
	// Unique is uniqueItems, for an array (unique without a parameter).
	Unique
	// Zero is a const of the zero value (isdefault).
	Zero
	// Prefix, Suffix and Substring are a pattern made of the parameter,
	// for a string.
	Prefix
	Suffix
	Substring
	// Layout is the format of a time layout: date-time for RFC 3339,
	// date for 2006-01-02, nothing for any other layout.
	Layout
	// JSONText is contentMediaType application/json, for a string.
	JSONText
	// BoolText is an enum of the spellings strconv.ParseBool accepts.
	BoolText
	// Alias stands for the rules of Rule.Expand, an a|b choice.
	Alias
)

// Rule is one entry of the catalogue.
type Rule struct {
	Name string
	Size Size
	// Message completes the sentence that starts with the value's name.
	// For a rule with a Size, Message is the sentence for a number, Text
	// for a string, Items for a slice, an array or a map. In each, {param} is
	// the rule's parameter, {characters} and {items} the parameter as a
	// count of them ("1 item", "3 items"), {values} the values of a oneof
	// parameter. An empty message falls back to "<name> failed the
	// '<rule>' rule".
	Message, Text, Items string
	// Form is the rule's JSON Schema form.
	Form Form
	// Format and Pattern are the form of a Fixed rule: a JSON Schema
	// format, and a pattern valid in Go's and in ECMAScript's syntax.
	Format, Pattern string
	// Expand is what an Alias stands for.
	Expand string
}

// Lookup returns the built-in rule named name.
func Lookup(name string) (Rule, bool) {
	r, ok := builtin[name]
	if ok {
		r.Name = name
	}
	return r, ok
}

// Custom returns the entry of a rule registered by a program: its message
// applies to values of every kind, and its form is Fixed when it has a
// format or a pattern, Unexpressible otherwise.
func Custom(name, message, format, pattern string) Rule {
	r := Rule{Name: name, Message: message}
	if format != "" || pattern != "" {
		r.Form, r.Format, r.Pattern = Fixed, format, pattern
	}
	return r
}

// Sentence returns the 422 message of a value that failed r: subject is
// how the sentence names the value ("fontSize", "favorites[3]"), kind is
// the value's kind.
func (r Rule) Sentence(subject, param string, kind reflect.Kind) string {
	phrase := r.Message
	if r.Size != NoSize {
		switch {
		case isNumber(kind):
		case kind == reflect.String:
			phrase = r.Text
		case kind == reflect.Slice || kind == reflect.Array || kind == reflect.Map:
			phrase = r.Items
		default:
			phrase = "" // a size of something that has none, such as a boolean
		}
	}
	if phrase == "" {
		return Fallback(subject, r.Name)
	}
	return subject + " " + strings.NewReplacer(
		"{param}", param,
		"{characters}", count(param, "character"),
		"{items}", count(param, "item"),
		"{values}", strings.Join(Values(param), ", "),
	).Replace(phrase)
}

// Fallback is the message of a rule that has no sentence of its own.
func Fallback(subject, name string) string {
	return subject + " failed the '" + name + "' rule"
}

// oneofValuePattern splits a oneof parameter the way the validator does:
// values are separated by spaces, and a value in single quotes may
// contain spaces.
var oneofValuePattern = regexp.MustCompile(`'[^']*'|\S+`)

// Values splits a oneof parameter into its values.
func Values(param string) []string {
	values := oneofValuePattern.FindAllString(param, -1)
	for i, v := range values {
		values[i] = strings.ReplaceAll(v, "'", "")
	}
	return values
}

// count renders "1 item" or "3 items".
func count(n, noun string) string {
	if n == "1" {
		return n + " " + noun
	}
	return n + " " + noun + "s"
}
