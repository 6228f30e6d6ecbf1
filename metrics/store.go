package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/pinionkit/pinion/store"
)

// Store wraps a backend so that its failures and write latency are
// counted. An error returned by the caller's UpdateFunc (a rejected write:
// validation, a failed precondition) is not a store error.
func (m *Metrics) Store(b store.Backend) store.Backend {
	if m == nil {
		return b
	}
	return &observed{Backend: b, m: m}
}

type observed struct {
	store.Backend
	m *Metrics
}

func (o *observed) fail(op string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		o.m.StoreError(op)
	}
}

func (o *observed) Get(ctx context.Context, key store.Key) (store.Document, error) {
	d, err := o.Backend.Get(ctx, key)
	o.fail("get", err)
	return d, err
}

func (o *observed) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	var rejected error
	start := time.Now()
	d, err := o.Backend.Update(ctx, key, sourceID, func(cur store.Document) ([]byte, error) {
		data, err := fn(cur)
		rejected = err
		return data, err
	})
	switch {
	case err == nil:
		o.m.storeWrite.Observe(time.Since(start).Seconds())
	case rejected == nil || !errors.Is(err, rejected):
		o.fail("update", err)
	}
	return d, err
}

func (o *observed) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	ch, head, err := o.Backend.Heads(ctx, keys)
	o.fail("heads", err)
	return ch, head, err
}

func (o *observed) Since(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	ch, err := o.Backend.Since(ctx, after, limit)
	o.fail("since", err)
	return ch, err
}

func (o *observed) Ping(ctx context.Context) error {
	err := o.Backend.Ping(ctx)
	o.fail("ping", err)
	return err
}
