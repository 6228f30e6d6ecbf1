package openapi

// Operation declares one operation of the HTTP API as data. The server
// registers its handler from the same value (server/routes.go), and the
// document describes it from it, so that a route cannot exist undocumented
// or be documented with a status that nothing declared.
type Operation struct {
	// Method is the HTTP method, such as http.MethodGet.
	Method string
	// Path is the route in OpenAPI form. A path containing {topic} is
	// documented once per registered topic (with that topic's schemas),
	// and one containing {action} once per action of each topic.
	Path string
	// ID is the operationId. For a per-topic operation it is a prefix to
	// which the topic's Pascal-case name is appended ("get" →
	// "getAppSettings"); per-action operations ignore it (their id is the
	// topic's camel-case name and the action's Pascal-case name).
	ID string
	// Summary and Description document the operation. In per-topic and
	// per-action operations, {topic} and {action} stand for the names,
	// {about} for the topic's description and scope, and {actionAbout}
	// for the action's description.
	Summary     string
	Description string
	// Tag groups operations. Per-topic operations are tagged with their
	// topic instead.
	Tag Tag
	// Params names shared parameters, in order (Param* constants).
	Params []string
	// Request is the body the operation takes.
	Request Request
	// Responses are the operation's own answers; Errors the statuses of
	// the shared problem responses it may also give.
	Responses []Response
	Errors    []int
	// Public operations need no session.
	Public bool
}

// Tag is an operation tag: a group in generated documentation.
type Tag struct {
	Name        string
	Description string
}

// Shared parameters an Operation can name.
const (
	ParamIfMatch          = "IfMatch"
	ParamIfNoneMatch      = "IfNoneMatch"
	ParamSourceID         = "SourceId"
	ParamLastEventID      = "LastEventID"
	ParamLastEventIDQuery = "LastEventIDQuery"
	ParamTopics           = "Topics"
)

// Shared response headers a Response can name. HeaderTopicCache stands for
// the cache headers of the operation's topic (Cache-Control, and Vary for a
// per-principal topic).
const (
	HeaderETag           = "ETag"
	HeaderSetCookie      = "SetCookie"
	HeaderNoCache        = "NoCache"
	HeaderPrivateNoCache = "PrivateNoCache"
	HeaderVaryPrincipal  = "VaryPrincipal"
	HeaderNoBuffering    = "NoBuffering"
	HeaderTopicCache     = "TopicCache"

	// headerRetryAfter comes with the shared 429 and 503 answers only.
	headerRetryAfter = "RetryAfter"
)

// Request is the kind of body an operation takes.
type Request int

const (
	// noBody, the zero value: the operation takes no body.
	noBody Request = iota
	// DocumentBody is the topic's whole document (<Topic>Input), as JSON.
	DocumentBody
	// PatchBody is a merge patch of the topic's document (<Topic>Patch).
	PatchBody
	// ActionBody is the input of the action (<Topic><Action>Input).
	ActionBody
	// FreshnessBody is a browser tab's freshness report (FreshnessReport).
	FreshnessBody
)

// Response is one answer of an operation other than the shared problems.
type Response struct {
	Status      int
	Description string
	// Headers names shared response headers (Header* constants), in order.
	Headers []string
	// Body is what the answer carries.
	Body Body
}

// Body is the content of a Response.
type Body struct {
	kind   bodyKind
	media  string
	schema string
}

type bodyKind int

const (
	emptyBody bodyKind = iota
	schemaBody
	snapshotBody
	streamBody
	statusBody
	documentBody
)

// JSON is a body of media type media whose schema is the shared component
// named schema.
func JSON(media, schema string) Body { return Body{kind: schemaBody, media: media, schema: schema} }

// Snapshot is the caller's snapshot of the operation's topic, with its ETag
// and cache headers (a shared response per topic).
func Snapshot() Body { return Body{kind: snapshotBody} }

// Stream is the event stream, with the payload schemas of its events.
func Stream() Body { return Body{kind: streamBody} }

// Status is {"status": value}, as health checks answer.
func Status(value string) Body { return Body{kind: statusBody, schema: value} }

// Document is this OpenAPI document, in YAML.
func Document() Body { return Body{kind: documentBody} }
