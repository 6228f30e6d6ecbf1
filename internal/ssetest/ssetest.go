// Package ssetest reads a raw Server-Sent Events stream the way a browser's
// EventSource does, for tests that must see exactly what crossed the wire.
package ssetest

import (
	"bufio"
	"io"
	"strings"
)

// Event is one dispatched event, or a comment line (Comment set, the rest
// empty).
type Event struct {
	ID, Name, Data, Retry string
	Comment               string
}

// Read parses r until it ends, calling emit for each event and each
// comment. Following the HTML standard, fields up to a blank line make one
// event and an event without data is not dispatched. It returns the read
// error, nil at a clean end of stream.
func Read(r io.Reader, emit func(Event)) error {
	sc := bufio.NewScanner(r)
	var ev Event
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if data != nil {
				ev.Data = strings.Join(data, "\n")
				emit(ev)
			}
			ev, data = Event{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			emit(Event{Comment: strings.TrimSpace(line[1:])})
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Name = value
		case "data":
			data = append(data, value)
		case "retry":
			ev.Retry = value
		}
	}
	return sc.Err()
}
