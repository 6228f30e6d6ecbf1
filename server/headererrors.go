package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/pinionkit/pinion/protocol"
)

// net/http answers a request whose header section it cannot read (a
// header value with a control character such as CR or NUL, a line that is
// not a header, a missing Host, headers over MaxHeaderBytes, an unknown
// transfer coding, an HTTP version it does not speak) by itself, before
// any handler runs: it writes one canned plain-text response straight to
// the connection and closes it. (It answers an unknown Expect the same
// way, with an empty 417.) Short of replacing its parser, the only
// place to answer these in the protocol's format is that write, so the
// server's connections recognise it and send a problem instead.
//
// The canned response is recognisable without doubt: it is written in one
// Write, at most a few hundred bytes, and its status line is followed by
// exactly cannedHeaders, which no response of a handler starts with
// (net/http adds Date to every one) and which no body of this server can
// hold (its bodies are JSON, which escapes CR and LF).
const cannedHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// problemListener gives every accepted connection a problemConn.
type problemListener struct {
	net.Listener
	maxHeaderBytes int
}

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c, maxHeaderBytes: l.maxHeaderBytes}, nil
}

// problemConn replaces net/http's canned error responses with problems.
type problemConn struct {
	net.Conn
	maxHeaderBytes int
}

func (c *problemConn) Write(p []byte) (int, error) {
	status, text, ok := cannedError(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(problemResponse(status, headerErrorDetail(status, text, c.maxHeaderBytes))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReadFrom keeps sendfile(2) for the files the server sends: net/http
// uses it only for a handler's body, once the headers are out, never for
// its canned answers.
func (c *problemConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// CloseWrite lets net/http half-close the connection after a 431, as it
// does on a bare TCP connection, so that the client reads the answer.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn returns the connection underneath, as tls.Conn's does.
func (c *problemConn) NetConn() net.Conn { return c.Conn }

// expectationFailed starts net/http's answer to an Expect header other
// than 100-continue, an empty 417 it sends before any handler runs. No
// route of this server answers 417, so the status line alone tells it.
const expectationFailed = "HTTP/1.1 417 Expectation Failed\r\n"

// cannedError reports whether p is one of net/http's canned error
// responses, with its status and the text after the status code in its
// body ("Bad Request: missing required Host header").
func cannedError(p []byte) (status int, text string, ok bool) {
	const prefix = "HTTP/1.1 "
	if len(p) > 512 || !bytes.HasPrefix(p, []byte(prefix)) {
		return 0, "", false
	}
	if bytes.HasPrefix(p, []byte(expectationFailed)) && bytes.HasSuffix(p, []byte("\r\n\r\n")) {
		return http.StatusExpectationFailed, "", true
	}
	i := bytes.Index(p, []byte(cannedHeaders))
	if i < 0 || bytes.ContainsAny(p[:i], "\r\n") {
		return 0, "", false
	}
	body := p[i+len(cannedHeaders):]
	if bytes.ContainsAny(body, "\r\n") || len(p[len(prefix):i]) < 3 {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(p[len(prefix) : len(prefix)+3]))
	if err != nil || status < 400 || status > 599 {
		return 0, "", false
	}
	text = string(body)
	if len(text) > 4 && text[:3] == strconv.Itoa(status) && text[3] == ' ' {
		text = text[4:]
	}
	return status, text, true
}

// headerErrorDetail says what was wrong with the request, in the words of
// the protocol; net/http's own texts are fixed sentences, never the
// client's bytes.
func headerErrorDetail(status int, text string, maxHeaderBytes int) string {
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		return "The request's header section is larger than the limit of " + strconv.Itoa(maxHeaderBytes) + " bytes (-max-header-bytes); nothing was done."
	case http.StatusNotImplemented:
		return "The request uses a transfer coding this server does not support; nothing was done."
	case http.StatusHTTPVersionNotSupported:
		return "The request uses an HTTP version this server does not support; nothing was done."
	case http.StatusExpectationFailed:
		return "The request's Expect header asks for something other than 100-continue, the only expectation this server meets; nothing was done."
	}
	if _, reason, ok := bytes.Cut([]byte(text), []byte(": ")); ok {
		return "The request is malformed: " + string(reason) + "; nothing was done."
	}
	return "The request's header section is malformed (a header value with a control character such as CR, LF or NUL, a line that is not a header, or a malformed request line); nothing was done."
}

// problemResponse is a complete HTTP/1.1 response carrying a problem, for
// a connection that closes after it.
func problemResponse(status int, detail string) []byte {
	k := protocol.Problem(status)
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{k.Type, k.Title, status, detail})
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	b.WriteString("Content-Type: " + protocol.MediaProblem + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Cache-Control: no-store\r\n")
	b.WriteString("X-Content-Type-Options: nosniff\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}
