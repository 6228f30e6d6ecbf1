// Command sseref is the floor Pinion's event stream is measured against: a
// bare net/http Server-Sent Events server with nothing Pinion has (no
// store, no auth, no resume, no caps). GET /events holds a stream; PUT or
// POST /publish sends its body as one event to every stream. Each stream
// is its handler goroutine with a 64-slot queue, one write deadline and
// one flush per event, and a heartbeat, which is what any production SSE
// server needs at least. See BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type hub struct {
	mu      sync.RWMutex
	streams map[chan []byte]struct{}
	seq     atomic.Int64
}

func (h *hub) events(w http.ResponseWriter, r *http.Request) {
	ch := make(chan []byte, 64)
	h.mu.Lock()
	h.streams[ch] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.streams, ch)
		h.mu.Unlock()
	}()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTimer(15 * time.Second)
	defer beat.Stop()
	for {
		var msg []byte
		select {
		case <-r.Context().Done():
			return
		case msg = <-ch:
		case <-beat.C:
			msg = []byte(": keep-alive\n\n")
		}
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(msg); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
		beat.Reset(15 * time.Second)
	}
}

func (h *hub) publish(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		http.Error(w, "PUT or POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := h.seq.Add(1)
	// One encoding shared by every stream; a slow stream is dropped, not
	// waited for.
	msg := []byte("id: " + strconv.FormatInt(id, 10) + "\nevent: message\ndata: ")
	for _, b := range body {
		if b != '\n' && b != '\r' {
			msg = append(msg, b)
		}
	}
	msg = append(msg, "\n\n"...)
	h.mu.RLock()
	n := 0
	for ch := range h.streams {
		select {
		case ch <- msg:
			n++
		default:
		}
	}
	h.mu.RUnlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"delivered":`+strconv.Itoa(n)+"}\n")
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	h := &hub{streams: make(map[chan []byte]struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", h.events)
	mux.HandleFunc("/publish", h.publish)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Printf("sseref listening on %s", *addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
