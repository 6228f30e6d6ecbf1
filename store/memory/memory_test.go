package memory_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, now func() time.Time) store.Backend {
			s := memory.Open(memory.WithClock(now))
			t.Cleanup(func() { s.Close() })
			return s
		},
	})
}

func BenchmarkUpdate(b *testing.B) {
	doc := []byte(`{"theme":"dark","fontSize":14}`)
	write := func(store.Document) ([]byte, error) { return doc, nil }

	b.Run("sequential", func(b *testing.B) {
		s := memory.Open()
		defer s.Close()
		key := store.Key{Topic: "bench"}
		for b.Loop() {
			if _, err := s.Update(b.Context(), key, "", write); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := memory.Open()
		defer s.Close()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			key := store.Key{Topic: "bench", Principal: strconv.FormatInt(next.Add(1), 10)}
			for pb.Next() {
				if _, err := s.Update(b.Context(), key, "", write); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkGet(b *testing.B) {
	s := memory.Open()
	defer s.Close()
	key := store.Key{Topic: "bench"}
	if _, err := s.Update(b.Context(), key, "", func(store.Document) ([]byte, error) {
		return []byte(`{"theme":"dark","fontSize":14}`), nil
	}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Get(b.Context(), key); err != nil {
			b.Fatal(err)
		}
	}
}
