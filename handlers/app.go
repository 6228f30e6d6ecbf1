package handlers

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// NoRoute answers every unknown /api path with a 404 problem, so that the
// single-page app's fallback never answers an API call with HTML.
func NoRoute() echo.HandlerFunc {
	return func(c echo.Context) error { return echo.ErrNotFound }
}

// App serves a built single-page app: files as they are, index.html for
// any other path so client-side routes load. Hashed assets are cached for
// good; index.html is revalidated so a new build is picked up at once.
func App(assets fs.FS) echo.HandlerFunc {
	files := http.FileServerFS(assets)
	return func(c echo.Context) error {
		p := strings.TrimPrefix(path.Clean("/"+c.Param("*")), "/")
		if p == "" {
			p = "index.html"
		}
		r := c.Request()
		if _, err := fs.Stat(assets, p); errors.Is(err, fs.ErrNotExist) {
			p = "index.html"
		}
		h := c.Response().Header()
		if strings.HasPrefix(p, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + p
		if p == "index.html" {
			// FileServer redirects /index.html to /; serve the file itself.
			http.ServeFileFS(c.Response(), r2, assets, "index.html")
			return nil
		}
		files.ServeHTTP(c.Response(), r2)
		return nil
	}
}
