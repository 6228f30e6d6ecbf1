package protocol_test

import (
	"regexp"
	"testing"

	"github.com/pinionkit/pinion/protocol"
)

// FuzzNames: the hand-written checks of topic names, action names and
// X-Source-Id agree with the patterns the OpenAPI document publishes, for
// any input.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"app-settings", "a", "a:b", ":a", "A", "a b", "", "x\x00", "é", "a.b_c-d",
		"0123456789012345678901234567890123456789012345678901234567890123", "tab-1\n", "\x7e", "\x7f"} {
		f.Add(s)
	}
	topic := regexp.MustCompile(protocol.TopicPattern)
	action := regexp.MustCompile(protocol.ActionPattern)
	source := regexp.MustCompile(protocol.SourceIDPattern)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := protocol.ValidTopicName(s), topic.MatchString(s); got != want {
			t.Errorf("ValidTopicName(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := protocol.ValidActionName(s), action.MatchString(s); got != want {
			t.Errorf("ValidActionName(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := protocol.ValidSourceID(s), source.MatchString(s); got != want {
			t.Errorf("ValidSourceID(%q) = %v, pattern says %v", s, got, want)
		}
	})
}
