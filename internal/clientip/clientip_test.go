package clientip

import (
	"net/http"
	"testing"
)

func TestAddr(t *testing.T) {
	r, err := New([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.9:1234", nil, "203.0.113.9"},
		{"203.0.113.9:1234", []string{"1.2.3.4"}, "203.0.113.9"}, // not a proxy: the header is ignored
		{"127.0.0.1:1", []string{"1.2.3.4"}, "1.2.3.4"},
		{"127.0.0.1:1", []string{"6.6.6.6, 1.2.3.4, 10.1.1.1"}, "1.2.3.4"},
		{"127.0.0.1:1", []string{"6.6.6.6", "1.2.3.4"}, "1.2.3.4"},
		{"127.0.0.1:1", []string{"10.0.0.1"}, "10.0.0.1"},
		{"127.0.0.1:1", []string{"garbage, 1.2.3.4"}, "1.2.3.4"},
		{"127.0.0.1:1", []string{"1.2.3.4, garbage"}, "127.0.0.1"},
		{"[::ffff:127.0.0.1]:1", []string{"1.2.3.4"}, "1.2.3.4"},
	} {
		req := &http.Request{RemoteAddr: c.remote, Header: http.Header{}}
		for _, v := range c.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		if got := r.Addr(req).String(); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	req := &http.Request{RemoteAddr: "[2001:db8:1:2:3:4:5:6]:80", Header: http.Header{}}
	if got := r.Key(req); got != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 key %s, want the /64", got)
	}
	if _, err := New([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad prefix is accepted")
	}
}
