package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/protocol"
)

// StartSession serves POST /api/session: with the JWT authenticator, the
// bearer token becomes an HttpOnly session cookie that expires with it, so
// that a browser's EventSource (which cannot send headers) needs no token
// in its URL; with the development one, the browser gets its cookie.
func StartSession(who auth.Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, ok := who.(auth.Sessions)
		if !ok {
			return notFound("This server's authenticator keeps no sessions.")
		}
		if _, err := s.StartSession(c.Response(), c.Request()); err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", protocol.CachePrivate)
		return c.NoContent(http.StatusNoContent)
	}
}

// EndSession serves DELETE /api/session: the session cookie is cleared.
func EndSession(who auth.Authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, ok := who.(auth.Sessions)
		if !ok {
			return notFound("This server's authenticator keeps no sessions.")
		}
		if err := s.EndSession(c.Response(), c.Request()); err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", protocol.CachePrivate)
		return c.NoContent(http.StatusNoContent)
	}
}
