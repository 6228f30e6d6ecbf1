// Package e2e holds Pinion's end-to-end browser tests: the real server (real
// HTTP on 127.0.0.1, the embedded build of the demo app, real event streams,
// the SQLite store in a temporary directory) driven by Chromium through
// chromedp.
//
// The tests need Chromium at /usr/bin/chromium (or the path in
// PINION_CHROMIUM). Without it they skip, except when CI=true, where a
// missing browser fails them. Run them with
//
//	go test -race -count=1 ./web/e2e
//
// PINION_SCREENSHOTS=1 also writes the README's screenshots to docs/.
package e2e
