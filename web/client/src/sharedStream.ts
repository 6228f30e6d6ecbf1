import { EventStream, Listeners, type EventStreamOptions } from './eventStream'
import type {
  ConnectionState,
  InvalidationEvent,
  Stream,
  StreamListener,
  StreamRole,
  Unsubscribe,
} from './types'

/** The part of `navigator.locks` (the Web Locks API) the shared stream uses. */
export interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<unknown>
}

/** The part of `BroadcastChannel` the shared stream uses. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  close(): void
}

export type BroadcastChannelFactory = (name: string) => BroadcastChannelLike

export interface SharedEventStreamOptions extends Omit<EventStreamOptions, 'role' | 'initialCursor'> {
  locks: LockManagerLike
  createBroadcastChannel: BroadcastChannelFactory
  /** Name of the Web Lock whose holder owns the connection. */
  lockName?: string
  /** Name of the BroadcastChannel that relays the leader's events. */
  channelName?: string
}

/** What the leader relays to the other tabs. */
type RelayMessage =
  | { type: 'invalidation'; event: InvalidationEvent; cursor: string | null }
  | { type: 'ready'; cursor: string | null }
  | { type: 'state'; state: ConnectionState; cursor: string | null }
  | { type: 'hello' }
  | { type: 'leaving'; cursor: string | null }

const connectionStates: readonly string[] = ['connecting', 'live', 'reconnecting', 'offline']

/**
 * One event stream per browser instead of one per tab: browsers allow only six
 * HTTP/1.1 connections per origin, so the tabs elect a leader with the Web
 * Locks API and only the leader opens an EventSource. It relays every
 * invalidation, `ready` and connection state over a BroadcastChannel; the
 * other tabs (followers) mirror it and remember the last cursor relayed.
 *
 * When the leader's tab closes, the browser releases its lock and the next
 * tab waiting for it becomes leader, opening its EventSource with
 * `?lastEventId=<last cursor relayed>`: the server replays every topic changed
 * since, so no invalidation is lost in the hand-over.
 */
export class SharedEventStream implements Stream {
  private readonly options: SharedEventStreamOptions
  private readonly listeners: Listeners
  private channel: BroadcastChannelLike | null = null
  private inner: EventStream | null = null
  private abort: AbortController | null = null
  private releaseLock: (() => void) | null = null
  private started = false
  private closed = false
  private everReady = false
  private wasLive = false
  private _role: StreamRole = 'follower'
  private _state: ConnectionState = 'connecting'
  private _cursor: string | null = null

  constructor(options: SharedEventStreamOptions) {
    this.options = options
    this.listeners = new Listeners(options.onError ?? ((error) => console.error(error)))
  }

  get state(): ConnectionState {
    return this._state
  }

  get role(): StreamRole {
    return this._role
  }

  get cursor(): string | null {
    return this._cursor
  }

  listen(listener: StreamListener): Unsubscribe {
    return this.listeners.add(listener)
  }

  start(): void {
    if (this.started || this.closed) return
    this.started = true
    const channel = this.options.createBroadcastChannel(this.options.channelName ?? 'pinion-stream')
    this.channel = channel
    channel.addEventListener('message', (event) => this.onMessage(event.data as RelayMessage))
    // Ask a leader, if there is one, for its state and cursor.
    this.post({ type: 'hello' })

    const abort = new AbortController()
    this.abort = abort
    this.options.locks
      .request(this.options.lockName ?? 'pinion-stream-leader', { signal: abort.signal }, () => {
        if (this.closed) return Promise.resolve()
        return new Promise<void>((release) => {
          this.releaseLock = release
          this.lead()
        })
      })
      .catch((error: unknown) => {
        // An AbortError means close() withdrew the request: nothing to report.
        if (!this.closed) this.reportError(error)
      })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this._role === 'leader') this.post({ type: 'leaving', cursor: this._cursor })
    this.inner?.close()
    this.inner = null
    this.abort?.abort()
    this.releaseLock?.()
    this.releaseLock = null
    this.channel?.close()
    this.channel = null
  }

  /** This tab holds the lock: open the one connection, resuming from the last cursor seen. */
  private lead(): void {
    this.setRole('leader')
    const inner = new EventStream({
      ...this.options,
      role: 'leader',
      initialCursor: this._cursor,
    })
    this.inner = inner
    inner.listen({
      invalidation: (event) => {
        this._cursor = inner.cursor
        this.post({ type: 'invalidation', event, cursor: this._cursor })
        this.listeners.emit('invalidation', event)
      },
      ready: (event) => {
        this._cursor = event.cursor || inner.cursor
        this.post({ type: 'ready', cursor: this._cursor })
        this.emitReady()
      },
      state: (state) => {
        // A follower that just took over has been live before: say "reconnecting", not "connecting".
        const shown = state === 'connecting' && this.wasLive ? 'reconnecting' : state
        this.setState(shown)
        this.post({ type: 'state', state: shown, cursor: this._cursor })
      },
    })
    const initial = this.wasLive ? 'reconnecting' : 'connecting'
    this.setState(initial)
    this.post({ type: 'state', state: initial, cursor: this._cursor })
    inner.start()
  }

  private onMessage(message: RelayMessage): void {
    if (this.closed || typeof message !== 'object' || message === null) return
    if (message.type === 'hello') {
      if (this._role === 'leader') this.post({ type: 'state', state: this._state, cursor: this._cursor })
      return
    }
    // Only followers act on relayed events; a leader is their source.
    if (this._role === 'leader') return
    if ('cursor' in message && typeof message.cursor === 'string' && message.cursor) {
      this._cursor = message.cursor
    }
    switch (message.type) {
      case 'invalidation':
        this.listeners.emit('invalidation', message.event)
        break
      case 'ready':
        this.setState('live')
        this.emitReady()
        break
      case 'state':
        if (connectionStates.includes(message.state)) this.setState(message.state)
        break
      case 'leaving':
        // Another tab is about to take over; this one may be it.
        this.setState(this.wasLive ? 'reconnecting' : 'connecting')
        break
    }
  }

  private emitReady(): void {
    const resumed = this.everReady
    this.everReady = true
    this.listeners.emit('ready', { cursor: this._cursor ?? '', resumed })
  }

  private post(message: RelayMessage): void {
    try {
      this.channel?.postMessage(message)
    } catch (error) {
      this.reportError(error)
    }
  }

  private setRole(role: StreamRole): void {
    if (role === this._role) return
    this._role = role
    this.listeners.emit('role', role)
  }

  private setState(state: ConnectionState): void {
    if (state === this._state) return
    this._state = state
    if (state === 'live') this.wasLive = true
    this.listeners.emit('state', state)
  }

  private reportError(error: unknown): void {
    ;(this.options.onError ?? ((e: unknown) => console.error(e)))(error)
  }
}

/** The browser's Web Locks and BroadcastChannel, when both exist. */
export function browserSharing(): { locks: LockManagerLike; createBroadcastChannel: BroadcastChannelFactory } | null {
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManagerLike }).locks : undefined
  if (!locks || typeof BroadcastChannel === 'undefined') return null
  return { locks, createBroadcastChannel: (name) => new BroadcastChannel(name) }
}
