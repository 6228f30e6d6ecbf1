package server

import (
	"net"
	"syscall"
	"time"
)

// tcpUserTimeout is TCP_USER_TIMEOUT (linux/tcp.h), absent from syscall.
const tcpUserTimeout = 0x12

// watchPeer makes the kernel drop a connection whose sent data stays
// unacknowledged for longer than d. A stream's heartbeat is a few bytes
// that fit in the socket buffer, so writing it succeeds even when the peer
// has vanished (a laptop closed, a NAT entry dropped); without this the
// stream would keep its slot until TCP gives up, which takes minutes.
// With it, a vanished peer is freed within about heartbeat + d.
func watchPeer(c net.Conn, d time.Duration) {
	if w, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = w.NetConn()
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(d.Milliseconds()))
	})
}
