package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// axeSource is axe-core's browser bundle from web/node_modules (a pinned
// devDependency; `make test` installs it). Missing, the test skips, except
// under CI=true.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		msg := fmt.Sprintf("axe-core not installed (run `npm ci` in web/): %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return string(b)
}

// axeViolations runs axe-core on the page and returns its serious and
// critical violations, one line each.
func axeViolations(pg *page, axe string) []string {
	pg.t.Helper()
	if !eval[bool](pg, `typeof window.axe !== "undefined"`) {
		eval[bool](pg, "(() => { "+axe+"\n; return true })()")
	}
	out := eval[string](pg, `axe.run(document, {resultTypes: ["violations"]}).then((r) => JSON.stringify(
		r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
			.map((v) => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\s+/g, " ")).join(" | "))))`)
	var lines []string
	for _, l := range strings.Split(strings.Trim(out, "[]"), `","`) {
		if l = strings.Trim(l, `"`); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestAccessibility: axe-core reports no serious or critical violation in
// the demo, in the light and the dark theme and with a server field error
// shown; that error is next to its field, tied to it with
// aria-describedby, the field is aria-invalid and has the focus.
func TestAccessibility(t *testing.T) {
	axe := axeSource(t)
	a := startApp(t)
	b := newBrowser(t, a)
	pg := b.principal("alice").open("1")

	for _, theme := range []string{"light", "dark"} {
		snap := a.write(http.MethodPatch, "/api/topics/app-settings", fmt.Sprintf(`{"theme": %q}`, theme), nil, mergePatch...)
		pg.waitRevision("app-settings", snap.Revision)
		pg.waitJS("theme "+theme, rootTheme(theme), "document.documentElement.dataset.theme")
		// Colours are checked once the theme's transitions have ended
		// (infinite animations, such as the live indicator's pulse, aside).
		pg.waitJS("transitions ended", `document.getAnimations().filter((a) => a.playState === "running" && a.effect?.getTiming().iterations !== Infinity).length === 0`, "document.getAnimations().length")
		if v := axeViolations(pg, axe); len(v) > 0 {
			t.Errorf("%s theme: axe violations:\n  %s", theme, strings.Join(v, "\n  "))
		}
	}

	// A server field error: next to the field, described by it, focused.
	pg.fill("settings-fontSize", "99")
	pg.click("settings-save")
	pg.waitJS("the fontSize error", el("settings-error-fontSize"), "")
	if got := pg.attr("settings-fontSize", "aria-invalid"); got != "true" {
		t.Errorf("fontSize aria-invalid = %q, want true", got)
	}
	desc := pg.attr("settings-fontSize", "aria-describedby")
	if desc == "" || !eval[bool](pg, fmt.Sprintf(`document.getElementById(%s)?.textContent.includes("fontSize")`, jsString(desc))) {
		t.Errorf("fontSize aria-describedby = %q, which does not name the error message", desc)
	}
	pg.waitJS("focus on the invalid field", `document.activeElement?.dataset.testid === "settings-fontSize"`, "document.activeElement?.dataset.testid")
	if v := axeViolations(pg, axe); len(v) > 0 {
		t.Errorf("with a field error: axe violations:\n  %s", strings.Join(v, "\n  "))
	}
}
