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

// Readyz answers 200 when the store can serve requests and commit (the
// store's Ping makes a commit), 503 otherwise; it asks again on every
// call, so it recovers by itself once the store does.
func Readyz(st Pinger) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := st.Ping(c.Request().Context()); err != nil {
			return &apiError{status: http.StatusServiceUnavailable, detail: "Not ready: the store cannot commit (unreachable, full or failing), or the server is shutting down."}
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	}
}
