import { isAbortError } from './errors.js'
import { EventStream, Listeners, hasEventSource, type EventStreamOptions, type Timers } from './eventStream.js'
import { noopLogger, type Logger } from './logger.js'
import type {
  ConnectionState,
  InvalidationEvent,
  Stream,
  StreamListener,
  StreamRole,
  Unsubscribe,
} from './types.js'

/** The part of `navigator.locks` (the Web Locks API) the shared stream uses. */
export interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal; steal?: boolean },
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
  /** Web Locks; null or absent: elect over the BroadcastChannel alone. */
  locks?: LockManagerLike | null
  createBroadcastChannel: BroadcastChannelFactory
  /** Name of the Web Lock whose holder owns the connection. */
  lockName?: string
  /** Name of the BroadcastChannel that relays the leader's events. */
  channelName?: string
  /** How often the leader says it is alive. Default 2000 ms. */
  heartbeatMs?: number
  /** Silence after which a visible follower takes over (hidden ones wait twice as long). Default 3 heartbeats. */
  leaderTimeoutMs?: number
  /** How long a tab waits for objections before leading without Web Locks. Default 300 ms. */
  claimWindowMs?: number
  /** Whether this tab is visible; default `document.visibilityState`. */
  visible?: () => boolean
  /** Clock; default `Date.now`. */
  now?: () => number
  /** This tab's id in the election; generated when absent. */
  tabId?: string
}

/** What tabs say to each other. Every message carries the sender's tab id. */
type RelayMessage = { from: string } & Body

type Body =
  | { type: 'invalidation'; event: InvalidationEvent; cursor: string | null }
  | { type: 'ready'; cursor: string | null }
  /** Sent on every change and as the leader's heartbeat. */
  | { type: 'state'; state: ConnectionState; cursor: string | null }
  | { type: 'hello' }
  | { type: 'leaving'; cursor: string | null }
  /** Without Web Locks: "I will lead unless someone objects". */
  | { type: 'claim' }

const connectionStates: readonly string[] = ['connecting', 'live', 'reconnecting', 'offline']

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

function documentVisible(): boolean {
  const doc = (globalThis as { document?: { visibilityState?: string } }).document
  return doc?.visibilityState !== 'hidden'
}

function randomId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36)
}

/**
 * One event stream per browser instead of one per tab: browsers allow only six
 * HTTP/1.1 connections per origin, so the tabs elect a leader and only the
 * leader opens an EventSource. It relays every invalidation, `ready` and
 * connection state over a BroadcastChannel, and repeats its state as a
 * heartbeat; the other tabs (followers) mirror it and remember the last
 * cursor relayed.
 *
 * The election uses a Web Lock when the browser has one: the holder leads;
 * when its tab closes or crashes the browser releases the lock and the next
 * tab takes over. A leader that is alive but silent (a frozen or suspended
 * tab, a paused debugger) keeps its lock, so a follower that hears no
 * heartbeat for `leaderTimeoutMs` steals it (visible tabs first). Without Web
 * Locks (or when `request` rejects: file://, sandboxed frames) the tabs elect
 * over the channel: a tab that hears no leader claims, and of competing
 * claims or leaders the lowest tab id wins.
 *
 * A new leader opens its EventSource with `?lastEventId=<last cursor
 * relayed>`: the server replays every topic changed since, so nothing is lost
 * in the hand-over.
 */
export class SharedEventStream implements Stream {
  private readonly options: SharedEventStreamOptions
  private readonly listeners: Listeners
  private readonly timers: Timers
  private readonly logger: Logger
  private readonly now: () => number
  private readonly visible: () => boolean
  private readonly heartbeatMs: number
  private readonly leaderTimeoutMs: number
  private readonly claimWindowMs: number
  readonly tabId: string
  private locks: LockManagerLike | null
  private channel: BroadcastChannelLike | null = null
  private inner: EventStream | null = null
  private lockRequest: { id: number; abort: AbortController; held: boolean; release: (() => void) | null } | null = null
  private lockSeq = 0
  private tick: unknown = null
  private claimTimer: unknown = null
  private started = false
  private everReady = false
  private wasLive = false
  private lastHeard = 0
  private _role: StreamRole = 'follower'
  private _state: ConnectionState = 'connecting'
  private _cursor: string | null = null

  constructor(options: SharedEventStreamOptions) {
    this.options = options
    this.listeners = new Listeners(options.onError ?? ((error) => console.error(error)))
    this.timers = options.timers ?? defaultTimers
    this.logger = options.logger ?? noopLogger
    this.now = options.now ?? Date.now
    this.visible = options.visible ?? documentVisible
    this.heartbeatMs = options.heartbeatMs ?? 2000
    this.leaderTimeoutMs = options.leaderTimeoutMs ?? this.heartbeatMs * 3
    this.claimWindowMs = options.claimWindowMs ?? 300
    this.tabId = options.tabId ?? randomId()
    this.locks = options.locks ?? null
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

  /** `locks` or `channel`: how this tab takes part in the election. */
  get election(): 'locks' | 'channel' {
    return this.locks ? 'locks' : 'channel'
  }

  listen(listener: StreamListener): Unsubscribe {
    return this.listeners.add(listener)
  }

  /** Joins the election. Idempotent; after {@link close} it joins again. */
  start(): void {
    if (this.started) return
    if (!this.options.createEventSource && !hasEventSource()) {
      this.logger.debug('stream: no EventSource in this runtime (server-side rendering?); not connecting')
      return
    }
    this.started = true
    const channel = this.options.createBroadcastChannel(this.options.channelName ?? 'pinion-stream')
    this.channel = channel
    channel.addEventListener('message', (event) => {
      if (this.channel === channel) this.onMessage(event.data as RelayMessage)
    })
    // Ask a leader, if there is one, for its state and cursor.
    this.lastHeard = this.now()
    this.post({ type: 'hello' })
    if (this.locks) this.requestLock(false)
    else this.scheduleClaim()
    this.scheduleTick()
  }

  /** Leaves: a leader hands the connection over. {@link start} joins again. */
  close(): void {
    if (!this.started) return
    this.started = false
    if (this._role === 'leader') this.post({ type: 'leaving', cursor: this._cursor })
    this.stopLeading()
    this.dropLockRequest()
    this.cancel('tick')
    this.cancel('claimTimer')
    this.channel?.close()
    this.channel = null
    this.setRole('follower')
  }

  /** The leader reconnects at once; a follower checks on its leader. */
  reconnect(): void {
    if (!this.started) return
    if (this._role === 'leader') this.inner?.reconnect()
    else this.post({ type: 'hello' })
  }

  private requestLock(steal: boolean): void {
    const locks = this.locks
    if (!locks) return
    this.dropLockRequest()
    const id = ++this.lockSeq
    const abort = new AbortController()
    const request = { id, abort, held: false, release: null as (() => void) | null }
    this.lockRequest = request
    const name = this.options.lockName ?? 'pinion-stream-leader'
    // `steal` and `signal` may not be combined; a steal is granted at once anyway.
    const options = steal ? { steal: true } : { signal: abort.signal }
    let promise: Promise<unknown>
    try {
      promise = locks.request(name, options, () => {
        if (this.lockRequest !== request || !this.started) return Promise.resolve()
        request.held = true
        return new Promise<void>((release) => {
          request.release = release
          this.lead()
        })
      })
    } catch (error) {
      promise = Promise.reject(error)
    }
    promise.then(
      () => {
        if (this.lockRequest === request && request.held && this.started) this.lockLost('released')
      },
      (error: unknown) => {
        if (this.lockRequest !== request || !this.started) return
        if (request.held) {
          // Another tab stole the lock: it thought this one was dead.
          this.lockLost('stolen')
        } else if (!isAbortError(error)) {
          // No usable Web Locks here (file://, a sandboxed frame): elect over the channel.
          this.logger.warn('election: Web Locks unavailable; electing over the BroadcastChannel', { error })
          this.locks = null
          this.lockRequest = null
          this.scheduleClaim()
        }
      },
    )
  }

  private lockLost(why: string): void {
    this.logger.warn(`election: lock ${why}; following`, { tabId: this.tabId })
    this.lockRequest = null
    this.stopLeading()
    this.lastHeard = this.now()
    this.requestLock(false)
  }

  private dropLockRequest(): void {
    const request = this.lockRequest
    this.lockRequest = null
    if (!request) return
    request.abort.abort()
    request.release?.()
  }

  /** Without Web Locks: claim the lead after a quiet window, unless a leader or a lower id speaks up. */
  private scheduleClaim(): void {
    if (this.claimTimer !== null || this._role === 'leader' || !this.started) return
    this.claimTimer = this.timers.setTimeout(() => {
      this.claimTimer = null
      if (!this.started || this._role === 'leader') return
      this.post({ type: 'claim' })
      this.claimTimer = this.timers.setTimeout(() => {
        this.claimTimer = null
        if (!this.started || this._role === 'leader') return
        this.lead()
      }, this.claimWindowMs)
    }, this.claimWindowMs + Math.floor(Math.random() * 50))
  }

  private scheduleTick(): void {
    this.tick = this.timers.setTimeout(() => {
      this.tick = null
      if (!this.started) return
      this.onTick()
      this.scheduleTick()
    }, this.heartbeatMs)
  }

  private onTick(): void {
    if (this._role === 'leader') {
      this.post({ type: 'state', state: this._state, cursor: this._cursor })
      return
    }
    const silence = this.now() - this.lastHeard
    const limit = this.visible() ? this.leaderTimeoutMs : this.leaderTimeoutMs * 2
    if (silence < limit) return
    this.lastHeard = this.now()
    if (this.locks) {
      this.logger.warn('election: the leader tab does not answer; taking over', { silenceMs: silence, tabId: this.tabId })
      this.requestLock(true)
    } else {
      this.logger.debug('election: no leader heard; claiming', { silenceMs: silence, tabId: this.tabId })
      this.scheduleClaim()
    }
  }

  private cancel(which: 'tick' | 'claimTimer'): void {
    const handle = this[which]
    if (handle !== null) this.timers.clearTimeout(handle)
    this[which] = null
  }

  /** This tab leads: open the one connection, resuming from the last cursor seen. */
  private lead(): void {
    if (this._role === 'leader' || !this.started) return
    this.cancel('claimTimer')
    this.logger.debug('election: leading', { tabId: this.tabId, election: this.election, cursor: this._cursor })
    this.setRole('leader')
    const inner = new EventStream({
      ...this.options,
      role: 'leader',
      initialCursor: this._cursor,
    })
    this.inner = inner
    inner.listen({
      invalidation: (event) => {
        if (this.inner !== inner) return
        this._cursor = inner.cursor
        this.post({ type: 'invalidation', event, cursor: this._cursor })
        this.listeners.emit('invalidation', event)
      },
      ready: (event) => {
        if (this.inner !== inner) return
        this._cursor = event.cursor || inner.cursor
        this.post({ type: 'ready', cursor: this._cursor })
        this.setState('live')
        this.emitReady()
      },
      state: (state) => {
        if (this.inner !== inner) return
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

  private stopLeading(): void {
    this.inner?.close()
    this.inner = null
    if (this._role === 'leader') {
      this.setRole('follower')
      this.setState(this.wasLive ? 'reconnecting' : 'connecting')
    }
  }

  private onMessage(message: RelayMessage): void {
    if (!this.started || typeof message !== 'object' || message === null || message.from === this.tabId) return
    if (message.type === 'hello') {
      if (this._role === 'leader') this.post({ type: 'state', state: this._state, cursor: this._cursor })
      return
    }
    if (message.type === 'claim') {
      if (this._role === 'leader') {
        // A leader is here: the claimant will hear it and stand down.
        this.post({ type: 'state', state: this._state, cursor: this._cursor })
      } else if (this.claimTimer !== null && message.from < this.tabId) {
        this.cancel('claimTimer')
        this.lastHeard = this.now()
      }
      return
    }
    if (this._role === 'leader') {
      // Two leaders: only possible without Web Locks (or for a moment after a
      // steal). Without locks, the lower id keeps the connection.
      if (!this.locks && message.type !== 'leaving' && message.from < this.tabId) {
        this.logger.debug('election: a leader with a lower id exists; following', { other: message.from })
        this.stopLeading()
        this.lastHeard = this.now()
      } else {
        return
      }
    }
    this.lastHeard = this.now()
    if (message.type !== 'leaving') this.cancel('claimTimer')
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
        if (!this.locks) this.scheduleClaim()
        break
    }
  }

  private emitReady(): void {
    const resumed = this.everReady
    this.everReady = true
    this.listeners.emit('ready', { cursor: this._cursor ?? '', resumed })
  }

  private post(message: Body): void {
    try {
      this.channel?.postMessage({ ...message, from: this.tabId })
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

/**
 * The browser's BroadcastChannel and, when present, its Web Locks; null
 * without BroadcastChannel (then each tab has its own stream).
 */
export function browserSharing(): { locks: LockManagerLike | null; createBroadcastChannel: BroadcastChannelFactory } | null {
  if (typeof BroadcastChannel === 'undefined') return null
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManagerLike }).locks : undefined
  return { locks: locks ?? null, createBroadcastChannel: (name) => new BroadcastChannel(name) }
}
