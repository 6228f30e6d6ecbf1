// Package clientgen pins the Go client generators Pinion's openapi.yaml is
// checked against (see check.sh), and the runtime packages the code they
// generate imports. It is a module of its own so that none of this reaches
// Pinion's go.mod.
package clientgen

// The generated clients are not committed, so nothing else here imports
// their runtime packages: these blank imports keep them (and their
// checksums) in go.mod and go.sum, so building a fresh client needs no
// `go mod tidy`.
import (
	_ "github.com/go-faster/errors"
	_ "github.com/go-faster/jx"
	_ "github.com/oapi-codegen/runtime"
	_ "github.com/ogen-go/ogen/conv"
	_ "github.com/ogen-go/ogen/http"
	_ "github.com/ogen-go/ogen/json"
	_ "github.com/ogen-go/ogen/middleware"
	_ "github.com/ogen-go/ogen/ogenerrors"
	_ "github.com/ogen-go/ogen/ogenregex"
	_ "github.com/ogen-go/ogen/otelogen"
	_ "github.com/ogen-go/ogen/uri"
	_ "github.com/ogen-go/ogen/validate"
	_ "go.opentelemetry.io/otel"
	_ "go.opentelemetry.io/otel/attribute"
	_ "go.opentelemetry.io/otel/codes"
	_ "go.opentelemetry.io/otel/metric"
	_ "go.opentelemetry.io/otel/semconv/v1.39.0"
	_ "go.opentelemetry.io/otel/trace"
	_ "go.yaml.in/yaml/v3"
)
