package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/topic"
)

// Snapshot serves GET /api/topics/:topic: the caller's document with a
// strong ETag, or 304 when If-None-Match names its revision.
func Snapshot(topics *topic.Set, docs Reader, who auth.Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := resolve(topics, c.Param("topic"))
		if err != nil {
			return err
		}
		id, err := auth.Identify(who, c.Response(), c.Request())
		if err != nil {
			return err
		}
		key, err := access(who, id, t, auth.OpRead, nil)
		if err != nil {
			return err
		}
		doc, err := docs.Get(c.Request().Context(), key)
		if err != nil {
			return err
		}
		if notModified(c.Request(), doc.Revision) {
			setCaching(c.Response().Header(), t, doc.Revision)
			return c.NoContent(http.StatusNotModified)
		}
		return writeSnapshot(c, t, doc)
	}
}

// readable returns the topics id may read and the keys of its documents,
// leaving out the others without a trace: a caller never learns of a
// topic (or a tenant) it may not see.
func readable(who auth.Authenticator, id auth.Identity, ts []*topic.Topic) ([]*topic.Topic, []store.Key) {
	out, keys := ts[:0:0], make([]store.Key, 0, len(ts))
	for _, t := range ts {
		key, err := access(who, id, t, auth.OpRead, nil)
		if err != nil {
			continue
		}
		out = append(out, t)
		keys = append(keys, key)
	}
	return out, keys
}

// Heads reads the current revisions of many documents at once.
type Heads interface {
	Info() store.Info
	Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error)
}

type topicEntry struct {
	Topic    string `json:"topic"`
	Revision string `json:"revision"`
	Scope    string `json:"scope"`
}

// List serves GET /api/topics: every topic the caller may read, with the
// caller's current revision of each.
func List(topics *topic.Set, docs Heads, who auth.Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := auth.Identify(who, c.Response(), c.Request())
		if err != nil {
			return err
		}
		all, keys := readable(who, id, topics.All())
		changes, _, err := docs.Heads(c.Request().Context(), keys)
		if err != nil {
			return err
		}
		revs := make(map[store.Key]store.Revision, len(changes))
		for _, ch := range changes {
			revs[ch.Key] = ch.Revision
		}
		initial := docs.Info().Initial
		out := struct {
			Topics []topicEntry `json:"topics"`
		}{Topics: make([]topicEntry, len(all))}
		for i, t := range all {
			rev, ok := revs[keys[i]]
			if !ok {
				rev = initial
			}
			out.Topics[i] = topicEntry{Topic: t.Name(), Revision: rev.String(), Scope: t.Scope().String()}
		}
		// The list is per caller: it names per-principal revisions.
		c.Response().Header().Set("Cache-Control", protocol.CachePrivate)
		c.Response().Header().Set("Vary", protocol.VaryPrincipal)
		return c.JSON(http.StatusOK, out)
	}
}
