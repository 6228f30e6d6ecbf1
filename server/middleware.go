package server

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/pinionkit/pinion/protocol"
)

// middleware installs what every request goes through. Nothing here may
// buffer or time out responses: event streams pass through the same chain
// (Echo's Timeout, Gzip and BodyDump middlewares each break or bloat them).
func (s *Server) middleware() {
	e := s.echo
	s.security("/api/events")
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod:   true,
		LogURI:      true,
		LogStatus:   true,
		LogLatency:  true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.log.LogAttrs(c.Request().Context(), slog.LevelDebug, "request",
				slog.String("method", v.Method), slog.String("uri", v.URI),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency))
			return nil
		},
	}))
	if len(s.cfg.AllowedOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:     s.cfg.AllowedOrigins,
			AllowMethods:     []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete},
			AllowHeaders:     []string{"Content-Type", "If-Match", "If-None-Match", protocol.HeaderSourceID, protocol.HeaderLastEventID},
			ExposeHeaders:    []string{"ETag"},
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}
}
