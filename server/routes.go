package server

import (
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/handlers"
	"github.com/pinionkit/pinion/openapi"
	"github.com/pinionkit/pinion/topic"
)

// routes is the whole API surface, on one screen.
func (s *Server) routes(st Store, topics *topic.Set, who auth.Authenticator) {
	e, limit := s.echo, s.cfg.BodyLimit
	s.middleware()

	e.GET("/healthz", handlers.Healthz())
	e.GET("/readyz", handlers.Readyz(readiness{st: st, stopping: &s.stopping}))
	e.GET(openapi.Path, handlers.OpenAPI(s.spec))

	api := e.Group("/api")
	api.GET("/topics", handlers.List(topics, st, who))
	api.GET("/topics/:topic", handlers.Snapshot(topics, st, who))
	api.PUT("/topics/:topic", handlers.Replace(topics, st, who, limit))
	api.PATCH("/topics/:topic", handlers.Patch(topics, st, who, limit))
	api.DELETE("/topics/:topic", handlers.Reset(topics, st, who))
	api.POST("/topics/:topic/actions/:action", handlers.Action(topics, st, who, limit))
	api.GET("/events", handlers.Events(topics, s.hub, who))
	api.Any("/*", handlers.NoRoute())

	if s.cfg.Assets != nil {
		app := handlers.App(s.cfg.Assets, who)
		e.GET("/*", app)
		e.HEAD("/*", app)
	}
}
