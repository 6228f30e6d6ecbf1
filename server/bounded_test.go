package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// widePatch is a merge patch of about size bytes with one member per ~10
// bytes: 1 MiB holds ~100,000 members.
func widePatch(size int) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; b.Len() < size-16; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i%10)
	}
	b.WriteByte('}')
	return b.String()
}

// deepPatch nests objects as deep as jsontext allows.
func deepPatch(levels int) string {
	return strings.Repeat(`{"a":`, levels) + "1" + strings.Repeat("}", levels)
}

// TestBoundedMergeUnderAttack sends the bodies that stalled every writer
// for tens of seconds (a 1 MiB patch with ~100,000 members, one nested
// 9,990 deep) while another client keeps writing: each attack is refused
// with 413, changes nothing and raises nothing, and every ordinary write
// succeeds meanwhile.
func TestBoundedMergeUnderAttack(t *testing.T) {
	h := startMemory(t)
	victim := h.browser()
	before := victim.do("GET", "/api/topics/app-settings", "").snapshot(t)
	events := victim.stream("/api/events?topic=counter")
	defer events.close()
	if e := events.next(t); e.name != "ready" {
		t.Fatalf("first event %q, want ready", e.name)
	}

	attacks := map[string]string{
		"wide":        widePatch(1<<20 - 64),
		"deep":        deepPatch(9990),
		"deep-array":  strings.Repeat("[", 9990) + strings.Repeat("]", 9990),
		"wide-action": `{"by":1,"x":[` + strings.Repeat("1,", 200000) + `1]}`,
	}
	var wg sync.WaitGroup
	for name, body := range attacks {
		for range 2 {
			wg.Go(func() {
				attacker := h.browser()
				path, ct := "/api/topics/app-settings", "application/merge-patch+json"
				method := "PATCH"
				if name == "wide-action" {
					method, path, ct = "POST", "/api/topics/counter/actions/increment", "application/json"
				}
				r := attacker.do(method, path, body, "Content-Type", ct)
				if r.status != http.StatusRequestEntityTooLarge {
					t.Errorf("%s: status %d, want 413: %.200s", name, r.status, r.body)
				}
			})
		}
	}
	// Ordinary writes go on, and each one's invalidation arrives.
	for i := range 5 {
		r := victim.do("POST", "/api/topics/counter/actions/increment", `{"by":1}`, "Content-Type", "application/json")
		s := r.snapshot(t)
		if e := events.next(t); e.name != "invalidation" || !strings.Contains(e.data, s.Revision) {
			t.Fatalf("write %d: event %+v, want the invalidation of %s", i, e, s.Revision)
		}
	}
	wg.Wait()
	after := victim.do("GET", "/api/topics/app-settings", "").snapshot(t)
	if after.Revision != before.Revision || string(after.Data) != string(before.Data) {
		t.Fatalf("app-settings changed: %s → %s", before.Revision, after.Revision)
	}
	p := h.browser().do("PATCH", "/api/topics/app-settings", deepPatch(40), "Content-Type", "application/merge-patch+json").problem(t, 413)
	if !strings.Contains(p.Detail, "nested more than 32") {
		t.Errorf("detail %q does not name the depth limit", p.Detail)
	}
}

// worstAllowedPatch is the costliest merge patch the default limits let
// through to the merge and validation: 1 MiB, 9,000 members (under the
// 10,000 limit) of ~110-byte strings, every one an unknown member, so the
// merged document fails validation after the most decoding work.
func worstAllowedPatch() string {
	var b bytes.Buffer
	b.WriteByte('{')
	pad := strings.Repeat("x", 100)
	for i := 0; i < 9000 && b.Len() < 1<<20-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":"%s"`, i, pad)
	}
	b.WriteByte('}')
	return b.String()
}

// worstWellTypedPatch is the costliest merge patch that gets past the
// checks before the write lock: about 1 MiB, under the member limit, of
// the right types everywhere (a cart of 1,900 lines with 500-character
// names), so that the merge, the decoding and the validation of a 1 MiB
// document run inside the lock before its rules refuse it.
func worstWellTypedPatch() string {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	name := strings.Repeat("n", 500)
	for i := 0; i < 1900; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"S-%d","name":"%s","qty":1,"priceCents":100}`, i, name)
	}
	b.WriteString(`]}`)
	return b.String()
}

// BenchmarkSmallWriteUnderAttack measures one small write (an action on
// a shared counter) alone, and while 4 attackers send the worst bodies
// the default limits allow, back to back, to the same server: patches of
// unknown members (refused before the write lock) and well-typed patches
// (refused by their rules, inside it).
func BenchmarkSmallWriteUnderAttack(b *testing.B) {
	for _, bc := range []struct {
		name, path, body string
		attackers        int
	}{
		{"attackers=0", "", "", 0},
		{"attackers=4", "/api/topics/app-settings", worstAllowedPatch(), 4},
		{"attackers=4/well-typed", "/api/topics/cart", worstWellTypedPatch(), 4},
	} {
		attackers, body := bc.attackers, bc.body
		b.Run(bc.name, func(b *testing.B) {
			_, _, base := benchServer(b, "memory")
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range attackers {
				wg.Go(func() {
					c := &http.Client{}
					for {
						select {
						case <-stop:
							return
						default:
						}
						req, _ := http.NewRequest("PATCH", base+bc.path, strings.NewReader(body))
						req.Header.Set("Content-Type", "application/merge-patch+json")
						resp, err := c.Do(req)
						if err != nil {
							continue
						}
						resp.Body.Close()
					}
				})
			}
			c := &http.Client{}
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				req, _ := http.NewRequest("POST", base+"/api/topics/counter/actions/increment", strings.NewReader(`{"by":1}`))
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("small write: %v %v", err, resp)
				}
				resp.Body.Close()
				lat = append(lat, time.Since(start))
			}
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
