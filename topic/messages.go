package topic

import (
	"reflect"

	"github.com/pinionkit/pinion/internal/rules"
)

// message returns the sentence that explains a failed rule. subject is how
// the sentence names the value ("fontSize", "favorites[3]"); kind is the
// value's kind, which decides whether a size is a number, a length in
// characters or a count of items.
func (s *Set) message(subject, tag, param string, kind reflect.Kind) string {
	if subject == "" {
		subject = "the document"
	}
	r, ok := s.LookupRule(tag)
	if !ok {
		return rules.Fallback(subject, tag)
	}
	return r.Sentence(subject, param, kind)
}
