package handlers

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
)

// NoRoute answers every unknown /api path with a 404 problem, so that the
// single-page app's fallback never answers an API call with HTML.
func NoRoute() echo.HandlerFunc {
	return func(c echo.Context) error { return echo.ErrNotFound }
}

// App serves a built single-page app: files as they are, index.html for
// any other path so client-side routes load. Hashed assets are cached for
// good; index.html is revalidated so a new build is picked up at once.
//
// The page itself establishes the session: otherwise a first visit's
// parallel API calls (and its event stream) would each be issued a
// different new principal.
func App(assets fs.FS, who auth.Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := strings.TrimPrefix(path.Clean("/"+c.Param("*")), "/")
		if name == "" {
			name = "index.html"
		}
		if !strings.HasPrefix(name, "assets/") {
			// A failure here is answered by the API calls that need a
			// principal; the page itself is public.
			_, _ = who.Authenticate(c.Response(), c.Request())
		}
		f, err := assets.Open(name)
		if err == nil {
			if st, serr := f.Stat(); serr != nil || st.IsDir() {
				f.Close()
				err = fs.ErrNotExist
			}
		}
		if errors.Is(err, fs.ErrNotExist) && strings.HasPrefix(name, "assets/") {
			// A hashed asset of another build (a tab opened before a
			// deploy): the app's HTML in its place would fail as a script.
			return echo.ErrNotFound
		}
		if errors.Is(err, fs.ErrNotExist) {
			name = "index.html"
			f, err = assets.Open(name)
		}
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			return errors.New("app: embedded file is not seekable")
		}
		h := c.Response().Header()
		if strings.HasPrefix(name, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		// ServeContent, unlike ServeFile, never redirects .../index.html,
		// and it handles Range, HEAD and If-Modified-Since.
		http.ServeContent(c.Response(), c.Request(), name, st.ModTime(), rs)
		return nil
	}
}
