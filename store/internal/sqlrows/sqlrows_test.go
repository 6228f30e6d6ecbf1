package sqlrows

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
)

// fakeRows serves rows of values, then fails as told.
type fakeRows struct {
	rows    [][]any
	next    int
	scanErr error // returned by the first Scan
	err     error // returned by Err
}

func (r *fakeRows) Next() bool { r.next++; return r.next <= len(r.rows) }

func (r *fakeRows) Scan(dest ...any) error {
	if r.scanErr != nil {
		return r.scanErr
	}
	for i, v := range r.rows[r.next-1] {
		reflect.ValueOf(dest[i]).Elem().Set(reflect.ValueOf(v))
	}
	return nil
}

func (r *fakeRows) Err() error { return r.err }

func TestChanges(t *testing.T) {
	broken := errors.New("broken")
	two := [][]any{
		{"cart", "alice", int64(1764000000000001), "w-1", int64(1764000000000000)},
		{"app-settings", "", int64(1764000000000002), "", int64(1764000000000001)},
	}
	tests := []struct {
		name    string
		rows    *fakeRows
		want    []store.Change
		wantErr error
	}{
		{"none", &fakeRows{}, nil, nil},
		{"two", &fakeRows{rows: two}, []store.Change{
			{Key: store.Key{Topic: "cart", Principal: "alice"}, Revision: 1764000000000001, SourceID: "w-1", Time: time.UnixMicro(1764000000000000)},
			{Key: store.Key{Topic: "app-settings"}, Revision: 1764000000000002, Time: time.UnixMicro(1764000000000001)},
		}, nil},
		{"scan fails", &fakeRows{rows: two, scanErr: broken}, nil, broken},
		{"iteration fails", &fakeRows{rows: two, err: broken}, nil, broken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Changes(tt.rows)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
