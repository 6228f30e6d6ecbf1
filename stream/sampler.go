package stream

import (
	"sync"
	"time"
)

// sampler lets one log line through per period and counts the rest, so a
// flood of identical events (refusals, evictions) costs one line per
// period that says how many it stands for.
type sampler struct {
	every time.Duration

	mu    sync.Mutex
	next  time.Time
	count int64
}

func newSampler(every time.Duration) *sampler { return &sampler{every: every} }

// take counts one occurrence and reports whether to log now, with the
// number of occurrences the line stands for.
func (s *sampler) take() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	now := time.Now()
	if now.Before(s.next) {
		return 0, false
	}
	n := s.count
	s.count = 0
	s.next = now.Add(s.every)
	return n, true
}
