package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/web"
)

// leaderOf waits until exactly one of pages says it leads, and returns it.
func leaderOf(t *testing.T, pages []*page) *page {
	t.Helper()
	var leader *page
	poll(t, "exactly one leader tab", func() (bool, string) {
		var ls []string
		leader = nil
		for _, pg := range pages {
			if pg.attr("stream-role", "data-role") == "leader" {
				ls = append(ls, pg.name)
				leader = pg
			}
		}
		return len(ls) == 1, fmt.Sprintf("leaders: %v", ls)
	})
	return leader
}

// pollLong is poll with a longer bound, for a takeover that must first
// wait out the leader's silence (6 s, 12 s for hidden tabs).
func pollLong(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, note := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last: %s)", what, note)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSilentLeaderTabIsReplaced: the tab holding the one stream is frozen
// (a suspended mobile tab, a paused debugger: alive, lock held, silent) or
// its renderer crashes, without being closed. A write lands in the gap.
// Every other tab converges on it, with no revision missed, because a
// follower takes the lead and resumes from the last cursor relayed.
func TestSilentLeaderTabIsReplaced(t *testing.T) {
	for _, how := range []string{"frozen", "crashed"} {
		t.Run(how, func(t *testing.T) {
			a := startApp(t)
			b := newBrowser(t, a)
			p := b.principal("alice")
			pages := []*page{p.open("1"), p.open("2"), p.open("3")}
			leader := leaderOf(t, pages)
			var rest []*page
			for _, pg := range pages {
				if pg != leader {
					rest = append(rest, pg)
				}
			}
			before := make([]int, len(rest))
			for i, pg := range rest {
				before[i] = pg.requestCount()
			}

			ctx, cancel := context.WithTimeout(leader.ctx, waitTimeout)
			var err error
			if how == "frozen" {
				_, err = chromedp.Call(ctx, cdppage.SetWebLifecycleState, cdppage.SetWebLifecycleStateParams{State: cdppage.SetWebLifecycleStateStateFrozen})
			} else {
				// The renderer dies; the call itself may fail as it goes.
				_, _ = chromedp.Call(ctx, cdppage.Crash, cdp.Empty{})
			}
			cancel()
			if err != nil {
				t.Fatalf("freeze the leader: %v", err)
			}

			// Writes in the gap, while nobody relays.
			start := time.Now()
			a.write(http.MethodPost, "/api/topics/app-settings/actions/toggle-theme", `{}`, nil) // system -> light
			snap := a.write(http.MethodPatch, "/api/topics/app-settings", `{"fontSize": 19}`, nil, mergePatch...)
			for _, pg := range rest {
				pollLong(t, pg.name+" at revision "+snap.Revision, func() (bool, string) {
					got := pg.revision("app-settings")
					return got == snap.Revision, got
				})
				pg.waitJS("font size 19px", rootFontSize(19), "document.documentElement.style.fontSize")
				pg.waitJS("theme light", rootTheme("light"), "document.documentElement.dataset.theme")
			}
			t.Logf("%s leader: the other tabs converged %v after the write", how, time.Since(start).Round(time.Millisecond))
			newLeader := leaderOf(t, rest)
			// The new leader resumed from the cursor it had been relayed.
			resumed := newLeader.requestsSince(before[indexOf(rest, newLeader)], func(r request) bool {
				return r.url.Path == "/api/events" && r.url.Query().Get("lastEventId") != ""
			})
			if len(resumed) == 0 {
				t.Errorf("%s opened no /api/events?lastEventId=... after taking over", newLeader.name)
			}

			if how == "frozen" {
				// Thawed, the old leader finds its lock taken and follows; a
				// later change reaches all three tabs.
				ctx, cancel := context.WithTimeout(leader.ctx, waitTimeout)
				_, err := chromedp.Call(ctx, cdppage.SetWebLifecycleState, cdppage.SetWebLifecycleStateParams{State: cdppage.SetWebLifecycleStateStateActive})
				cancel()
				if err != nil {
					t.Fatalf("thaw: %v", err)
				}
				pollLong(t, "one leader among all three", func() (bool, string) {
					var ls []string
					for _, pg := range pages {
						if pg.attr("stream-role", "data-role") == "leader" {
							ls = append(ls, pg.name)
						}
					}
					return len(ls) == 1 && ls[0] == newLeader.name, fmt.Sprintf("leaders: %v", ls)
				})
				snap := a.write(http.MethodPatch, "/api/topics/app-settings", `{"fontSize": 23}`, nil, mergePatch...)
				for _, pg := range pages {
					pg.waitRevision("app-settings", snap.Revision)
				}
			}
		})
	}
}

func indexOf(pages []*page, pg *page) int {
	for i, p := range pages {
		if p == pg {
			return i
		}
	}
	return -1
}

// TestTenTabsWithoutWebLocks: with navigator.locks removed from every page
// (as in browsers or frames without it), ten tabs still elect one leader over
// the BroadcastChannel, so they hold one connection on HTTP/1.1 (six per
// origin would otherwise stall the seventh tab) and all stay live.
func TestTenTabsWithoutWebLocks(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("nolocks")
	p.initScript = `Object.defineProperty(Navigator.prototype, "locks", {get() { return undefined }, configurable: true})`
	var pages []*page
	for i := range 10 {
		pages = append(pages, p.open(fmt.Sprintf("%d", i+1)))
	}
	for _, pg := range pages {
		if !eval[bool](pg, `navigator.locks === undefined`) {
			t.Fatalf("%s still has navigator.locks", pg.name)
		}
		if proto := eval[string](pg, `performance.getEntriesByType("navigation")[0].nextHopProtocol`); proto != "http/1.1" {
			t.Errorf("%s loaded over %q, want http/1.1", pg.name, proto)
		}
	}
	leaderOf(t, pages)
	if n := a.streams(); n > 2 {
		t.Errorf("server streams = %d with ten tabs, want 1 (2 during a hand-over)", n)
	}
	snap := a.write(http.MethodPatch, "/api/topics/app-settings", `{"fontSize": 17}`, nil, mergePatch...)
	for _, pg := range pages {
		pg.waitRevision("app-settings", snap.Revision)
		pg.waitJS("live", el("connection-indicator")+`.dataset.state === "live"`, el("connection-indicator")+".dataset.state")
	}
}

// TestCrossOriginServerIsOnePrincipal: the app is served from one origin
// and the API from another (CORS with credentials). The page's reads, its
// writes and its event stream all carry the API origin's cookie, so they
// act as one principal: a write by that principal from outside reaches the
// page through the stream and a read, and the page's write is that
// principal's.
func TestCrossOriginServerIsOnePrincipal(t *testing.T) {
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frontOrigin := "http://" + front.Addr().String()
	a := startAppWith(t, func(c *server.Config) { c.AllowedOrigins = []string{frontOrigin} })

	// The front server: the built app, told where the API is.
	index, err := fs.ReadFile(web.Dist(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf(`<meta name="pinion-api" content="%s">`, a.base)
	index = bytes.Replace(index, []byte("<head>"), []byte("<head>"+meta), 1)
	assets := http.FileServerFS(web.Dist())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/assets/") || r.URL.Path == "/favicon.svg" {
			assets.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(index)
	})}
	go func() { _ = srv.Serve(front) }()
	t.Cleanup(func() { _ = srv.Close() })

	b := newBrowser(t, a)
	p := b.principal("alice")
	p.url = frontOrigin + "/"
	pg := p.open("1") // synced and live: reads and the stream work across origins
	if got := eval[string](pg, `location.origin`); got != frontOrigin {
		t.Fatalf("page origin %s, want %s", got, frontOrigin)
	}
	cookie := pg.cookie() // the API origin's cookie
	if n := a.streams(); n != 1 {
		t.Errorf("server streams = %d, want 1", n)
	}

	// A write as the cookie's principal reaches the page (stream + read of
	// the per-principal document).
	a.write(http.MethodPatch, "/api/topics/user-preferences", `{"displayName": "Ada"}`, cookie, mergePatch...)
	pg.waitJS("greeting", el("greeting")+`?.textContent.trim() === "Hello, Ada!"`, el("greeting")+`?.textContent`)

	// The page's own write is that principal's too.
	pg.fill("preferences-displayName", "Grace")
	pg.click("preferences-save")
	pg.waitJS("greeting", el("greeting")+`?.textContent.trim() === "Hello, Grace!"`, el("greeting")+`?.textContent`)
	var prefs struct{ DisplayName string }
	if err := json.Unmarshal(a.get("user-preferences", cookie).Data, &prefs); err != nil || prefs.DisplayName != "Grace" {
		t.Errorf("the cookie's user-preferences: %+v (%v), want displayName Grace", prefs, err)
	}
	// And no other principal was made along the way: an anonymous read
	// still has the default.
	if err := json.Unmarshal(a.get("user-preferences", nil).Data, &prefs); err != nil || prefs.DisplayName != "" {
		t.Errorf("anonymous user-preferences: %+v (%v), want the default", prefs, err)
	}
}

// TestTemplateShowsRevisionChanging: the revision a card shows is bound to
// its store's reactive $sync, and follows each change.
func TestTemplateShowsRevisionChanging(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	pg := b.principal("alice").open("1")
	_, rev := a.settings()
	pg.waitRevision("app-settings", rev)
	if got := pg.text("revision-app-settings"); got != rev {
		t.Errorf("shown revision %q, want %q", got, rev)
	}
	for _, size := range []int{15, 16, 18} {
		snap := a.write(http.MethodPatch, "/api/topics/app-settings", fmt.Sprintf(`{"fontSize": %d}`, size), nil, mergePatch...)
		pg.waitJS("revision text "+snap.Revision,
			fmt.Sprintf(`%s?.textContent.trim() === %s`, el("revision-app-settings"), jsString(snap.Revision)),
			el("revision-app-settings")+`?.textContent`)
		if st := pg.attr("revision-app-settings", "data-status"); st != "synced" {
			t.Errorf("status %q after the change, want synced", st)
		}
	}
}

// mergePatch is the Content-Type header of a PATCH.
var mergePatch = []string{"Content-Type", "application/merge-patch+json"}
