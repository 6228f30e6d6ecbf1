package metrics

import (
	"testing"
	"time"
)

func TestRoute(t *testing.T) {
	for _, c := range []struct {
		method, path, topic, op string
		ok                      bool
	}{
		{"GET", "/api/topics/cart", "cart", "snapshot", true},
		{"HEAD", "/api/topics/cart", "cart", "snapshot", true},
		{"PUT", "/api/topics/cart", "cart", "replace", true},
		{"PATCH", "/api/topics/cart", "cart", "patch", true},
		{"DELETE", "/api/topics/cart", "cart", "reset", true},
		{"POST", "/api/topics/cart/actions/add-item", "cart", "action", true},
		{"POST", "/api/topics/cart", "", "", false},
		{"GET", "/api/topics/cart/actions/add-item", "", "", false},
		{"POST", "/api/topics/cart/actions/", "", "", false},
		{"POST", "/api/topics/cart/other/x", "", "", false},
		{"GET", "/api/topics", "", "", false},
		{"GET", "/api/topics/", "", "", false},
		{"GET", "/api/events", "", "", false},
	} {
		topic, op, ok := route(c.method, c.path)
		if topic != c.topic || op != c.op || ok != c.ok {
			t.Errorf("%s %s: %q %q %v", c.method, c.path, topic, op, ok)
		}
	}
}

func TestRuleLabelIsBounded(t *testing.T) {
	for in, want := range map[string]string{"max": "max", "required_if": "required_if", "": "other",
		"a b": "other", "x\n": "other", "abcdefghijklmnopqrstuvwxyzabcdefg": "other"} {
		if got := ruleLabel(in); got != want {
			t.Errorf("ruleLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// A nil *Metrics records nothing and does not panic, so the hooks can be
// wired unconditionally.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.EventsSent(1)
	m.Evicted("slow")
	m.Replayed(3)
	m.Committed(2, time.Millisecond)
	m.StoreError("update")
	m.ClientFreshness("cart", time.Second)
	m.WatchStreams(func() int { return 0 })
	if m.Middleware(nil)(nil) != nil {
		t.Fatal("nil metrics must not wrap")
	}
}
