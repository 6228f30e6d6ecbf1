package protocol

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The Valid* functions and the patterns documents carry are two spellings
// of one rule; they must agree on every input, including the edges.
func TestValidatorsAgreeWithPatterns(t *testing.T) {
	samples := []string{
		"", "a", "0", "-", ".a", "a.", "a-b", "a_b", "a:b", "A", "app-settings", "cart", "x y",
		"tenant:cart", "é", "a\x00", ":a", "_a",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65),
		strings.Repeat("b", 127), strings.Repeat("b", 128), strings.Repeat("b", 129),
		" ", "~", "\x7f", "\t", "w-3f2a", strings.Repeat("~", 128) + "~",
	}
	for c := 0; c < 256; c++ {
		samples = append(samples, string(rune(c)), "a"+string([]byte{byte(c)}))
	}
	cases := []struct {
		name    string
		pattern string
		valid   func(string) bool
	}{
		{"topic", TopicPattern, ValidTopicName},
		{"action", ActionPattern, ValidActionName},
		{"source id", SourceIDPattern, ValidSourceID},
	}
	for _, tc := range cases {
		re := regexp.MustCompile(tc.pattern)
		for _, s := range samples {
			if got, want := tc.valid(s), re.MatchString(s); got != want {
				t.Errorf("%s %q: Valid = %v, pattern %s says %v", tc.name, s, got, tc.pattern, want)
			}
		}
	}
}

func TestProblemKinds(t *testing.T) {
	if k := Problem(http.StatusUnprocessableEntity); k.Type != "https://pinion.dev/problems/validation" || k.Title != "Validation failed" {
		t.Errorf("422: %+v", k)
	}
	if k := Problem(http.StatusTeapot); k.Type != ProblemBase+"http-418" || k.Title != "I'm a teapot" {
		t.Errorf("418: %+v", k)
	}
}
