// Package layers holds the test that keeps Pinion's dependencies pointing
// one way (layers_test.go): cmd → server → handlers → {stream, openapi,
// topic, auth} → {store, openapi/jsonschema}, with protocol and internal
// helpers at the bottom;
// Echo only in server and handlers; each database driver only in its own
// backend package. It has no code of its own.
package layers
