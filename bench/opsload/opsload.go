// Package opsload holds what the operations harnesses (bench/soak,
// bench/storm, bench/slowclient) share: an SSE reader that keeps its
// Last-Event-ID like a browser, a writer, and a reader of the admin
// listener's metrics. It talks HTTP only, so the harnesses run against any
// Pinion process, in-process in tests or a binary under load.
package opsload

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"time"

	"github.com/pinionkit/pinion/internal/ssetest"
)

// Client returns an HTTP client with its own cookie jar (one principal)
// and enough idle connections for a harness.
func Client() *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        1000,
		MaxIdleConnsPerHost: 1000,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{Jar: jar, Transport: tr}
}

// Invalidation is the data of an invalidation event.
type Invalidation struct {
	Topic       string `json:"topic"`
	Revision    string `json:"revision"`
	SourceID    string `json:"sourceId"`
	TimestampMs int64  `json:"timestampMs"`
}

// Event is what a stream delivered, with the time it was read.
type Event struct {
	ssetest.Event
	At time.Time
}

// Stream opens one event stream for topics, resuming after lastID when it
// is set, and calls emit for each event (not comments) until the stream
// ends or ctx does. It returns the last id seen (lastID if none) and the
// reason the stream ended (nil when ctx ended it). A non-200 answer is an
// error that says its status.
func Stream(ctx context.Context, c *http.Client, base string, topics []string, lastID string, emit func(Event)) (string, error) {
	q := make([]string, 0, len(topics))
	for _, t := range topics {
		q = append(q, "topic="+t)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events?"+strings.Join(q, "&"), nil)
	if err != nil {
		return lastID, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return lastID, nil
		}
		return lastID, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return lastID, fmt.Errorf("events: %d %s", resp.StatusCode, body)
	}
	err = ssetest.Read(resp.Body, func(ev ssetest.Event) {
		if ev.Comment != "" && ev.Data == "" {
			return
		}
		if ev.ID != "" {
			lastID = ev.ID
		}
		emit(Event{Event: ev, At: time.Now()})
	})
	if ctx.Err() != nil {
		return lastID, nil
	}
	return lastID, err
}

// Write sends one write and returns the new revision.
func Write(ctx context.Context, c *http.Client, method, url, contentType, body, sourceID string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", contentType)
	if sourceID != "" {
		req.Header.Set("X-Source-Id", sourceID)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	var snap struct {
		Revision string `json:"revision"`
	}
	if err := json.Unmarshal(data, &snap); err != nil {
		return "", err
	}
	return snap.Revision, nil
}

// Scrape reads the admin listener's /metrics and returns every sample
// without labels (gauges such as go_goroutines), by name.
func Scrape(ctx context.Context, c *http.Client, admin string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.Contains(line, "{") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.Fields(val)[0], 64); err == nil {
			out[name] = f
		}
	}
	return out, sc.Err()
}

// RevisionOf reads the revision of an invalidation's data without a JSON
// decoder per event (10,000 streams × every write); 0 when there is none.
func RevisionOf(data string) uint64 {
	const key = `"revision":"`
	i := strings.Index(data, key)
	if i < 0 {
		return 0
	}
	rest := data[i+len(key):]
	end := strings.IndexByte(rest, '"')
	if end < 0 {
		return 0
	}
	n, _ := strconv.ParseUint(rest[:end], 10, 64)
	return n
}
