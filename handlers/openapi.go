package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/protocol"
)

// OpenAPI serves the server's OpenAPI document, generated once at startup
// from the registered topics (package openapi). It is revalidated on
// every use, so that a restart with other topics shows at once.
func OpenAPI(doc []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", protocol.CacheShared)
		return c.Blob(http.StatusOK, "application/yaml", doc)
	}
}
