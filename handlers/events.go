package handlers

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/stream"
	"github.com/pinionkit/pinion/topic"
)

// Streamer runs one event stream.
type Streamer interface {
	Serve(w http.ResponseWriter, r *http.Request, sub stream.Subscription) error
}

// Events serves GET /api/events: one stream for the topics named by
// repeated topic parameters, or for every topic the caller may read. All
// checks happen before the stream starts, because a browser's EventSource
// gives up for good on any non-200 answer.
func Events(topics *topic.Set, hub Streamer, who auth.Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		var selected []*topic.Topic
		names := c.QueryParams()[protocol.QueryTopic]
		if len(names) == 0 {
			selected = topics.All()
		}
		seen := make(map[string]bool, len(names))
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			t, err := resolve(topics, name)
			if err != nil {
				return err
			}
			selected = append(selected, t)
		}
		id, err := auth.Identify(who, c.Response(), c.Request())
		if err != nil {
			return err
		}
		var keys []store.Key
		if len(names) == 0 {
			_, keys = readable(who, id, selected)
		} else {
			for _, t := range selected {
				key, err := access(who, id, t, auth.OpRead, nil)
				if err != nil {
					return err
				}
				keys = append(keys, key)
			}
		}
		slices.SortFunc(keys, func(a, b store.Key) int { return cmp.Compare(a.Topic, b.Topic) })
		// The header wins over the parameter; an empty value counts as
		// absent.
		cursor := c.Request().Header.Get(protocol.HeaderLastEventID)
		if cursor == "" {
			cursor = c.QueryParam(protocol.QueryLastEventID)
		}
		sub := stream.Subscription{Principal: id.Principal, Address: clientAddress(who, c.Request()), Keys: keys, Cursor: cursor}
		if id.Expires.IsZero() {
			return hub.Serve(c.Response(), c.Request(), sub)
		}
		// The stream lives as long as its credential: at expiry it ends
		// with an event telling the client to authenticate again (and
		// resume from its last cursor, so nothing is lost).
		r := c.Request()
		ctx, cancel := context.WithDeadline(r.Context(), id.Expires)
		defer cancel()
		err = hub.Serve(c.Response(), r.WithContext(ctx), sub)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil && c.Response().Committed {
			_, _ = io.WriteString(c.Response(), "event: "+protocol.EventReauthenticate+"\ndata: {\"reason\":\"credential-expired\"}\n\n")
			_ = http.NewResponseController(c.Response()).Flush()
			return nil
		}
		return err
	}
}

// clientAddress is the client address that per-address limits count. The
// server's authenticator knows the trusted proxies (-trusted-proxies) and
// answers it, grouping IPv6 by /64 as the write limits do; without one,
// it is the connection's remote host.
func clientAddress(who auth.Authenticator, r *http.Request) string {
	if a, ok := who.(interface{ ClientAddress(*http.Request) string }); ok {
		return a.ClientAddress(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
