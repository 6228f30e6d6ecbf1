package handlers

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/topic"
)

// write is what every write request shares: the target document, the
// If-Match precondition and the X-Source-Id to echo in the invalidation.
type write struct {
	who      auth.Authenticator
	id       auth.Identity
	op       string
	topic    *topic.Topic
	key      store.Key
	ifMatch  precondition
	sourceID string
}

// prepare resolves the topic and the caller and validates the write
// headers, before any body is read.
func prepare(c echo.Context, topics *topic.Set, who auth.Authenticator, op string) (write, error) {
	t, err := resolve(topics, c.Param("topic"))
	if err != nil {
		return write{}, err
	}
	id, err := auth.Identify(who, c.Response(), c.Request())
	if err != nil {
		return write{}, err
	}
	if op == "" {
		op = auth.OpAction(c.Param("action"))
	}
	key, ok := keyFor(t, id)
	if !ok {
		_, err := access(who, id, t, op, nil)
		return write{}, err
	}
	h := c.Request().Header
	w := write{who: who, id: id, op: op, topic: t, key: key}
	if values := h.Values("If-Match"); len(values) > 0 {
		any, tags, ok := parseETags(values)
		if !ok || (!any && len(tags) == 0) {
			return write{}, badRequest("The If-Match header is malformed: it must be * or a list of entity tags such as \"1764000000000017\".")
		}
		w.ifMatch = precondition{present: true, any: any, tags: tags}
	}
	if values := h.Values(protocol.HeaderSourceID); len(values) > 0 {
		if len(values) > 1 || !protocol.ValidSourceID(values[0]) {
			return write{}, badRequest("X-Source-Id must be one value of 1 to 128 printable ASCII characters.")
		}
		w.sourceID = values[0]
	}
	return w, nil
}

// commit runs the write. Its body was checked and decoded before (by
// topic's Prepare*); inside the store's transaction only the precondition
// and change.Apply, the read-modify-write against the current document, run.
func (w write) commit(c echo.Context, docs Writer, change topic.Write) error {
	ctx := c.Request().Context()
	doc, err := docs.Update(ctx, w.key, w.sourceID, func(cur store.Document) ([]byte, error) {
		// The policy sees the document as it is under the write lock, so
		// that no write slips in between the decision and the change.
		if _, err := access(w.who, w.id, w.topic, w.op, document(w.topic, cur)); err != nil {
			return nil, err
		}
		if !w.ifMatch.matches(cur.Revision) {
			return nil, &apiError{status: http.StatusPreconditionFailed, current: &cur.Revision,
				detail: "If-Match does not name the current revision " + cur.Revision.String() + "; nothing was changed."}
		}
		return change.Apply(ctx, document(w.topic, cur))
	})
	if err != nil {
		return err
	}
	return writeSnapshot(c, w.topic, doc)
}

// readBody enforces the content type and the size limit and returns the
// whole body.
func readBody(c echo.Context, limit int64, want string) ([]byte, error) {
	r := c.Request()
	if err := checkMediaType(r.Header.Get("Content-Type"), want); err != nil {
		return nil, err
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, tooLarge(limit)
		}
		return nil, badRequest("The request body could not be read.")
	}
	return body, nil
}

// checkMediaType accepts want with at most a charset=utf-8 parameter.
func checkMediaType(header, want string) error {
	unsupported := &apiError{status: http.StatusUnsupportedMediaType,
		detail: "The body must be " + want + " (optionally with charset=utf-8)."}
	if header == "" {
		return unsupported
	}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != want {
		return unsupported
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return unsupported
		}
	}
	return nil
}

// Replace serves PUT /api/topics/:topic.
func Replace(topics *topic.Set, docs Writer, who auth.Authenticator, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		w, err := prepare(c, topics, who, auth.OpReplace)
		if err != nil {
			return err
		}
		body, err := readBody(c, limit, protocol.MediaJSON)
		if err != nil {
			return err
		}
		change, err := w.topic.PrepareReplace(body)
		if err != nil {
			return err
		}
		return w.commit(c, docs, change)
	}
}

// Patch serves PATCH /api/topics/:topic with an RFC 7396 merge patch; the
// merged document is validated as a whole.
func Patch(topics *topic.Set, docs Writer, who auth.Authenticator, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		w, err := prepare(c, topics, who, auth.OpPatch)
		if err != nil {
			return err
		}
		patch, err := readBody(c, limit, protocol.MediaMergePatch)
		if err != nil {
			return err
		}
		change, err := w.topic.PreparePatch(patch)
		if err != nil {
			return err
		}
		return w.commit(c, docs, change)
	}
}

// Action serves POST /api/topics/:topic/actions/:action.
func Action(topics *topic.Set, docs Writer, who auth.Authenticator, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		w, err := prepare(c, topics, who, "")
		if err != nil {
			return err
		}
		name := c.Param("action")
		if !hasAction(w.topic, name) {
			return notFound("Topic %q has no action named %q.", w.topic.Name(), name)
		}
		input, err := readBody(c, limit, protocol.MediaJSON)
		if err != nil {
			return err
		}
		change, err := w.topic.PrepareAction(name, input)
		if err != nil {
			return err
		}
		return w.commit(c, docs, change)
	}
}

// Reset serves DELETE /api/topics/:topic: the document goes back to its
// default, at a new revision (revisions never go back).
func Reset(topics *topic.Set, docs Writer, who auth.Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		w, err := prepare(c, topics, who, auth.OpReset)
		if err != nil {
			return err
		}
		return w.commit(c, docs, w.topic.PrepareReset())
	}
}

func hasAction(t *topic.Topic, name string) bool {
	for _, a := range t.Actions() {
		if a.Name == name {
			return true
		}
	}
	return false
}
