package handlers

import (
	"cmp"
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
		principal, err := who.Authenticate(c.Response(), c.Request())
		if err != nil {
			return err
		}
		keys := make([]store.Key, 0, len(selected))
		for _, t := range selected {
			keys = append(keys, keyFor(t, principal))
		}
		slices.SortFunc(keys, func(a, b store.Key) int { return cmp.Compare(a.Topic, b.Topic) })
		// The header wins over the parameter; an empty value counts as
		// absent.
		cursor := c.Request().Header.Get(protocol.HeaderLastEventID)
		if cursor == "" {
			cursor = c.QueryParam(protocol.QueryLastEventID)
		}
		return hub.Serve(c.Response(), c.Request(), stream.Subscription{
			Principal: principal,
			Address:   ClientAddress(c.Request()),
			Keys:      keys,
			Cursor:    cursor,
		})
	}
}

// ClientAddress is the client address that per-address limits count: for
// now the connection's remote host, so behind a proxy every client shares
// the proxy's address (keep -max-streams-per-address at 0 there). Trusted
// proxy headers are issue 9's to interpret; this is the one function to
// replace when they are.
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
