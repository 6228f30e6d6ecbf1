package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Pinger checks a dependency.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Healthz answers 200 while the process serves requests.
func Healthz() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}
}

// Readyz answers 200 when the store can serve requests, 503 otherwise.
func Readyz(st Pinger) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := st.Ping(c.Request().Context()); err != nil {
			return &apiError{status: http.StatusServiceUnavailable, detail: "Not ready: the store is not reachable, or the server is shutting down."}
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	}
}
