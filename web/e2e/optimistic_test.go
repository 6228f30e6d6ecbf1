package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// cartQty is a JavaScript expression: the quantity the cart panel shows for
// a line ("" when the line is not shown).
func cartQty(sku string) string {
	return fmt.Sprintf(`(document.querySelector(%s)?.textContent.trim() ?? "")`,
		jsString(`[data-testid="cart-row"][data-sku="`+sku+`"] [data-testid="cart-row-qty"]`))
}

// serverQty is the quantity of a line in the principal's cart on the
// server, and the cart's revision.
func serverQty(t *testing.T, a *app, cookie *http.Cookie, sku string) (int, string) {
	t.Helper()
	s := a.get("cart", cookie)
	var cart struct {
		Items []struct {
			SKU string `json:"sku"`
			Qty int    `json:"qty"`
		} `json:"items"`
	}
	if err := json.Unmarshal(s.Data, &cart); err != nil {
		t.Fatalf("cart: %v in %s", err, s.Data)
	}
	for _, it := range cart.Items {
		if it.SKU == sku {
			return it.Qty, s.Revision
		}
	}
	return 0, s.Revision
}

// converged waits until every page shows the server's cart: the line's
// quantity in the panel (the Pinia store), the cart's revision, and the
// header's badge (a Pinia Colada query, kept live by connectColada).
func converged(t *testing.T, a *app, cookie *http.Cookie, sku string, pages ...*page) {
	t.Helper()
	qty, rev := serverQty(t, a, cookie, sku)
	shown := strconv.Itoa(qty)
	if qty == 0 {
		shown = "" // no line
	}
	for _, pg := range pages {
		pg.waitRevision("cart", rev)
		pg.waitJS("the server's quantity "+strconv.Itoa(qty), cartQty(sku)+` === `+jsString(shown), cartQty(sku))
		pg.waitJS("the badge at the server's revision",
			el("cart-badge")+`?.dataset.revision === `+jsString(rev)+` && `+el("cart-badge-count")+`?.textContent.trim() === `+jsString(strconv.Itoa(qty)),
			el("cart-badge")+`?.outerHTML`)
	}
}

// TestRefusedOptimisticWriteReturnsEveryTabToTheServersState: the cart's
// stepper changes a line at once (useAction with an optimistic update,
// conditional on the revision shown). The test holds the write in the
// browser to see the guess, then lets it go:
//   - a 422 (more than 99 units): the writer's tab returns exactly to the
//     server's quantity and shows the server's message; the other tab never
//     moved; the server is unchanged;
//   - a 412 (another writer changed the line while the write was held): the
//     writer's tab ends at the other writer's quantity, not at its guess and
//     not at the quantity from before its guess, and so does the other tab.
func TestRefusedOptimisticWriteReturnsEveryTabToTheServersState(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("alice")
	pa := p.open("A")
	pb := p.open("B")
	cookie := pa.cookie()

	a.write(http.MethodPost, "/api/topics/cart/actions/add-item", `{"sku":"MUG","name":"Mug","priceCents":1200,"qty":99}`, cookie)
	converged(t, a, cookie, "MUG", pa, pb)
	_, before := serverQty(t, a, cookie, "MUG")
	step := func(button string) {
		pa.do("click "+button, chromedp.Click(chromedp.CSS(`[data-testid="cart-row"][data-sku="MUG"] [data-testid="`+button+`"]`)))
	}
	pa.intercept("*/api/topics/cart/actions/*")

	// 422: one more than the server allows.
	step("cart-row-inc")
	held := pa.held("set-quantity 100")
	if body := postData(held.Request.PostDataEntries); !strings.HasSuffix(held.Request.URL, "/actions/set-quantity") || !strings.Contains(body, `"qty":100`) {
		t.Fatalf("held %s %s, want set-quantity to 100", held.Request.URL, body)
	}
	pa.waitJS("the guess, at once", cartQty("MUG")+` === "100"`, cartQty("MUG"))
	if got := eval[string](pb, cartQty("MUG")); got != "99" {
		t.Errorf("B shows %q while A's write is in flight, want the server's 99", got)
	}
	pa.release(held)
	pa.waitJS("the server's message under the row", el("cart-row-error")+`?.textContent.includes("99")`, el("cart-row-error")+`?.textContent`)
	converged(t, a, cookie, "MUG", pa, pb)
	if qty, rev := serverQty(t, a, cookie, "MUG"); qty != 99 || rev != before {
		t.Errorf("server after the 422: qty %d at %s, want 99 at %s", qty, rev, before)
	}

	// 412: one fewer, decided on revision `before`; another writer changes
	// the line while the write is held.
	step("cart-row-dec")
	held = pa.held("set-quantity 98")
	if m := headerValue(held.Request.Headers, "If-Match"); m != `"`+before+`"` {
		t.Errorf("the stepper's write carried If-Match %q, want %q", m, `"`+before+`"`)
	}
	pa.waitJS("the guess, at once", cartQty("MUG")+` === "98"`, cartQty("MUG"))
	theirs := a.write(http.MethodPost, "/api/topics/cart/actions/set-quantity", `{"sku":"MUG","qty":50}`, cookie, "X-Source-Id", "e2e-other-writer")
	pb.waitRevision("cart", theirs.Revision)
	pa.release(held)
	pa.waitJS("the conflict said under the row", el("cart-row-error")+`?.textContent.includes("another window")`, el("cart-row-error")+`?.textContent`)
	converged(t, a, cookie, "MUG", pa, pb)
	if qty, rev := serverQty(t, a, cookie, "MUG"); qty != 50 || rev != theirs.Revision {
		t.Errorf("server after the 412: qty %d at %s, want the other writer's 50 at %s", qty, rev, theirs.Revision)
	}
	// Both writes reached the server exactly once each (the held ones).
	sent := pa.requestsSince(0, func(r request) bool {
		return r.method == http.MethodPost && r.url.Path == "/api/topics/cart/actions/set-quantity"
	})
	if len(sent) != 2 {
		t.Errorf("A sent %d set-quantity writes, want 2", len(sent))
	}
}

// TestColadaQueryFollowsAnotherTab: the header's cart badge reads the cart
// through a Pinia Colada useQuery, not through the synced store; a change
// made in another tab reaches it through connectColada, and the writer's
// own badge follows its write without reading the snapshot again.
func TestColadaQueryFollowsAnotherTab(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("alice")
	pa := p.open("A")
	pb := p.open("B")
	cookie := pa.cookie()
	converged(t, a, cookie, "MUG-CER", pa, pb) // empty cart: badge 0 at the cart's revision

	for i := 1; i <= 3; i++ {
		mw := pa.requestCount()
		pa.click("cart-sample-MUG-CER")
		pa.waitJS("A's line at "+strconv.Itoa(i), cartQty("MUG-CER")+` === `+jsString(strconv.Itoa(i)), cartQty("MUG-CER"))
		converged(t, a, cookie, "MUG-CER", pb, pa)
		if gets := pa.requestsSince(mw, snapshotGets("cart")); len(gets) != 0 {
			t.Errorf("write %d: the writer read the cart %d times after its own write, want 0", i, len(gets))
		}
	}
}

// postData is a CDP request's body.
func postData(entries []*network.PostDataEntry) string {
	var b strings.Builder
	for _, e := range entries {
		b.Write(e.Bytes)
	}
	return b.String()
}

// headerValue is a header of a CDP request, by case-insensitive name.
func headerValue(h map[string]any, name string) string {
	for k, v := range h {
		if s, ok := v.(string); ok && strings.EqualFold(k, name) {
			return s
		}
	}
	return ""
}
