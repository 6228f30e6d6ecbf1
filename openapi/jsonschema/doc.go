// Package jsonschema compiles Go types, by reflection over their json and
// validate tags, into JSON Schemas (2020-12, as OpenAPI 3.1 uses them). It
// knows nothing of HTTP: a document assembler (package openapi) asks it
// for the components its operations refer to, and it asks a Rules source
// (the topic registry) about validation.
//
// A type is compiled in one of three forms, because a server that decodes
// a missing member as its zero value and then validates needs less from a
// client than it always sends itself:
//
//   - Read, a value as the server sends it: a member is required unless
//     its json tag has omitempty or omitzero, because the server always
//     writes every other member.
//   - Input, a whole value as a client sends it: a member is required only
//     when its zero value fails validation, because the server reads a
//     missing member as its zero value and then validates.
//   - Patch, an RFC 7396 merge patch: no member is required, nested
//     objects are patches themselves, and null is allowed wherever the
//     reset value would pass validation.
//
// Validate tags become JSON Schema keywords wherever JSON Schema can say
// the same thing: required, oneof (enum), min, max, len, gt, lt, gte, lte,
// eq, ne, unique, dive, keys, formats (email, url, uri, uuid, ipv4,
// hostname, datetime) and the validator's own patterns (hexcolor,
// alphanum, e164, ...). Each rule's form comes from the catalogue
// (internal/rules) through Rules.LookupRule, and whether a zero value
// passes from Rules.ZeroValid. A field tagged omitempty admits its zero
// value besides. Rules with no schema form (cross-field rules, custom
// rules without one) are named in the member's description. Field
// descriptions come from a `doc:"..."` struct tag, since Go doc comments
// are not available by reflection.
//
// Schemas render into Object, an ordered JSON object, so that the same
// types always give the same bytes.
package jsonschema
