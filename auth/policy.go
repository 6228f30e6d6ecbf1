package auth

import (
	"fmt"
)

// Operations a policy decides. Actions are named "action:<name>".
const (
	OpRead    = "read"
	OpReplace = "replace"
	OpPatch   = "patch"
	OpReset   = "reset"
)

// OpAction is the operation of running the named action.
func OpAction(name string) string { return "action:" + name }

// Policy decides who may use one topic. A nil function allows everyone.
type Policy struct {
	// Read decides reads: the snapshot, the topic's place in the topic
	// list, and its invalidations on the stream.
	Read func(id Identity) bool
	// Write decides every write (op is OpReplace, OpPatch, OpReset or
	// OpAction(name)), given the document as it is before the write.
	Write func(id Identity, op string, current []byte) bool
}

// Policies are the policies of the topics, by topic name; a topic without
// one allows everyone.
type Policies map[string]Policy

// Authorizer decides whether an identity may do op on a topic. The
// server's authenticator implements it from its Policies, so that every
// route and the stream ask the same place.
type Authorizer interface {
	Authorize(id Identity, topic, op string, current []byte) error
}

// Authorize asks a's decision when a is an Authorizer; anything else
// allows everything.
func Authorize(a Authenticator, id Identity, topic, op string, current []byte) error {
	if az, ok := a.(Authorizer); ok {
		return az.Authorize(id, topic, op, current)
	}
	return nil
}

// Decide applies p to one request.
func (p Policies) Decide(id Identity, topic, op string, current []byte) error {
	pol, ok := p[topic]
	if !ok {
		return nil
	}
	allowed := true
	if op == OpRead {
		if pol.Read != nil {
			allowed = pol.Read(id)
		}
	} else if pol.Write != nil {
		allowed = pol.Write(id, op, current)
	}
	if !allowed {
		verb := "read"
		if op != OpRead {
			verb = "change"
		}
		return &Refusal{Err: ErrForbidden, Detail: fmt.Sprintf("The caller may not %s topic %q.", verb, topic)}
	}
	return nil
}

// HasClaim reports whether the identity's claim name is value, or a list
// containing it (as roles usually are).
func (id Identity) HasClaim(name, value string) bool {
	switch v := id.Claims[name].(type) {
	case string:
		return v == value
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && s == value {
				return true
			}
		}
	}
	return false
}
