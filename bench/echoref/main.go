// Command echoref is the reference the snapshot benchmark compares Pinion
// with: a bare Echo v4 route that serves one fixed snapshot with its ETag,
// answering 304 when If-None-Match names it. It is what a GET costs with
// no store, no authentication and no middleware; Pinion's snapshot GET is
// measured against it in the same run (bench/writepath/run.sh).
//
//	go run ./bench/echoref -addr 127.0.0.1:8091 -body snapshot.json -etag '"1764000000000017"'
//
// It lives in bench/, outside the dependency rule that keeps Echo in
// server/ and handlers/: it is a measuring stick, not part of Pinion.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	bodyFile := flag.String("body", "", "file holding the snapshot body (required)")
	etag := flag.String("etag", "", "the snapshot's ETag, quotes included (required)")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil || *etag == "" {
		fmt.Fprintln(os.Stderr, "echoref: -body and -etag are required:", err)
		os.Exit(2)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/api/topics/:topic", func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("ETag", *etag)
		h.Set("Cache-Control", "private, no-cache")
		h.Set("Vary", "Cookie, Authorization")
		if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, *etag) {
			return c.NoContent(http.StatusNotModified)
		}
		return c.Blob(http.StatusOK, "application/json", body)
	})
	if err := e.Start(*addr); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "echoref:", err)
		os.Exit(1)
	}
}
