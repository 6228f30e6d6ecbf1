package server

import (
	"strings"
	"testing"
)

// TestCannedError checks that the canned answers of net/http (copied from
// its source) are recognised, and that what a handler of this server
// writes is not.
func TestCannedError(t *testing.T) {
	const eh = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	tests := []struct {
		write  string
		status int // 0: not canned
		text   string
	}{
		{"HTTP/1.1 431 Request Header Fields Too Large" + eh + "431 Request Header Fields Too Large", 431, "Request Header Fields Too Large"},
		{"HTTP/1.1 400 Bad Request" + eh + "400 Bad Request", 400, "Bad Request"},
		{"HTTP/1.1 400 Bad Request: missing required Host header" + eh + "400 Bad Request: missing required Host header", 400, "Bad Request: missing required Host header"},
		{"HTTP/1.1 501 Not Implemented" + eh + "Unsupported transfer encoding", 501, "Unsupported transfer encoding"},
		{"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version" + eh + "505 HTTP Version Not Supported: unsupported protocol version", 505, "HTTP Version Not Supported: unsupported protocol version"},
		{"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: Tue, 01 Dec 2026 20:00:00 GMT\r\nContent-Length: 0\r\n\r\n", 417, ""},
		// A handler's answers: Date and the server's own headers follow the status line.
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nDate: Tue, 01 Dec 2026 20:00:00 GMT\r\n\r\n{}", 0, ""},
		{"HTTP/1.1 400 Bad Request\r\nCache-Control: no-store" + eh + "x", 0, ""},
		{"HTTP/1.1 200 OK" + eh + "ok", 0, ""},
		// A body that happens to start like one.
		{`{"theme":"HTTP/1.1 400 Bad Request"}`, 0, ""},
		{"HTTP/1.1 400 Bad Request" + eh + strings.Repeat("x", 600), 0, ""},
		{"HTTP/1.1 400 Bad Request" + eh + "two\r\nlines", 0, ""},
	}
	for _, tt := range tests {
		status, text, ok := cannedError([]byte(tt.write))
		if ok != (tt.status != 0) || status != tt.status || text != tt.text {
			t.Errorf("cannedError(%.60q) = %d %q %v, want %d %q", tt.write, status, text, ok, tt.status, tt.text)
		}
	}
}
