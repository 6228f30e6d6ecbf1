import { EventStream, type EventSourceFactory, type NetworkStatus, type Timers } from './eventStream.js'
import {
  HttpApi,
  type FetchLike,
  type HeadersProvider,
  type ReadOptions,
  type WriteOptions,
} from './http.js'
import { noopLogger, type Logger } from './logger.js'
import {
  SharedEventStream,
  browserSharing,
  type BroadcastChannelFactory,
  type LockManagerLike,
} from './sharedStream.js'
import type {
  ConnectionState,
  InvalidationEvent,
  InvalidationSubscriber,
  MergePatch,
  ReadyEvent,
  Snapshot,
  SnapshotProvider,
  Stream,
  StreamRole,
  TopicInfo,
  TopicMap,
  Unsubscribe,
} from './types.js'

/** The names of a client's topics. */
export type TopicName<Topics extends TopicMap> = keyof Topics & string
/** The document type of a topic. */
export type TopicData<Topics extends TopicMap, K extends TopicName<Topics>> = Topics[K]['data']
/** The names of a topic's actions. */
export type ActionName<Topics extends TopicMap, K extends TopicName<Topics>> = keyof Topics[K]['actions'] & string
/** The input type of a topic's action. */
export type ActionInput<
  Topics extends TopicMap,
  K extends TopicName<Topics>,
  A extends ActionName<Topics, K>,
> = Topics[K]['actions'][A]

/** How tabs share the event stream. */
export type SharingOption =
  /** Web Locks + BroadcastChannel; BroadcastChannel alone without Web Locks; else one stream per tab. */
  | 'auto'
  /** One stream per tab. */
  | 'off'
  /** Explicit implementations (tests pass fakes); `locks: null` elects over the channel. */
  | { locks: LockManagerLike | null; createBroadcastChannel: BroadcastChannelFactory }

/** Why the client suggests that stores check their topics. */
export type WakeReason = 'visible' | 'online' | 'pageshow'

/**
 * The page events the client follows (`window` and `document` by default):
 * `visibilitychange`, `online`, `pagehide` and `pageshow`.
 */
export interface PageLifecycle {
  subscribe(handlers: {
    visible(): void
    online(): void
    /** The page is going away, maybe into the back/forward cache (`persisted`). */
    hide(persisted: boolean): void
    /** The page came back from the back/forward cache. */
    restore(): void
  }): Unsubscribe
}

/** The browser's page lifecycle, or a no-op outside a browser. */
export function browserLifecycle(): PageLifecycle {
  return {
    subscribe(h) {
      const win = (globalThis as { window?: Window }).window
      const doc = (globalThis as { document?: Document }).document
      if (!win || !doc) return () => {}
      const onVisibility = () => {
        if (doc.visibilityState === 'visible') h.visible()
      }
      const onOnline = () => h.online()
      const onHide = (e: PageTransitionEvent) => h.hide(e.persisted)
      const onShow = (e: PageTransitionEvent) => {
        if (e.persisted) h.restore()
      }
      doc.addEventListener('visibilitychange', onVisibility)
      win.addEventListener('online', onOnline)
      win.addEventListener('pagehide', onHide)
      win.addEventListener('pageshow', onShow)
      return () => {
        doc.removeEventListener('visibilitychange', onVisibility)
        win.removeEventListener('online', onOnline)
        win.removeEventListener('pagehide', onHide)
        win.removeEventListener('pageshow', onShow)
      }
    },
  }
}

export interface ClientOptions {
  /** Origin (and path prefix) of the server; `''`, the default, is the page's own origin. */
  baseUrl?: string
  /** This window's id, sent as `X-Source-Id` with every write. Generated when absent. */
  sourceId?: string
  /**
   * Fetch credentials of every read and write; the stream's EventSource uses
   * `withCredentials` exactly when this is `include`, so all three act as one
   * principal. Default: `include` when `baseUrl` is on another origin,
   * `same-origin` otherwise.
   */
  credentials?: RequestCredentials
  /**
   * Headers added to every request, asked for each time (a bearer token, say).
   * An EventSource cannot send headers: exchange the token for a session
   * cookie (`POST /api/session`) so the stream acts as the same principal.
   */
  headers?: HeadersProvider
  /** Time limit of a snapshot read in ms (0: none). Default 15000. */
  timeoutMs?: number
  /**
   * Renews the stream's credential when the server ends the stream because
   * it expired; the stream resumes from its cursor afterwards. Default, with
   * `headers`: {@link PinionClient.createSession} (a new session cookie from
   * the current bearer token).
   */
  reauthenticate?: () => Promise<void>
  fetch?: FetchLike
  createEventSource?: EventSourceFactory
  /** Share one connection between the tabs of the browser. Default `auto`. */
  sharing?: SharingOption
  /** Default: derived from the stream's URL, so two apps on one origin hold separate elections. */
  lockName?: string
  /** Default: derived from the stream's URL. */
  channelName?: string
  /** Leader heartbeat and silence before a takeover, in ms. Defaults 2000 and 6000. */
  election?: { heartbeatMs?: number; leaderTimeoutMs?: number; claimWindowMs?: number }
  /** Page events to follow; `false`: none. Default: the browser's. */
  lifecycle?: PageLifecycle | false
  /** Traces every decision; same shape as `@statesync/core`'s logger. Default: silent. */
  logger?: Logger
  /** Delay before recreating an EventSource that the browser closed for good. */
  backoff?: { minMs?: number; maxMs?: number }
  random?: () => number
  timers?: Timers
  network?: NetworkStatus
  /** Receives malformed events and failures inside listeners. Default `console.error`. */
  onError?: (error: unknown) => void
}

/** Reported after every write this client makes, successful or not. */
export interface WriteEvent {
  topic: string
  method: 'put' | 'patch' | 'action' | 'reset'
  /** The new snapshot, when the write succeeded. */
  snapshot?: Snapshot
  /** The failure, when it did not. */
  error?: unknown
}

/** Generates an id that is unique enough for a window: `w-` and 16 hex digits. */
export function generateSourceId(): string {
  const bytes = new Uint8Array(8)
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes)
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256)
  }
  return 'w-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

const sourceIdPattern = /^[\x20-\x7E]{1,128}$/

/**
 * The Pinion client of one page: a typed REST API over the topics of `Topics`,
 * one event stream for all of them (shared with the other tabs when the
 * browser can), and the subscriber and provider objects `@statesync/core`
 * expects. It imports nothing from Vue or Pinia.
 */
export class PinionClient<Topics extends TopicMap = TopicMap> {
  /** This window's `X-Source-Id`. */
  readonly sourceId: string
  readonly http: HttpApi
  readonly stream: Stream
  private readonly writeListeners = new Set<(event: WriteEvent) => void>()
  private readonly pending = new Map<string, number>()
  private readonly wakeListeners = new Set<(reason: WakeReason) => void>()
  private readonly onError: (error: unknown) => void
  readonly logger: Logger
  private readonly lifecycle: PageLifecycle | null
  private unsubscribeLifecycle: Unsubscribe | null = null
  private wanted = false

  constructor(options: ClientOptions = {}) {
    this.sourceId = options.sourceId ?? generateSourceId()
    if (!sourceIdPattern.test(this.sourceId)) {
      throw new TypeError('pinion: sourceId must be 1 to 128 printable ASCII characters')
    }
    this.logger = options.logger ?? noopLogger
    this.onError = options.onError ?? ((error) => this.logger.error('pinion: listener or stream failure', { error }))
    if (!options.onError && !options.logger) this.onError = (error) => console.error(error)
    this.http = new HttpApi({
      baseUrl: options.baseUrl,
      fetch: options.fetch,
      sourceId: this.sourceId,
      credentials: options.credentials,
      headers: options.headers,
      timeoutMs: options.timeoutMs,
    })

    const url = this.http.url('/api/events')
    const streamOptions = {
      url,
      createEventSource: options.createEventSource,
      withCredentials: this.http.credentials === 'include',
      backoff: options.backoff,
      random: options.random,
      timers: options.timers,
      network: options.network,
      onError: this.onError,
      logger: this.logger,
      reauthenticate: options.reauthenticate ?? (options.headers ? () => this.createSession() : undefined),
    }
    const sharing = options.sharing ?? 'auto'
    const shared = sharing === 'off' ? null : sharing === 'auto' ? browserSharing() : sharing
    const name = electionName(url)
    this.stream = shared
      ? new SharedEventStream({
          ...streamOptions,
          ...shared,
          ...options.election,
          lockName: options.lockName ?? `${name}:leader`,
          channelName: options.channelName ?? name,
        })
      : new EventStream(streamOptions)
    this.lifecycle = options.lifecycle === false ? null : (options.lifecycle ?? browserLifecycle())
  }

  /** The connection state: connecting, live, reconnecting or offline. */
  get state(): ConnectionState {
    return this.stream.state
  }

  /** Whether this tab owns the connection (`leader`), relays another's (`follower`), or has its own (`standalone`). */
  get role(): StreamRole {
    return this.stream.role
  }

  /**
   * Opens the event stream (subscribing does this by itself) and follows the
   * page's lifecycle. Does nothing where there is no EventSource (SSR).
   * After {@link close} it opens it again.
   */
  connect(): void {
    if (this.wanted) return
    this.wanted = true
    this.stream.start()
    if (this.lifecycle && !this.unsubscribeLifecycle) {
      this.unsubscribeLifecycle = this.lifecycle.subscribe({
        visible: () => {
          this.stream.reconnect?.()
          this.wake('visible')
        },
        online: () => this.wake('online'),
        hide: (persisted) => {
          // Hand the connection to another tab now, rather than when the
          // browser gets round to it; a page in the back/forward cache must
          // not hold the lock (nor a connection) anyway.
          this.logger.debug('page hidden: closing the stream', { persisted })
          this.stream.close()
        },
        restore: () => {
          this.logger.debug('page restored from the back/forward cache: reopening the stream')
          if (this.wanted) this.stream.start()
          this.wake('pageshow')
        },
      })
    }
  }

  /** Closes the event stream; a leader hands the connection to another tab. {@link connect} reopens it. */
  close(): void {
    this.wanted = false
    this.unsubscribeLifecycle?.()
    this.unsubscribeLifecycle = null
    this.stream.close()
  }

  /**
   * Listens to moments when the page may have missed something (it became
   * visible, the network came back, it returned from the back/forward
   * cache): synced stores refresh then, at the cost of a 304.
   */
  onWake(listener: (reason: WakeReason) => void): Unsubscribe {
    this.wakeListeners.add(listener)
    return () => {
      this.wakeListeners.delete(listener)
    }
  }

  private wake(reason: WakeReason): void {
    this.logger.debug('wake', { reason })
    for (const listener of [...this.wakeListeners]) {
      try {
        listener(reason)
      } catch (error) {
        this.onError(error)
      }
    }
  }

  onStateChange(listener: (state: ConnectionState) => void): Unsubscribe {
    return this.stream.listen({ state: listener })
  }

  onRoleChange(listener: (role: StreamRole) => void): Unsubscribe {
    return this.stream.listen({ role: listener })
  }

  /** Listens to invalidations, of one topic or of all; connects the stream. */
  onInvalidation(listener: (event: InvalidationEvent) => void, topic?: TopicName<Topics>): Unsubscribe {
    const off = this.stream.listen({
      invalidation: topic === undefined ? listener : (e) => e.topic === topic && listener(e),
    })
    this.connect()
    return off
  }

  /** Listens to `ready`: the stream is up to date, after connecting, reconnecting or a leader change. */
  onReady(listener: (event: ReadyEvent) => void): Unsubscribe {
    const off = this.stream.listen({ ready: listener })
    this.connect()
    return off
  }

  /**
   * Exchanges the bearer token of `headers` for a session cookie
   * (`POST /api/session`), so the EventSource, which cannot send headers,
   * acts as the same principal as reads and writes.
   */
  createSession(options?: { signal?: AbortSignal }): Promise<void> {
    return this.http.createSession(options)
  }

  /** Listens to the outcome of every write this client makes. */
  onWrite(listener: (event: WriteEvent) => void): Unsubscribe {
    this.writeListeners.add(listener)
    return () => {
      this.writeListeners.delete(listener)
    }
  }

  /** How many writes to `topic` are in flight from this client. */
  pendingWrites(topic: string): number {
    return this.pending.get(topic) ?? 0
  }

  /** An `@statesync/core` `InvalidationSubscriber` over the shared stream, optionally for one topic. */
  subscriber(topic?: TopicName<Topics>): InvalidationSubscriber {
    return {
      subscribe: async (handler) => this.onInvalidation(handler, topic),
    }
  }

  /** An `@statesync/core` `SnapshotProvider` for a topic (a 304 when unchanged). */
  provider<K extends TopicName<Topics>>(topic: K): SnapshotProvider<TopicData<Topics, K>> {
    return {
      getSnapshot: (options) => this.get(topic, options),
    }
  }

  /** Reads a topic's snapshot, sending `If-None-Match` once it holds one. */
  get<K extends TopicName<Topics>>(topic: K, options?: ReadOptions): Promise<Snapshot<TopicData<Topics, K>>> {
    return this.http.getSnapshot(topic, options)
  }

  /** Lists the topics the caller may read. */
  listTopics(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<TopicInfo[]> {
    return this.http.listTopics(options)
  }

  /** Replaces a topic's document; resolves to the new snapshot. */
  put<K extends TopicName<Topics>>(
    topic: K,
    data: TopicData<Topics, K>,
    options?: WriteOptions,
  ): Promise<Snapshot<TopicData<Topics, K>>> {
    return this.track(topic, 'put', () => this.http.put(topic, data, options))
  }

  /** Merges an RFC 7396 merge patch into a topic's document. */
  patch<K extends TopicName<Topics>>(
    topic: K,
    patch: MergePatch<TopicData<Topics, K>>,
    options?: WriteOptions,
  ): Promise<Snapshot<TopicData<Topics, K>>> {
    return this.track(topic, 'patch', () => this.http.patch(topic, patch, options))
  }

  /** Runs a named action of a topic. */
  action<K extends TopicName<Topics>, A extends ActionName<Topics, K>>(
    topic: K,
    action: A,
    input: ActionInput<Topics, K, A>,
    options?: WriteOptions,
  ): Promise<Snapshot<TopicData<Topics, K>>> {
    return this.track(topic, 'action', () => this.http.action(topic, action, input, options))
  }

  /** Resets a topic to its default document. */
  reset<K extends TopicName<Topics>>(topic: K, options?: WriteOptions): Promise<Snapshot<TopicData<Topics, K>>> {
    return this.track(topic, 'reset', () => this.http.reset(topic, options))
  }

  private async track<T>(
    topic: string,
    method: WriteEvent['method'],
    write: () => Promise<Snapshot<T>>,
  ): Promise<Snapshot<T>> {
    this.pending.set(topic, this.pendingWrites(topic) + 1)
    let event: WriteEvent
    try {
      const snapshot = await write()
      event = { topic, method, snapshot }
      return snapshot
    } catch (error) {
      event = { topic, method, error }
      throw error
    } finally {
      const left = this.pendingWrites(topic) - 1
      if (left > 0) this.pending.set(topic, left)
      else this.pending.delete(topic)
      this.emitWrite(event!)
    }
  }

  private emitWrite(event: WriteEvent): void {
    for (const listener of [...this.writeListeners]) {
      try {
        listener(event)
      } catch (error) {
        this.onError(error)
      }
    }
  }
}

/**
 * The BroadcastChannel (and lock) name of a stream URL: tabs talking to the
 * same stream share it; two apps on one origin with different servers or
 * prefixes do not.
 */
export function electionName(streamUrl: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href
  let absolute = streamUrl
  try {
    absolute = new URL(streamUrl, base).href
  } catch {
    // Relative and no page: the path alone still separates apps.
  }
  return `pinion:${absolute}`
}

/** Creates the client of one page, typed by its topic map. */
export function createClient<Topics extends TopicMap = TopicMap>(options?: ClientOptions): PinionClient<Topics> {
  return new PinionClient<Topics>(options)
}
