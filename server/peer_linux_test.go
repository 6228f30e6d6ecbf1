package server

import (
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/topic"
)

// TestVanishedPeerTimeout checks that every accepted connection gets the
// kernel's TCP_USER_TIMEOUT: the only way a stream learns that a peer
// vanished (no FIN, no RST: a closed laptop, a dropped NAT entry) before
// TCP gives up minutes later, since its heartbeat fits in the socket
// buffer and so is "written" successfully. Loopback cannot drop packets
// without privileges, so the test checks the option on a real accepted
// connection rather than waiting for a real vanishing.
func TestVanishedPeerTimeout(t *testing.T) {
	topics, err := topic.NewSet(demo.Topics())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Addr: "127.0.0.1:0"}, memory.Open(), topics, auth.Cookie{Key: auth.NewKey()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s.http.ConnState(conn, http.StateNew)
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	_ = raw.Control(func(fd uintptr) {
		got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout)
	})
	if gerr != nil {
		t.Fatal(gerr)
	}
	if want := int(s.peerTimeout() / time.Millisecond); got != want {
		t.Fatalf("TCP_USER_TIMEOUT %d ms, want %d", got, want)
	}
}
