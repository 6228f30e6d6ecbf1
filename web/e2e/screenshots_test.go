package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// docsDir is the repository's docs/ directory, seen from web/e2e.
const docsDir = "../../docs"

// TestScreenshots writes the README's screenshots: docs/demo-light.png and
// docs/demo-dark.png (the whole page in a 1280x800 viewport, with settings,
// preferences and a cart filled in) and docs/two-windows.png (two windows of
// one browser side by side, the second showing the first's change) and
// docs/form-field-error.png (the settings card with a server field error)
// and docs/devtools-panel.png (the devtools plugin's timeline and topic
// inspector, as the demo's "Sync activity" card draws them).
// It runs only with PINION_SCREENSHOTS=1, so that
// ordinary test runs do not rewrite them.
func TestScreenshots(t *testing.T) {
	if os.Getenv("PINION_SCREENSHOTS") != "1" {
		t.Skip("set PINION_SCREENSHOTS=1 to write the screenshots in docs/")
	}
	a := startApp(t)
	b := newBrowser(t, a)
	p := b.principal("readme")
	win := p.open("main")
	win.do("viewport", chromedp.EmulateViewport(1280, 800))

	// Settings: light theme, saved through the form.
	win.fill("settings-theme", "light")
	win.click("settings-save")
	win.waitJS("theme light", rootTheme("light"), "")

	// Preferences: a name and two favourites.
	win.fill("preferences-displayName", "Ada")
	win.click("preferences-save")
	win.waitJS("greeting", el("greeting")+` != null`, "")
	for _, fav := range []string{"Dashboard", "Reports"} {
		win.fill("preferences-favorite-input", fav)
		win.click("preferences-favorite-add")
		win.waitJS("favourite "+fav, fmt.Sprintf(`document.querySelector('[data-testid="preferences-favorite"][data-value=%s]') != null`, jsString(fav)), "")
	}

	// Cart: three products, two mugs, a coupon.
	for i, sku := range []string{"BEANS-1KG", "MUG-CER", "MUG-CER", "FILTER-100"} {
		win.click("cart-sample-" + sku)
		win.waitJS("cart count", fmt.Sprintf(`%s?.textContent === "%d"`, el("cart-count"), i+1), el("cart-count")+`?.textContent`)
	}
	win.fill("cart-coupon", "WELCOME10")
	win.click("cart-coupon-apply")
	var cartRev string
	poll(t, "the coupon", func() (bool, string) {
		s := a.get("cart", win.cookie())
		cartRev = s.Revision
		return bytes.Contains(s.Data, []byte(`"coupon":"WELCOME10"`)), string(s.Data)
	})
	win.waitRevision("cart", cartRev)
	_, rev := a.settings()
	win.waitRevision("app-settings", rev)

	// shoot captures the viewport, or the whole page (1280 wide) when full.
	shoot := func(pg *page, full bool) []byte {
		t.Helper()
		// No focus ring, at the top, and the theme's colour transitions
		// (160ms) over: a screenshot taken mid-way mixes both themes.
		eval[chromedp.Void](pg, `(async () => {
			document.activeElement?.blur()
			window.scrollTo(0, 0)
			await Promise.all(document.getAnimations().filter((a) => a instanceof CSSTransition).map((a) => a.finished.catch(() => {})))
			await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
		})()`)
		capture := chromedp.CaptureScreenshot()
		if full {
			capture = chromedp.FullScreenshot(100) // 100: PNG
		}
		ctx, cancel := context.WithTimeout(pg.ctx, waitTimeout)
		defer cancel()
		buf, err := chromedp.Run(ctx, capture)
		if err != nil {
			t.Fatalf("%s: screenshot: %v", pg.name, err)
		}
		return buf
	}
	save := func(name string, buf []byte) {
		t.Helper()
		if err := os.MkdirAll(docsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(docsDir, name)
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, len(buf))
	}

	save("demo-light.png", shoot(win, true))

	win.click("settings-toggle-theme") // light -> dark
	win.waitJS("theme dark", rootTheme("dark"), "")
	save("demo-dark.png", shoot(win, true))

	// Two windows of one browser: the second saw the first's change.
	win.click("settings-toggle-theme") // dark -> system
	win.waitJS("theme system", rootTheme("system"), "")
	win.click("settings-toggle-theme") // system -> light
	win.waitJS("theme light", rootTheme("light"), "")
	second := p.open("second")
	for _, pg := range []*page{win, second} {
		pg.do("viewport", chromedp.EmulateViewport(900, 800))
	}
	second.watch(rootFontSize(15))
	win.fill("settings-fontSize", "15")
	win.click("settings-save")
	second.seenAt("font size 15px")
	_, rev = a.settings()
	second.waitRevision("app-settings", rev)
	win.waitRevision("app-settings", rev)
	left, right := decodePNG(t, shoot(win, false)), decodePNG(t, shoot(second, false))
	save("two-windows.png", sideBySide(t, left, right))

	// A server field error next to its field (aria-invalid, described by
	// the message, focused), in the settings card.
	win.do("viewport", chromedp.EmulateViewport(1280, 800))
	win.fill("settings-fontSize", "99")
	win.click("settings-save")
	win.waitJS("the fontSize error", el("settings-error-fontSize"), "")
	ctx, cancel := context.WithTimeout(win.ctx, waitTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(`[data-testid="settings-panel"]`)))
	if err != nil {
		t.Fatalf("screenshot of the settings card: %v", err)
	}
	save("form-field-error.png", buf)

	// The client's devtools plugin (timeline and topic inspector), drawn by
	// the demo's "Sync activity" card from the same plugin API Vue Devtools
	// uses: another window changes the cart, this one hears it.
	second.click("cart-sample-FILTER-100")
	s := a.get("cart", win.cookie())
	win.waitRevision("cart", s.Revision)
	win.click("activity-topic-cart")
	win.waitJS("the cart in the inspector", el("activity-state")+`?.textContent.includes(`+jsString(s.Revision)+`)`, el("activity-state")+`?.textContent`)
	eval[chromedp.Void](win, el("sync-activity")+`.scrollIntoView()`)
	buf, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(`[data-testid="sync-activity"]`)))
	if err != nil {
		t.Fatalf("screenshot of the sync activity card: %v", err)
	}
	save("devtools-panel.png", buf)
}

func decodePNG(t *testing.T, buf []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	return img
}

// sideBySide draws two screenshots next to each other on a neutral
// background, each with a thin frame, like two windows on a desktop.
func sideBySide(t *testing.T, left, right image.Image) []byte {
	t.Helper()
	const gap, frame = 24, 1
	lb, rb := left.Bounds(), right.Bounds()
	w := gap + lb.Dx() + 2*frame + gap + rb.Dx() + 2*frame + gap
	h := gap + max(lb.Dy(), rb.Dy()) + 2*frame + gap
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{0x2b, 0x30, 0x40, 0xff}), image.Point{}, draw.Src)
	x := gap
	for _, img := range []image.Image{left, right} {
		b := img.Bounds()
		border := image.Rect(x, gap, x+b.Dx()+2*frame, gap+b.Dy()+2*frame)
		draw.Draw(out, border, image.NewUniform(color.RGBA{0x90, 0x97, 0xab, 0xff}), image.Point{}, draw.Src)
		draw.Draw(out, image.Rect(x+frame, gap+frame, x+frame+b.Dx(), gap+frame+b.Dy()), img, b.Min, draw.Src)
		x += b.Dx() + 2*frame + gap
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
