package store_test

import (
	"testing"

	"github.com/pinionkit/pinion/store"
)

// FuzzParseCursor: the cursor and revision parsers accept only canonical
// forms (what they accept prints back unchanged), and Place never
// positions a client after the store's head.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"faf720f0.1795557257683751", "e.0", "e.01", ".1", "e.", "e.18446744073709551615",
		"e.18446744073709551616", "a.b.c", "e.-1", "e.+1", "e. 1", "", "e.1\x00"} {
		f.Add(s, uint64(1795557257683751))
	}
	info := store.Info{Epoch: "e", Initial: 5}
	f.Fuzz(func(t *testing.T, s string, head uint64) {
		if c, err := store.ParseCursor(s); err == nil {
			if c.String() != s {
				t.Fatalf("ParseCursor(%q) prints back as %q", s, c.String())
			}
		}
		if _, rev, ok := cut(s); ok {
			if r, err := store.ParseRevision(rev); err == nil && r.String() != rev {
				t.Fatalf("ParseRevision(%q) prints back as %q", rev, r.String())
			}
		}
		if after, ok := info.Place(s, store.Revision(head)); ok && after > store.Revision(head) {
			t.Fatalf("Place(%q, %d) = %d, after the head", s, head, after)
		}
	})
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}
