// Package contract holds the contract suite (contract_test.go): it drives
// every operation of the committed openapi.yaml, with every status the
// document gives it, through a real server, and holds each request and
// answer against the document with kin-openapi's openapi3filter. It sits
// beside the server it tests; it has no code of its own.
package contract
