package stream

import (
	"context"
	"time"

	"github.com/pinionkit/pinion/store"
)

// followBatch is how many changes one read of the feed returns at most.
const followBatch = 512

// Run reads the store's change feed and dispatches it until ctx ends. It
// must run for streams to start: each waits until Run has read the head it
// follows from, so that no change committed after a stream's catch-up can
// fall between the two.
func (h *Hub) Run(ctx context.Context) error {
	after, err := h.startHead(ctx)
	for err != nil {
		h.cfg.Logger.Error("stream: reading the store's head", "err", err)
		if sleep(ctx, time.Second) != nil {
			return nil
		}
		after, err = h.startHead(ctx)
	}
	h.startOnce.Do(func() { close(h.started) })
	for {
		changes, err := h.src.Since(ctx, after, followBatch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.cfg.Logger.Error("stream: reading changes", "after", after, "err", err)
			if sleep(ctx, time.Second) != nil {
				return nil
			}
			continue
		}
		for _, ch := range changes {
			h.dispatch(ch)
			after = ch.Revision
		}
		if len(changes) == followBatch {
			continue
		}
		if err := h.src.Wait(ctx, after); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.cfg.Logger.Error("stream: waiting for changes", "err", err)
			if sleep(ctx, time.Second) != nil {
				return nil
			}
		}
	}
}

func (h *Hub) startHead(ctx context.Context) (store.Revision, error) {
	_, head, err := h.src.Heads(ctx, nil)
	return head, err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
