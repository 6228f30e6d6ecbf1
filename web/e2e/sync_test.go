package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// rootFontSize is a JavaScript condition: the page's <html> got a font size
// from the synced settings.
func rootFontSize(px int) string {
	return fmt.Sprintf(`document.documentElement.style.fontSize === "%dpx"`, px)
}

// rootTheme is a JavaScript condition on the <html>'s data-theme.
func rootTheme(theme string) string {
	return fmt.Sprintf(`document.documentElement.dataset.theme === %s`, jsString(theme))
}

// barrier changes the principal's user-preferences from outside the
// browser (a Go client with the pages' cookie) and waits until every page
// applied it. The server sends each principal's invalidations in commit
// order on one stream and the leader relays them in order, so once a page
// shows the barrier, it has handled every invalidation committed before it.
func barrier(t *testing.T, a *app, pages ...*page) string {
	t.Helper()
	snap := a.write(http.MethodPatch, "/api/topics/user-preferences",
		fmt.Sprintf(`{"favorites": ["barrier %d"]}`, time.Now().UnixNano()), pages[0].cookie(),
		"Content-Type", "application/merge-patch+json", "X-Source-Id", "e2e-barrier")
	for _, pg := range pages {
		pg.waitRevision("user-preferences", snap.Revision)
	}
	return snap.Revision
}

// TestChangeInOnePageAppearsInAnother: a setting saved through the form of
// one page shows in another page of the same browser. The latency, from the
// click on Save in page A to the DOM change in page B, is measured in the
// browser (both pages share its clock) and logged; the wait is bounded
// generously, because the tests must not fail on a slow machine.
func TestChangeInOnePageAppearsInAnother(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("alice")
	pa := p.open("A")
	pb := p.open("B")

	for _, pg := range []*page{pa, pb} {
		if label := pg.text("connection-label"); label != "Live" {
			t.Errorf("%s: connection label %q, want Live", pg.name, label)
		}
	}

	var toOther, toWriter []float64
	for _, size := range []int{20, 16, 24, 18, 22, 17} {
		pb.watch(rootFontSize(size))
		pa.watch(rootFontSize(size))
		pa.fill("settings-fontSize", strconv.Itoa(size))
		clicked := pa.clickTimed("settings-save")
		seen := pb.seenAt(fmt.Sprintf("font size %dpx", size))
		own := pa.seenAt(fmt.Sprintf("own font size %dpx", size))
		// A applied its write's response; the form then reports it.
		rev := pa.revision("app-settings")
		pa.waitJS("saved", el("settings-status")+`?.textContent.trim() === `+jsString("Saved as revision "+rev+"."), el("settings-status")+`?.textContent`)
		// The form of B follows the document (it holds no edit), and both
		// pages applied the revision the server now holds.
		pb.waitJS("B's font size field", el("settings-fontSize")+`.value === `+jsString(strconv.Itoa(size)), el("settings-fontSize")+".value")
		pb.waitRevision("app-settings", rev)
		if got := pa.revision("app-settings"); got != rev {
			t.Errorf("A applied %s, saved %s", got, rev)
		}
		doc, srvRev := a.settings()
		if srvRev != rev || doc.FontSize != size {
			t.Errorf("server has %+v at %s; want fontSize %d at %s", doc, srvRev, size, rev)
		}
		toOther = append(toOther, seen-clicked)
		toWriter = append(toWriter, own-clicked)
		t.Logf("fontSize %d: click in A -> B's DOM %.1fms (A's own DOM, from the PUT's response: %.1fms)", size, seen-clicked, own-clicked)
	}
	t.Logf("latency, click on Save in page A -> page B's DOM shows it: %s", stats(toOther))
	t.Logf("latency, click on Save in page A -> page A's DOM shows it: %s", stats(toWriter))
	if writer := pa.attr("writer-app-settings", "data-own"); writer != "true" {
		t.Errorf("A's last writer: data-own = %q, want true", writer)
	}
	if own, src := pb.attr("writer-app-settings", "data-own"), pb.attr("writer-app-settings", "data-source-id"); own != "false" || src != pa.text("source-id") {
		t.Errorf("B's last writer: data-own = %q, source %q; want false, A's %q", own, src, pa.text("source-id"))
	}
}

// TestInvalidValueShowsFieldErrorAndChangesNothing: font size 99 through the
// form shows the server's message under the field in that page only; the
// other page, the server and the stream see no change.
func TestInvalidValueShowsFieldErrorAndChangesNothing(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("alice")
	pa := p.open("A")
	pb := p.open("B")
	before, rev := a.settings()

	// The message the server gives for this value.
	bad := before
	bad.FontSize = 99
	body, _ := json.Marshal(bad)
	r := a.do(http.MethodPut, "/api/topics/app-settings", string(body), nil)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("PUT fontSize 99: %d %s", r.status, r.body)
	}
	var problem struct {
		Errors []struct{ Pointer, Message string }
	}
	if err := json.Unmarshal(r.body, &problem); err != nil || len(problem.Errors) != 1 || problem.Errors[0].Pointer != "/fontSize" {
		t.Fatalf("422 body: %s (%v)", r.body, err)
	}
	want := problem.Errors[0].Message

	gets, getsB := pa.requestCount(), pb.requestCount()
	pa.fill("settings-fontSize", "99")
	pa.click("settings-save")
	pa.waitJS("the field's error", el("settings-error-fontSize")+`?.textContent.trim() === `+jsString(want), el("settings-error-fontSize")+`?.textContent`)

	// Under the field: in the field's label, below the input, and the input
	// is marked invalid.
	if !eval[bool](pa, `(() => {
		const input = `+el("settings-fontSize")+`, msg = `+el("settings-error-fontSize")+`
		return input.closest("label").contains(msg) && msg.getBoundingClientRect().top >= input.getBoundingClientRect().bottom
	})()`) {
		t.Error("the message is not under the font size field")
	}
	if got := pa.attr("settings-fontSize", "aria-invalid"); got != "true" {
		t.Errorf("aria-invalid = %q, want true", got)
	}
	for _, field := range []string{"theme", "language", "notifications", "compactMode", "reducedMotion"} {
		if msg := pa.text("settings-error-" + field); msg != "" {
			t.Errorf("unexpected error under %s: %q", field, msg)
		}
	}
	if msg := pa.text("settings-form-error"); msg != "" {
		t.Errorf("unexpected form error: %q", msg)
	}
	if puts := pa.requestsSince(gets, func(r request) bool { return r.method == http.MethodPut }); len(puts) != 1 {
		t.Errorf("A sent %d PUTs, want 1", len(puts))
	}

	// Nothing changed anywhere. The barrier makes sure any invalidation the
	// failed write might have raised would have reached both pages.
	barrier(t, a, pa, pb)
	after, revAfter := a.settings()
	if revAfter != rev || after != before {
		t.Errorf("server: %+v at %s, want %+v at %s", after, revAfter, before, rev)
	}
	for _, pg := range []*page{pa, pb} {
		if got := pg.revision("app-settings"); got != rev {
			t.Errorf("%s applied app-settings %s, want %s", pg.name, got, rev)
		}
		if !eval[bool](pg, rootFontSize(before.FontSize)) {
			t.Errorf("%s: root font size %q, want %dpx", pg.name, eval[string](pg, "document.documentElement.style.fontSize"), before.FontSize)
		}
	}
	for _, c := range []struct {
		pg   *page
		mark int
	}{{pa, gets}, {pb, getsB}} {
		if n := len(c.pg.requestsSince(c.mark, snapshotGets("app-settings"))); n != 0 {
			t.Errorf("%s fetched app-settings %d times: it heard of a change", c.pg.name, n)
		}
	}
	if got := pb.value("settings-fontSize"); got != strconv.Itoa(before.FontSize) {
		t.Errorf("B's font size field = %q, want %d", got, before.FontSize)
	}
	if msg := pb.text("settings-error-fontSize"); msg != "" {
		t.Errorf("B shows an error: %q", msg)
	}
	// A keeps what was typed, to correct it.
	if got := pa.value("settings-fontSize"); got != "99" {
		t.Errorf("A's font size field = %q, want the 99 typed", got)
	}
}

// TestTwoPrincipals: two browser contexts (two cookies, so two principals)
// do not see each other's user-preferences, while a change of the shared
// app-settings reaches both.
func TestTwoPrincipals(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	alice := b.principal("alice").open("1")
	bob := b.principal("bob").open("1")
	if ca, cb := alice.cookie().Value, bob.cookie().Value; ca == cb {
		t.Fatalf("both contexts have the cookie %s", ca)
	}
	if n := a.streams(); n != 2 {
		t.Errorf("server streams = %d, want 2 (one per browser context)", n)
	}

	// refreshed reloads a page's state from the server and checks the
	// display name it shows ("" for the default: no greeting).
	refreshed := func(pg *page, want string) {
		t.Helper()
		got := eval[string](pg, `fetch("/api/topics/user-preferences").then((r) => r.json()).then((s) => s.data.displayName)`)
		if got != want {
			t.Errorf("%s fetched displayName %q, want %q", pg.name, got, want)
		}
		pg.do("reload", chromedp.Reload())
		pg.waitReady()
		if got := pg.value("preferences-displayName"); got != want {
			t.Errorf("%s after reload: displayName field %q, want %q", pg.name, got, want)
		}
		greeting := ""
		if want != "" {
			greeting = "Hello, " + want + "!"
		}
		if got := pg.text("greeting"); got != greeting {
			t.Errorf("%s after reload: greeting %q, want %q", pg.name, got, greeting)
		}
	}

	alice.fill("preferences-displayName", "Ada")
	alice.click("preferences-save")
	alice.waitJS("greeting", el("greeting")+`?.textContent.trim() === "Hello, Ada!"`, el("greeting")+`?.textContent`)
	// Bob still has the default.
	refreshed(bob, "")

	bob.fill("preferences-displayName", "Grace")
	bob.click("preferences-save")
	bob.waitJS("greeting", el("greeting")+`?.textContent.trim() === "Hello, Grace!"`, el("greeting")+`?.textContent`)
	// Each has its own.
	refreshed(alice, "Ada")
	refreshed(bob, "Grace")
	for _, c := range []struct {
		pg   *page
		want string
	}{{alice, "Ada"}, {bob, "Grace"}} {
		var prefs struct{ DisplayName string }
		if err := json.Unmarshal(a.get("user-preferences", c.pg.cookie()).Data, &prefs); err != nil || prefs.DisplayName != c.want {
			t.Errorf("%s's user-preferences on the server: %+v (%v), want displayName %q", c.pg.name, prefs, err, c.want)
		}
	}

	// The shared topic reaches both: toggle the theme (system -> light)
	// in Bob's page.
	doc, _ := a.settings()
	if doc.Theme != "system" {
		t.Fatalf("theme %q, want the default system", doc.Theme)
	}
	alice.watch(rootTheme("light"))
	bob.click("settings-toggle-theme")
	alice.seenAt("theme light")
	bob.waitJS("theme light", rootTheme("light"), "document.documentElement.dataset.theme")
	if _, rev := a.settings(); alice.revision("app-settings") != rev || bob.revision("app-settings") != rev {
		t.Errorf("app-settings revisions: alice %s, bob %s, server %s", alice.revision("app-settings"), bob.revision("app-settings"), rev)
	}
	// And the preferences stayed apart.
	if got := alice.text("greeting"); got != "Hello, Ada!" {
		t.Errorf("alice's greeting %q", got)
	}
	if got := bob.text("greeting"); got != "Hello, Grace!" {
		t.Errorf("bob's greeting %q", got)
	}
}

// TestPagesConvergeAfterServerRestart: the server stops and starts again on
// the same address and data directory; a change made through the API after
// the restart reaches every open page without a reload, because the
// EventSource reconnects and resumes from its last event id.
func TestPagesConvergeAfterServerRestart(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("alice")
	pages := []*page{p.open("A"), p.open("B"), p.open("C")}
	addr := a.addr
	marks := make([]int, len(pages))
	for i, pg := range pages {
		// A reload would lose this.
		eval[string](pg, `window.__e2eNoReload = "still here"`)
		marks[i] = pg.requestCount()
	}

	a.stop()
	for _, pg := range pages {
		pg.waitJS("indicator not live", el("connection-indicator")+`.dataset.state !== "live"`, "")
	}
	a.start()
	if a.addr != addr {
		t.Fatalf("restarted on %s, want %s", a.addr, addr)
	}
	before, _ := a.settings()
	next := before
	next.Theme, next.FontSize, next.CompactMode = "dark", 26, true
	body, _ := json.Marshal(next)
	snap := a.write(http.MethodPut, "/api/topics/app-settings", string(body), nil, "X-Source-Id", "e2e-go-client")

	for _, pg := range pages {
		pg.waitRevision("app-settings", snap.Revision)
		pg.waitJS("dark, 26px, compact", rootTheme("dark")+" && "+rootFontSize(26)+` && document.documentElement.dataset.compact === "true"`,
			`document.documentElement.outerHTML.slice(0, 120)`)
		pg.waitJS("indicator live", el("connection-indicator")+`.dataset.state === "live"`, el("connection-indicator")+".dataset.state")
		if got := eval[string](pg, `window.__e2eNoReload ?? "reloaded"`); got != "still here" {
			t.Errorf("%s was reloaded", pg.name)
		}
		if got := pg.attr("writer-app-settings", "data-source-id"); got != "e2e-go-client" {
			t.Errorf("%s: last writer %q, want e2e-go-client", pg.name, got)
		}
	}

	// The leader's reconnection carried the cursor it had seen: the
	// browser's own Last-Event-ID, or ?lastEventId= when the client
	// recreated the EventSource.
	var resumed []string
	for i, pg := range pages {
		for _, r := range pg.requestsSince(marks[i], func(r request) bool { return r.url.Path == "/api/events" }) {
			id := pg.header(r, "Last-Event-ID")
			if id == "" {
				id = r.url.Query().Get("lastEventId")
			}
			t.Logf("%s: stream request after the stop: %s, cursor %q", pg.name, r.url.RequestURI(), id)
			if id != "" {
				resumed = append(resumed, id)
			}
		}
	}
	if len(resumed) == 0 {
		t.Error("no page reconnected with a cursor")
	}
	if n := a.streams(); n != 1 {
		t.Errorf("server streams = %d, want 1", n)
	}
}

// TestOwnEchoDoesNotRefetch: the page that writes applies the snapshot in
// the write's response; the invalidation that echoes its write (same
// X-Source-Id) causes no GET of the snapshot there, while another page
// fetches it once. Requests are counted with the CDP network events of each
// tab. Both the leader and a follower write in turn.
func TestOwnEchoDoesNotRefetch(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("alice")
	leader := p.open("leader")
	follower := p.open("follower")
	if role := leader.attr("stream-role", "data-role"); role != "leader" {
		t.Fatalf("first page's role %q", role)
	}
	if role := follower.attr("stream-role", "data-role"); role != "follower" {
		t.Fatalf("second page's role %q", role)
	}

	for i, c := range []struct{ writer, other *page }{{leader, follower}, {follower, leader}} {
		size := 20 + i
		mw, mo := c.writer.requestCount(), c.other.requestCount()
		c.writer.fill("settings-fontSize", strconv.Itoa(size))
		c.writer.click("settings-save")
		c.writer.waitJS("saved", el("settings-status")+` != null`, el("settings-form-error")+`?.textContent`)
		doc, rev := a.settings()
		if doc.FontSize != size {
			t.Fatalf("server fontSize %d, want %d", doc.FontSize, size)
		}
		c.other.waitRevision("app-settings", rev)
		c.writer.waitRevision("app-settings", rev)
		barrier(t, a, c.writer, c.other)

		writes := c.writer.requestsSince(mw, func(r request) bool {
			return r.method == http.MethodPut && r.url.Path == "/api/topics/app-settings"
		})
		if len(writes) != 1 {
			t.Fatalf("%s sent %d PUTs, want 1", c.writer.name, len(writes))
		}
		if src := c.writer.header(writes[0], "X-Source-Id"); src != c.writer.text("source-id") {
			t.Errorf("%s's PUT carried X-Source-Id %q, want its own %q", c.writer.name, src, c.writer.text("source-id"))
		}
		own := c.writer.requestsSince(mw, snapshotGets("app-settings"))
		other := c.other.requestsSince(mo, snapshotGets("app-settings"))
		t.Logf("write from the %s: snapshot GETs by the writer %d, by the other page %d", c.writer.name, len(own), len(other))
		if len(own) != 0 {
			t.Errorf("the writer (%s) fetched app-settings %d times after its own write, want 0", c.writer.name, len(own))
		}
		if len(other) != 1 {
			t.Errorf("the other page (%s) fetched app-settings %d times, want 1", c.other.name, len(other))
		}
	}
}

// TestTenPagesShareOneStream: ten pages of one browser context over
// HTTP/1.1 (six connections per origin) all stay live and all receive a
// change, because they share one EventSource: one leader, elected with Web
// Locks, relays to the others. When the leader closes, another page takes
// over and the rest still receive changes.
func TestTenPagesShareOneStream(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("alice")
	var pages []*page
	for i := range 10 {
		pages = append(pages, p.open(fmt.Sprintf("%d", i+1)))
	}
	leaders := func(pages []*page) []*page {
		var out []*page
		for _, pg := range pages {
			if pg.attr("stream-role", "data-role") == "leader" {
				out = append(out, pg)
			}
		}
		return out
	}
	if l := leaders(pages); len(l) != 1 || l[0] != pages[0] {
		t.Errorf("leaders: %d, want the first page alone", len(l))
	}
	for _, pg := range pages {
		if proto := eval[string](pg, `performance.getEntriesByType("navigation")[0].nextHopProtocol`); proto != "http/1.1" {
			t.Errorf("%s loaded over %q, want http/1.1", pg.name, proto)
		}
	}
	streams := a.streams()
	t.Logf("server streams with 10 pages open: %d", streams)
	if streams > 2 {
		t.Errorf("server streams = %d, want at most 2", streams)
	}

	// A change through the last page's form reaches all ten.
	for _, pg := range pages[:9] {
		pg.watch(rootFontSize(21))
	}
	last := pages[9]
	last.fill("settings-fontSize", "21")
	clicked := last.clickTimed("settings-save")
	var lat []float64
	for _, pg := range pages[:9] {
		lat = append(lat, pg.seenAt("font size 21px")-clicked)
	}
	_, rev := a.settings()
	for _, pg := range pages {
		pg.waitRevision("app-settings", rev)
	}
	t.Logf("latency, click in page 10 -> the other nine pages' DOM: %s", stats(lat))

	// Close the leader: one of the others takes over, and a change made
	// through the API reaches the nine left.
	pages[0].close()
	rest := pages[1:]
	poll(t, "a new leader", func() (bool, string) {
		n := len(leaders(rest))
		return n == 1, fmt.Sprintf("%d leaders", n)
	})
	for _, pg := range rest {
		pg.waitJS("live", el("connection-indicator")+`.dataset.state === "live"`, el("connection-indicator")+".dataset.state")
	}
	poll(t, "the old leader's stream to end", func() (bool, string) {
		n := a.streams()
		return n == 1, fmt.Sprintf("%d streams", n)
	})
	for _, pg := range rest {
		pg.watch(rootTheme("dark"))
	}
	snap := a.write(http.MethodPost, "/api/topics/app-settings/actions/toggle-theme", `{}`, nil) // system -> light
	snap = a.write(http.MethodPost, "/api/topics/app-settings/actions/toggle-theme", `{}`, nil)  // light -> dark
	for _, pg := range rest {
		pg.seenAt("theme dark")
		pg.waitRevision("app-settings", snap.Revision)
	}
	if n := a.streams(); n > 2 {
		t.Errorf("server streams = %d after the hand-over, want at most 2", n)
	}
}
