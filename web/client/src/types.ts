/**
 * Wire types of the Pinion protocol (see PROTOCOL.md) and the small contracts
 * that `@statesync/core` defines. The shapes are structural copies, so the
 * objects this package hands out satisfy `@statesync/core` without importing it.
 */

/**
 * A canonical decimal u64 string: "0", "42", no sign, no leading zeros.
 *
 * Branded exactly as `@statesync/core` brands its `Revision`, so the snapshots
 * and invalidations this client hands out satisfy that library's types. It is
 * still a string to read; functions that take a revision accept any string.
 */
export type Revision = string & { readonly __brand: 'Revision' }

/** `{revision, data}`: the `SnapshotEnvelope` of `@statesync/core`. */
export interface Snapshot<T = unknown> {
  revision: Revision
  data: T
}

/** "This topic is now at this revision": the `InvalidationEvent` of `@statesync/core`. */
export interface InvalidationEvent {
  topic: string
  revision: Revision
  /** Present only when the write carried an `X-Source-Id`. */
  sourceId?: string
  /** Commit time, milliseconds since the Unix epoch. */
  timestampMs?: number
}

/** Stops a subscription. Calling it twice is harmless. */
export type Unsubscribe = () => void

/** `@statesync/core`'s `InvalidationSubscriber`. */
export interface InvalidationSubscriber {
  subscribe(handler: (event: InvalidationEvent) => void): Promise<Unsubscribe>
}

/** `@statesync/core`'s `SnapshotProvider`, with an optional abort signal. */
export interface SnapshotProvider<T> {
  getSnapshot(options?: { signal?: AbortSignal }): Promise<Snapshot<T>>
}

/**
 * The state of the event stream as the UI should show it.
 *
 * - `connecting`: the first connection is being set up.
 * - `live`: the stream is up to date (its `ready` event arrived).
 * - `reconnecting`: the connection dropped and is being re-established.
 * - `offline`: the browser reports no network; reconnection resumes when it returns.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline'

/** What one topic looks like to the typed client: its document and its actions' inputs. */
export interface TopicSpec {
  data: unknown
  actions: Record<string, unknown>
}

/**
 * The map of topic name to {@link TopicSpec} that types a client. Write it by
 * hand or derive it from the types `openapi-typescript` generates.
 */
export type TopicMap = Record<string, TopicSpec>

/** RFC 7396 merge patch of `T`: any subset of its members, `null` deletes one. */
export type MergePatch<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: MergePatch<T[K]> | null }
    : T

/** `{topic, revision, scope}` from `GET /api/topics`. */
export interface TopicInfo {
  topic: string
  revision: Revision
  scope: 'shared' | 'per-principal' | (string & {})
}

/** The `ready` event: the stream is up to date as of `cursor`. */
export interface ReadyEvent {
  cursor: string
  /** True when this is not the first `ready` the page has seen: a reconnect or a new leader. */
  resumed: boolean
}

/** Who owns the connection: this tab (`leader`), another tab (`follower`), or each tab its own (`standalone`). */
export type StreamRole = 'leader' | 'follower' | 'standalone'

/** Listeners an event stream notifies. */
export interface StreamListener {
  invalidation?(event: InvalidationEvent): void
  ready?(event: ReadyEvent): void
  state?(state: ConnectionState): void
  role?(role: StreamRole): void
}

/**
 * The one stream a page reads invalidations from. {@link EventStream} is the
 * per-tab implementation; {@link SharedEventStream} shares one connection
 * between every tab of the origin.
 */
export interface Stream {
  readonly state: ConnectionState
  readonly role: StreamRole
  /** The last cursor seen, or null before the first event. */
  readonly cursor: string | null
  /** Starts connecting. Idempotent; after `close()` it starts again. */
  start(): void
  /** Closes the connection and releases everything. */
  close(): void
  /** Reconnects at once (or, in a follower tab, checks on the leader). */
  reconnect?(): void
  listen(listener: StreamListener): Unsubscribe
}
