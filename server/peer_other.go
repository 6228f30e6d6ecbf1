//go:build !linux

package server

import (
	"net"
	"time"
)

// watchPeer is a no-op where TCP_USER_TIMEOUT is not available: a vanished
// peer is then freed when TCP gives up.
func watchPeer(net.Conn, time.Duration) {}
