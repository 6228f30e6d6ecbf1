package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/sqlite"
	"github.com/pinionkit/pinion/topic"
	"github.com/pinionkit/pinion/web"
)

// waitTimeout bounds every wait. It only guards against hangs: the tests
// must never fail because the machine is slow, so it is generous.
const waitTimeout = 30 * time.Second

// chromium returns the browser to drive. A missing browser skips the test,
// except under CI=true, where it fails it.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PINION_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	st, err := os.Stat(path)
	if err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return path
	}
	msg := fmt.Sprintf("no Chromium at %s (install Debian's chromium, or set PINION_CHROMIUM): %v", path, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true requires the browser tests to run")
	}
	t.Skip(msg)
	return ""
}

// ---------------------------------------------------------------------------
// The server

// app is one Pinion server as cmd/pinion runs it: the demo topics on the
// SQLite store, the embedded demo app at /. It can be stopped and started
// again on the same address and data directory.
type app struct {
	t      *testing.T
	dir    string
	addr   string
	base   string
	logs   *lockedBuffer
	client *http.Client // the Go client's; its idle connections go with each stop

	configure func(*server.Config)
	key       []byte // the session cookies' signing key

	srv    *server.Server
	st     *sqlite.Store
	cancel context.CancelFunc
	done   chan error
}

func startApp(t *testing.T) *app {
	t.Helper()
	return startAppWith(t, nil)
}

// startAppWith starts the app with configure applied to its server.Config.
func startAppWith(t *testing.T, configure func(*server.Config)) *app {
	t.Helper()
	chromium(t) // skip (or fail under CI) before starting anything
	a := &app{
		configure: configure,
		key:       auth.NewKey(),
		t:         t,
		dir:       t.TempDir(),
		addr:      "127.0.0.1:0",
		logs:      &lockedBuffer{},
		client:    &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	a.start()
	t.Cleanup(func() {
		a.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", a.logs.String())
		}
	})
	return a
}

// start opens the store and serves on a.addr (the same address after the
// first start).
func (a *app) start() {
	t := a.t
	t.Helper()
	if a.srv != nil {
		t.Fatal("server already running")
	}
	st, err := sqlite.Open(context.Background(), a.dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	topics, err := topic.NewSet(demo.Topics())
	if err != nil {
		st.Close()
		t.Fatalf("topics: %v", err)
	}
	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := server.Config{Addr: a.addr, Assets: web.Dist()}
	if a.configure != nil {
		a.configure(&cfg)
	}
	// One signing key for the app's life: a restarted server still knows
	// the cookies it issued.
	srv, err := server.New(cfg, st, topics, auth.Cookie{Key: a.key}, log)
	if err != nil {
		st.Close()
		t.Fatalf("server: %v", err)
	}
	// The port was free a moment ago; allow for a slow release.
	deadline := time.Now().Add(waitTimeout)
	for {
		err = srv.Open()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			st.Close()
			t.Fatalf("listen: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	a.srv, a.st, a.cancel, a.done = srv, st, cancel, done
	a.addr = srv.Addr()
	a.base = "http://" + a.addr
	poll(t, "the server's /healthz", func() (bool, string) {
		resp, err := a.client.Get(a.base + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// stop shuts the server down gracefully (its streams end) and closes the
// store. It does nothing when the server is not running.
func (a *app) stop() {
	t := a.t
	t.Helper()
	if a.srv == nil {
		return
	}
	a.cancel()
	select {
	case err := <-a.done:
		if err != nil {
			t.Errorf("server run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("server did not stop within 30s")
	}
	if err := a.st.Close(); err != nil {
		t.Errorf("close store: %v", err)
	}
	a.client.CloseIdleConnections()
	a.srv, a.st, a.cancel, a.done = nil, nil, nil, nil
}

// streams is the number of event streams the server has open.
func (a *app) streams() int { return a.srv.Stats().Streams }

// reply is an answer of the API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// snapshot is the body of GET /api/topics/{topic}.
type snapshot struct {
	Revision string          `json:"revision"`
	Data     json.RawMessage `json:"data"`
}

// do sends one API request as a Go client; cookie, when not nil, makes it
// the browser principal that cookie names. headers alternate name, value.
func (a *app) do(method, path, body string, cookie *http.Cookie, headers ...string) reply {
	t := a.t
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// get reads a topic's snapshot (as cookie's principal, for a per-principal
// topic).
func (a *app) get(topicName string, cookie *http.Cookie) snapshot {
	t := a.t
	t.Helper()
	r := a.do(http.MethodGet, "/api/topics/"+topicName, "", cookie)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", topicName, r.status, r.body)
	}
	var s snapshot
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("GET %s: %v in %s", topicName, err, r.body)
	}
	return s
}

// write sends a write that must succeed and returns the new snapshot.
func (a *app) write(method, path, body string, cookie *http.Cookie, headers ...string) snapshot {
	t := a.t
	t.Helper()
	r := a.do(method, path, body, cookie, headers...)
	if r.status != http.StatusOK {
		t.Fatalf("%s %s %s: %d %s", method, path, body, r.status, r.body)
	}
	var s snapshot
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, r.body)
	}
	return s
}

// settings is the app-settings document.
type settings struct {
	Theme         string `json:"theme"`
	Language      string `json:"language"`
	FontSize      int    `json:"fontSize"`
	Notifications bool   `json:"notifications"`
	CompactMode   bool   `json:"compactMode"`
	ReducedMotion bool   `json:"reducedMotion"`
}

func (a *app) settings() (settings, string) {
	a.t.Helper()
	s := a.get("app-settings", nil)
	var doc settings
	if err := json.Unmarshal(s.Data, &doc); err != nil {
		a.t.Fatalf("app-settings: %v", err)
	}
	return doc, s.Revision
}

// ---------------------------------------------------------------------------
// The browser

// browser is one Chromium process with a fresh profile.
type browser struct {
	t   *testing.T
	app *app
	ctx context.Context // the first tab's; the browser lives as long as it
}

func newBrowser(t *testing.T, a *app) *browser {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	attach(t, ctx, cancel, "start "+path)
	return &browser{t: t, app: a, ctx: ctx}
}

// attach runs the first action on a new chromedp context, which starts the
// browser or opens the tab. That first Run binds the browser or tab to the
// context it is given, so it must get ctx itself and not a context with a
// timeout; a watchdog bounds it instead.
func attach(t *testing.T, ctx context.Context, cancel context.CancelFunc, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("%s: no answer within 60s", what)
	}
}

// principal is one browser context: its own cookies, storage, Web Locks
// and BroadcastChannels, so its own Pinion principal and shared stream.
type principal struct {
	b    *browser
	name string
	ctx  context.Context
	// initScript, when set, runs in every page of the principal before the
	// page's own scripts (to remove a browser API, say).
	initScript string
	// url is the address pages open; default the app's /.
	url string
}

func (b *browser) principal(name string) *principal {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Create the browser context (with a blank tab that stays open, so that
	// closing any page leaves the context alive).
	attach(t, ctx, cancel, "create browser context "+name)
	return &principal{b: b, name: name, ctx: ctx}
}

// page is one tab with the demo app.
type page struct {
	t     *testing.T
	app   *app
	name  string
	ctx   context.Context
	close context.CancelFunc

	mu       sync.Mutex
	requests []request
	wire     map[network.RequestID]network.Headers // headers as sent, from requestWillBeSentExtraInfo
	console  []string
	paused   chan *fetch.EventRequestPaused // requests held by intercept, when on
}

// request is a request the page sent, seen through CDP network events.
type request struct {
	id      network.RequestID
	method  string
	url     *url.URL
	headers network.Headers // as the page set them
}

// header returns a request header, also one the network stack added (such
// as Cookie, or an EventSource's Last-Event-ID).
func (pg *page) header(r request, name string) string {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	for _, h := range []network.Headers{r.headers, pg.wire[r.id]} {
		for k, v := range h {
			if s, ok := v.(string); ok && strings.EqualFold(k, name) {
				return s
			}
		}
	}
	return ""
}

// open opens a new tab of the principal on the app and waits until it is
// synced and live.
func (p *principal) open(name string) *page {
	pg := p.openNoWait(name)
	pg.waitReady()
	return pg
}

func (p *principal) openNoWait(name string) *page {
	t := p.b.t
	t.Helper()
	pg := &page{t: t, app: p.b.app, name: p.name + "/" + name}
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithListener(pg.listen))
	pg.ctx, pg.close = ctx, cancel
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			pg.mu.Lock()
			defer pg.mu.Unlock()
			if len(pg.console) > 0 {
				t.Logf("%s console:\n  %s", pg.name, strings.Join(pg.console, "\n  "))
			}
		}
	})
	attach(t, ctx, cancel, "open tab "+pg.name)
	if p.initScript != "" {
		cctx, ccancel := context.WithTimeout(ctx, waitTimeout)
		_, err := chromedp.Call(cctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: p.initScript})
		ccancel()
		if err != nil {
			t.Fatalf("%s: add init script: %v", pg.name, err)
		}
	}
	target := p.url
	if target == "" {
		target = pg.app.base + "/"
	}
	pg.do("navigate", chromedp.Navigate(target))
	return pg
}

// listen records the page's requests and console messages. It runs in the
// tab's event loop: it must be quick and send no command.
func (pg *page) listen(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(ev.Request.URL)
		if err != nil {
			return
		}
		pg.mu.Lock()
		pg.requests = append(pg.requests, request{id: ev.RequestID, method: ev.Request.Method, url: u, headers: ev.Request.Headers})
		pg.mu.Unlock()
	case *network.EventRequestWillBeSentExtraInfo:
		pg.mu.Lock()
		if pg.wire == nil {
			pg.wire = make(map[network.RequestID]network.Headers)
		}
		pg.wire[ev.RequestID] = ev.Headers
		pg.mu.Unlock()
	case *fetch.EventRequestPaused:
		pg.mu.Lock()
		ch := pg.paused
		pg.mu.Unlock()
		if ch != nil {
			select {
			case ch <- ev:
			default: // more than the test expects: it will report the one it misses
			}
		}
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		pg.mu.Lock()
		pg.console = append(pg.console, fmt.Sprintf("console.%s %s", ev.Type, strings.Join(args, " ")))
		pg.mu.Unlock()
	case *cdplog.EventEntryAdded:
		// The browser's own messages: CORS refusals, failed loads.
		pg.mu.Lock()
		pg.console = append(pg.console, fmt.Sprintf("browser.%s %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
		pg.mu.Unlock()
	case *runtime.EventExceptionThrown:
		text := ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			text += " " + ev.ExceptionDetails.Exception.Description
		}
		pg.mu.Lock()
		pg.console = append(pg.console, "exception "+text)
		pg.mu.Unlock()
	}
}

// requestCount is how many requests the page has sent so far; with
// requestsSince it delimits a window of requests.
func (pg *page) requestCount() int {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return len(pg.requests)
}

// requestsSince returns the requests sent after the first n that match.
func (pg *page) requestsSince(n int, match func(request) bool) []request {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	var out []request
	for _, r := range pg.requests[n:] {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// snapshotGets matches the page's GETs of a topic's snapshot.
func snapshotGets(topicName string) func(request) bool {
	return func(r request) bool {
		return r.method == http.MethodGet && r.url.Path == "/api/topics/"+topicName
	}
}

// run runs actions on ctx with the wait bound.
func run(t *testing.T, ctx context.Context, what string, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Run(tctx, a); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func (pg *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	pg.t.Helper()
	run(pg.t, pg.ctx, pg.name+": "+what, chromedp.Steps(actions...))
}

// eval evaluates a JavaScript expression in the page (awaiting a promise).
func eval[T any](pg *page, expr string) T {
	pg.t.Helper()
	v, err := tryEval[T](pg, expr)
	if err != nil {
		pg.t.Fatalf("%s: evaluate %s: %v", pg.name, expr, err)
	}
	return v
}

func tryEval[T any](pg *page, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(pg.ctx, waitTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) {
		p.AwaitPromise = ptr(true)
	}))
}

func ptr[T any](v T) *T { return &v }

// el is a JavaScript expression for the element with a data-testid.
func el(testid string) string {
	return fmt.Sprintf("document.querySelector(%s)", jsString(`[data-testid="`+testid+`"]`))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitJS polls a JavaScript condition until it is true. describe, when
// not empty, is an expression whose value is reported on a timeout.
func (pg *page) waitJS(what, cond, describe string) {
	pg.t.Helper()
	poll(pg.t, pg.name+": "+what, func() (bool, string) {
		ok, err := tryEval[bool](pg, "!!("+cond+")")
		if err != nil {
			return false, err.Error()
		}
		if ok || describe == "" {
			return ok, ""
		}
		v, err := tryEval[string](pg, "String("+describe+")")
		if err != nil {
			return false, err.Error()
		}
		return false, v
	})
}

// poll calls cond every few milliseconds until it reports true, failing
// the test after waitTimeout with cond's last note.
func poll(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, note := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last: %s)", waitTimeout, what, note)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReady waits until the page applied all three snapshots and its
// connection indicator says live.
func (pg *page) waitReady() {
	pg.t.Helper()
	pg.waitJS("synced and live",
		el("app")+`?.dataset.synced === "true" && `+el("connection-indicator")+`?.dataset.state === "live"`,
		`JSON.stringify({synced: `+el("app")+`?.dataset.synced, state: `+el("connection-indicator")+`?.dataset.state})`)
}

// attr reads an attribute of the element with a data-testid ("" if none).
func (pg *page) attr(testid, name string) string {
	pg.t.Helper()
	return eval[string](pg, fmt.Sprintf(`%s?.getAttribute(%s) ?? ""`, el(testid), jsString(name)))
}

// text reads the trimmed text of the element with a data-testid ("" if none).
func (pg *page) text(testid string) string {
	pg.t.Helper()
	return eval[string](pg, el(testid)+`?.textContent.trim() ?? ""`)
}

// value reads the value of a form field.
func (pg *page) value(testid string) string {
	pg.t.Helper()
	return eval[string](pg, el(testid)+`.value`)
}

// revision is the revision of a topic the page has applied.
func (pg *page) revision(topicName string) string {
	pg.t.Helper()
	return pg.attr("revision-"+topicName, "data-revision")
}

func (pg *page) waitRevision(topicName, rev string) {
	pg.t.Helper()
	pg.waitJS(topicName+" at revision "+rev,
		fmt.Sprintf(`%s?.dataset.revision === %s`, el("revision-"+topicName), jsString(rev)),
		el("revision-"+topicName)+`?.dataset.revision`)
}

// click clicks the element with a data-testid with the mouse.
func (pg *page) click(testid string) {
	pg.t.Helper()
	pg.do("click "+testid, chromedp.Click(chromedp.CSS(`[data-testid="`+testid+`"]`)))
}

// fill sets a form field's value as typing would (input and change
// events), for v-model.
func (pg *page) fill(testid, value string) {
	pg.t.Helper()
	eval[chromedp.Void](pg, fmt.Sprintf(`(() => {
		const e = %s
		if (!e) throw new Error("no element %s")
		e.focus()
		e.value = %s
		e.dispatchEvent(new Event("input", {bubbles: true}))
		e.dispatchEvent(new Event("change", {bubbles: true}))
	})()`, el(testid), testid, jsString(value)))
}

// intercept holds the page's requests whose URL matches pattern (a CDP
// Fetch pattern such as "*/actions/*") until the test releases each with
// release: the test sees the page between a write's start and its answer.
func (pg *page) intercept(pattern string) {
	pg.t.Helper()
	pg.mu.Lock()
	pg.paused = make(chan *fetch.EventRequestPaused, 16)
	pg.mu.Unlock()
	ctx, cancel := context.WithTimeout(pg.ctx, waitTimeout)
	defer cancel()
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern, RequestStage: fetch.RequestStageRequest}}})
	if err != nil {
		pg.t.Fatalf("%s: intercept %s: %v", pg.name, pattern, err)
	}
}

// held waits for the next request intercept holds.
func (pg *page) held(what string) *fetch.EventRequestPaused {
	pg.t.Helper()
	pg.mu.Lock()
	ch := pg.paused
	pg.mu.Unlock()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(waitTimeout):
		pg.t.Fatalf("%s: no request held for %s within %v", pg.name, what, waitTimeout)
		return nil
	}
}

// release lets a held request go to the server unchanged.
func (pg *page) release(ev *fetch.EventRequestPaused) {
	pg.t.Helper()
	ctx, cancel := context.WithTimeout(pg.ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID}); err != nil {
		pg.t.Fatalf("%s: release %s: %v", pg.name, ev.Request.URL, err)
	}
}

// cookie is the page's Pinion session cookie: its principal.
func (pg *page) cookie() *http.Cookie {
	pg.t.Helper()
	ctx, cancel := context.WithTimeout(pg.ctx, waitTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{pg.app.base + "/"}})
	if err != nil {
		pg.t.Fatalf("%s: cookies: %v", pg.name, err)
	}
	for _, c := range res.Cookies {
		if c.Name == "pinion_session" {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	pg.t.Fatalf("%s: no pinion_session cookie", pg.name)
	return nil
}

// now is the page's clock in milliseconds since the epoch, with
// sub-millisecond resolution; pages of one browser share it.
const jsNow = `(performance.timeOrigin + performance.now())`

// watch starts recording when cond (a JavaScript expression) first holds
// after a DOM change; seenAt waits for it and returns that time.
func (pg *page) watch(cond string) {
	pg.t.Helper()
	eval[chromedp.Void](pg, fmt.Sprintf(`(() => {
		window.__e2eWatch?.stop()
		const w = {at: 0}
		const check = () => {
			if (!w.at && (%s)) { w.at = %s; mo.disconnect() }
		}
		const mo = new MutationObserver(check)
		mo.observe(document.documentElement, {attributes: true, childList: true, subtree: true, characterData: true})
		w.stop = () => mo.disconnect()
		window.__e2eWatch = w
		check()
	})()`, cond, jsNow))
}

func (pg *page) seenAt(what string) float64 {
	pg.t.Helper()
	pg.waitJS(what, `window.__e2eWatch?.at > 0`, "")
	return eval[float64](pg, `window.__e2eWatch.at`)
}

// clickTimed clicks a button and returns the page's clock when the click
// reached the document (before the app's handlers ran).
func (pg *page) clickTimed(testid string) float64 {
	pg.t.Helper()
	eval[chromedp.Void](pg, fmt.Sprintf(`(() => {
		window.__e2eClick = 0
		document.addEventListener("click", (e) => {
			if (e.target.closest(%s)) window.__e2eClick = %s
		}, {capture: true, once: true})
	})()`, jsString(`[data-testid="`+testid+`"]`), jsNow))
	pg.click(testid)
	at := eval[float64](pg, `window.__e2eClick`)
	if at == 0 {
		pg.t.Fatalf("%s: the click on %s was not seen", pg.name, testid)
	}
	return at
}

// ---------------------------------------------------------------------------
// Helpers

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stats summarises latencies in milliseconds.
func stats(ms []float64) string {
	if len(ms) == 0 {
		return "no samples"
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	return fmt.Sprintf("n=%d min=%.1fms median=%.1fms max=%.1fms", len(s), s[0], s[len(s)/2], s[len(s)-1])
}
