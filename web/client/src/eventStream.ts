import { noopLogger, type Logger } from './logger.js'
import { isRevision } from './revision.js'
import type {
  ConnectionState,
  InvalidationEvent,
  ReadyEvent,
  Stream,
  StreamListener,
  StreamRole,
  Unsubscribe,
} from './types.js'

/** The part of the browser's `EventSource` the stream uses; tests pass a fake. */
export interface EventSourceLike {
  readonly readyState: number
  addEventListener(type: string, listener: (event: MessageEvent) => void): void
  close(): void
}

/** Creates an EventSource for a URL (`init.withCredentials` as the constructor takes it). */
export type EventSourceFactory = (url: string, init?: { withCredentials?: boolean }) => EventSourceLike

/** The event a server sends before ending a stream whose credential expired. */
export const REAUTH_EVENT = 'reauthenticate'

/** `EventSource.CLOSED`: the browser gave up and will not reconnect by itself. */
export const EVENTSOURCE_CLOSED = 2

/** Whether the browser thinks it is online, and a way to hear when that changes. */
export interface NetworkStatus {
  online(): boolean
  subscribe(listener: (online: boolean) => void): Unsubscribe
}

/** Timer functions; tests may pass fakes. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface EventStreamOptions {
  /** URL of `/api/events`, with any `topic` parameters. */
  url: string
  createEventSource?: EventSourceFactory
  /** Cursor to resume from on the first connection (sent as `?lastEventId=`). */
  initialCursor?: string | null
  /** Delay before recreating a CLOSED EventSource: exponential from `minMs` to `maxMs`, jittered. */
  backoff?: { minMs?: number; maxMs?: number }
  random?: () => number
  timers?: Timers
  network?: NetworkStatus
  /** The role this stream reports; a shared stream's leader says `leader`. */
  role?: StreamRole
  /** Called with malformed events and listener failures. */
  onError?: (error: unknown) => void
  /** Open the default EventSource with `withCredentials` (a server on another origin). */
  withCredentials?: boolean
  /**
   * Renews the credential when the server ends the stream with a
   * re-authentication event (the credential expired); the stream then
   * reconnects from its cursor, so no invalidation is lost.
   */
  reauthenticate?: () => Promise<void>
  /** Name of that event. Default {@link REAUTH_EVENT}. */
  reauthEvent?: string
  logger?: Logger
}

/** Whether this runtime has an `EventSource` (a browser; not Node during SSR). */
export function hasEventSource(): boolean {
  return typeof (globalThis as { EventSource?: unknown }).EventSource === 'function'
}

/** The browser's own network status (`navigator.onLine` and the `online`/`offline` events). */
export function browserNetwork(): NetworkStatus {
  const target = typeof window !== 'undefined' ? window : undefined
  return {
    online: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
    subscribe(listener) {
      if (!target) return () => {}
      const on = () => listener(true)
      const off = () => listener(false)
      target.addEventListener('online', on)
      target.addEventListener('offline', off)
      return () => {
        target.removeEventListener('online', on)
        target.removeEventListener('offline', off)
      }
    },
  }
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** Appends `?lastEventId=<cursor>` (or `&...`) to a URL. */
export function withCursor(url: string, cursor: string | null): string {
  if (!cursor) return url
  return `${url}${url.includes('?') ? '&' : '?'}lastEventId=${encodeURIComponent(cursor)}`
}

/** Parses the data of an `invalidation` event, or throws. */
export function parseInvalidation(data: string): InvalidationEvent {
  const raw = JSON.parse(data) as Record<string, unknown>
  if (typeof raw !== 'object' || raw === null) throw new TypeError('pinion: invalidation is not an object')
  if (typeof raw.topic !== 'string' || raw.topic === '') throw new TypeError('pinion: invalidation without a topic')
  if (!isRevision(raw.revision)) throw new TypeError(`pinion: invalidation with an invalid revision ${JSON.stringify(raw.revision)}`)
  const event: InvalidationEvent = { topic: raw.topic, revision: raw.revision }
  if (typeof raw.sourceId === 'string') event.sourceId = raw.sourceId
  if (typeof raw.timestampMs === 'number') event.timestampMs = raw.timestampMs
  return event
}

/** Fans events out to a set of listeners, isolating their failures. */
export class Listeners {
  private readonly set = new Set<StreamListener>()
  constructor(private readonly onError: (error: unknown) => void) {}

  add(listener: StreamListener): Unsubscribe {
    this.set.add(listener)
    return () => {
      this.set.delete(listener)
    }
  }

  emit<K extends keyof StreamListener>(kind: K, value: Parameters<NonNullable<StreamListener[K]>>[0]): void {
    for (const listener of [...this.set]) {
      try {
        ;(listener[kind] as ((v: typeof value) => void) | undefined)?.(value)
      } catch (error) {
        this.onError(error)
      }
    }
  }
}

/**
 * One EventSource on `/api/events` for this tab, carrying every topic.
 *
 * While the EventSource reconnects by itself (sending `Last-Event-ID`), the
 * state is `reconnecting`. When the browser gives up for good (a non-200
 * such as a proxy's 502 makes the EventSource CLOSED), the stream recreates
 * it after a jittered, growing delay with `?lastEventId=<last cursor>`, so
 * nothing is lost either way. The state is `live` only once the server's
 * `ready` event says the stream is up to date.
 */
export class EventStream implements Stream {
  private readonly options: EventStreamOptions
  private readonly listeners: Listeners
  private readonly createEventSource: EventSourceFactory
  private readonly timers: Timers
  private readonly network: NetworkStatus
  private readonly random: () => number
  private readonly logger: Logger
  private source: EventSourceLike | null = null
  private timer: unknown = null
  private attempts = 0
  private started = false
  private everReady = false
  private connectionReady = false
  private unsubscribeNetwork: Unsubscribe | null = null
  private _state: ConnectionState = 'connecting'
  private _cursor: string | null

  constructor(options: EventStreamOptions) {
    this.options = options
    this.listeners = new Listeners(options.onError ?? ((error) => console.error(error)))
    this.logger = options.logger ?? noopLogger
    this.createEventSource =
      options.createEventSource ??
      ((url, init) => new EventSource(url, init) as unknown as EventSourceLike)
    this.timers = options.timers ?? defaultTimers
    this.network = options.network ?? browserNetwork()
    this.random = options.random ?? Math.random
    this._cursor = options.initialCursor ?? null
  }

  get state(): ConnectionState {
    return this._state
  }

  get role(): StreamRole {
    return this.options.role ?? 'standalone'
  }

  get cursor(): string | null {
    return this._cursor
  }

  listen(listener: StreamListener): Unsubscribe {
    return this.listeners.add(listener)
  }

  /**
   * Starts connecting. Idempotent; after {@link close} it starts again,
   * resuming from the last cursor. Without an EventSource (SSR) it does nothing.
   */
  start(): void {
    if (this.started) return
    if (!this.options.createEventSource && !hasEventSource()) {
      this.logger.debug('stream: no EventSource in this runtime (server-side rendering?); not connecting')
      return
    }
    this.started = true
    this.unsubscribeNetwork = this.network.subscribe((online) => this.onNetwork(online))
    if (!this.network.online()) this.setState('offline')
    this.open()
  }

  /** Closes the connection; {@link start} may open it again. */
  close(): void {
    if (!this.started) return
    this.started = false
    this.unsubscribeNetwork?.()
    this.unsubscribeNetwork = null
    this.cancelTimer()
    this.source?.close()
    this.source = null
    this.connectionReady = false
  }

  /** Unless the stream is up, opens a new connection at once (after a wake-up, say), resuming from the cursor. */
  reconnect(): void {
    if (!this.started || this.connectionReady) return
    this.cancelTimer()
    this.source?.close()
    this.source = null
    this.open()
  }

  private open(): void {
    this.timer = null
    if (!this.started) return
    this.connectionReady = false
    const url = withCursor(this.options.url, this._cursor)
    this.logger.debug('stream: connecting', { url })
    const source = this.createEventSource(url, { withCredentials: this.options.withCredentials ?? false })
    this.source = source
    source.addEventListener('ready', (event) => {
      if (source === this.source) this.onReady(event)
    })
    source.addEventListener('invalidation', (event) => {
      if (source === this.source) this.onInvalidation(event)
    })
    source.addEventListener('error', () => {
      if (source === this.source) this.onError(source)
    })
    source.addEventListener(this.options.reauthEvent ?? REAUTH_EVENT, () => {
      if (source === this.source) this.onReauth(source)
    })
  }

  private onReady(event: MessageEvent): void {
    let cursor = event.lastEventId
    try {
      const data = JSON.parse(String(event.data)) as { cursor?: unknown }
      if (!cursor && typeof data.cursor === 'string') cursor = data.cursor
    } catch (error) {
      this.reportError(error)
    }
    if (cursor) this._cursor = cursor
    this.attempts = 0
    this.connectionReady = true
    this.logger.debug('stream: ready', { cursor: this._cursor })
    const resumed = this.everReady
    this.everReady = true
    this.setState(this.network.online() ? 'live' : 'offline')
    this.listeners.emit('ready', { cursor: this._cursor ?? '', resumed } satisfies ReadyEvent)
  }

  private onInvalidation(event: MessageEvent): void {
    if (event.lastEventId) this._cursor = event.lastEventId
    let parsed: InvalidationEvent
    try {
      parsed = parseInvalidation(String(event.data))
    } catch (error) {
      this.reportError(error)
      return
    }
    this.listeners.emit('invalidation', parsed)
  }

  private onError(source: EventSourceLike): void {
    this.connectionReady = false
    this.logger.debug('stream: connection error', { readyState: source.readyState })
    if (source.readyState === EVENTSOURCE_CLOSED) {
      // The browser will not retry (a non-200, a wrong content type): we do.
      source.close()
      this.source = null
      this.scheduleReopen()
    }
    this.setState(this.disconnectedState())
  }

  /** The credential expired: renew it, then resume from the cursor. */
  private onReauth(source: EventSourceLike): void {
    this.logger.debug('stream: the server asks to re-authenticate', { cursor: this._cursor })
    source.close()
    this.source = null
    this.connectionReady = false
    this.setState(this.disconnectedState())
    const renew = this.options.reauthenticate ?? (() => Promise.resolve())
    renew().then(
      () => {
        if (this.started && this.source === null && this.timer === null) this.open()
      },
      (error: unknown) => {
        this.reportError(error)
        this.scheduleReopen()
      },
    )
  }

  private scheduleReopen(): void {
    if (!this.started || this.timer !== null) return
    const minMs = this.options.backoff?.minMs ?? 1000
    const maxMs = this.options.backoff?.maxMs ?? 30000
    const base = Math.min(maxMs, minMs * 2 ** this.attempts)
    const delay = Math.round(base / 2 + (this.random() * base) / 2)
    this.attempts++
    this.logger.debug('stream: closed by the browser; reopening after a delay', { delayMs: delay, attempt: this.attempts })
    this.timer = this.timers.setTimeout(() => this.open(), delay)
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }

  private onNetwork(online: boolean): void {
    if (!this.started) return
    if (!online) {
      this.setState('offline')
      return
    }
    if (this.source === null && this.timer !== null) {
      // Waiting out a backoff: the network is back, so try at once.
      this.cancelTimer()
      this.open()
    }
    this.setState(this.connectionReady ? 'live' : this.disconnectedState())
  }

  private disconnectedState(): ConnectionState {
    if (!this.network.online()) return 'offline'
    return this.everReady ? 'reconnecting' : 'connecting'
  }

  private setState(state: ConnectionState): void {
    if (state === this._state) return
    this._state = state
    this.listeners.emit('state', state)
  }

  private reportError(error: unknown): void {
    ;(this.options.onError ?? ((e: unknown) => console.error(e)))(error)
  }
}
