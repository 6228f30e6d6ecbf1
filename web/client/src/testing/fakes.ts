/**
 * Fakes of the browser APIs the client injects, for unit tests: no test DOM
 * has EventSource, Web Locks or a cross-context BroadcastChannel.
 */
import type { EventSourceLike, NetworkStatus, Timers } from '../eventStream.js'
import type { BroadcastChannelLike, LockManagerLike } from '../sharedStream.js'
import type { Unsubscribe } from '../types.js'

/** An invalidation as it crosses the wire (revisions are plain strings there). */
export interface WireInvalidation {
  topic: string
  revision: string
  sourceId?: string
  timestampMs?: number
}

type Handler = (event: MessageEvent) => void

/** An EventSource whose events the test fires by hand. */
export class FakeEventSource implements EventSourceLike {
  readyState = 0
  closed = false
  private readonly handlers = new Map<string, Set<Handler>>()

  constructor(
    readonly url: string,
    readonly withCredentials = false,
  ) {}

  addEventListener(type: string, listener: Handler): void {
    let set = this.handlers.get(type)
    if (!set) this.handlers.set(type, (set = new Set()))
    set.add(listener)
  }

  close(): void {
    this.readyState = 2
    this.closed = true
  }

  /** Dispatches an event as the browser would (`lastEventId` carries the id). */
  dispatch(type: string, data = '', id = ''): void {
    if (this.closed) return
    const event = { type, data, lastEventId: id } as unknown as MessageEvent
    for (const handler of this.handlers.get(type) ?? []) handler(event)
  }

  ready(cursor: string): void {
    this.readyState = 1
    this.dispatch('ready', JSON.stringify({ cursor }), cursor)
  }

  invalidation(event: WireInvalidation, id: string): void {
    this.dispatch('invalidation', JSON.stringify(event), id)
  }

  /** A network error: the browser retries by itself (CONNECTING) or, when `fatal`, gives up (CLOSED). */
  fail(fatal = false): void {
    this.readyState = fatal ? 2 : 0
    this.dispatch('error')
  }
}

/** A factory that records every EventSource it creates. */
export function eventSourceFactory(): {
  create: (url: string, init?: { withCredentials?: boolean }) => FakeEventSource
  instances: FakeEventSource[]
} {
  const instances: FakeEventSource[] = []
  return {
    instances,
    create(url, init) {
      const source = new FakeEventSource(url, init?.withCredentials ?? false)
      instances.push(source)
      return source
    },
  }
}

/** Timers and a clock the test advances by hand. */
export class FakeTimers implements Timers {
  private next = 1
  private clock = 0
  readonly pending = new Map<number, { fn: () => void; ms: number; due: number }>()

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++
    this.pending.set(id, { fn, ms, due: this.clock + ms })
    return id
  }

  /** The fake clock, in ms. */
  now = (): number => this.clock

  /** Moves the clock forward, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.clock + ms
    for (;;) {
      let first: [number, { fn: () => void; due: number }] | undefined
      for (const entry of this.pending) if (entry[1].due <= end && (!first || entry[1].due < first[1].due)) first = entry
      if (!first) break
      this.pending.delete(first[0])
      this.clock = Math.max(this.clock, first[1].due)
      first[1].fn()
    }
    this.clock = end
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number)
  }

  /** The delays of the pending timers. */
  delays(): number[] {
    return [...this.pending.values()].map((t) => t.ms)
  }

  /** Runs every pending timer. */
  runAll(): void {
    const due = [...this.pending.entries()]
    this.pending.clear()
    for (const [, t] of due) t.fn()
  }
}

/** A network whose online status the test sets. */
export class FakeNetwork implements NetworkStatus {
  private listeners = new Set<(online: boolean) => void>()
  constructor(private isOnline = true) {}

  online(): boolean {
    return this.isOnline
  }

  subscribe(listener: (online: boolean) => void): Unsubscribe {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  set(online: boolean): void {
    this.isOnline = online
    for (const l of [...this.listeners]) l(online)
  }
}

/**
 * Web Locks for several simulated tabs: exclusive, granted in request order,
 * abortable, and stealable (the holder's request rejects with an AbortError
 * and the lock goes to the thief at once, as the spec says).
 */
export class FakeLocks {
  private readonly holders = new Map<string, { reject: (error: unknown) => void; token: object }>()
  private readonly queues = new Map<string, Array<() => void>>()

  get held(): { has(name: string): boolean } {
    return { has: (name) => this.holders.has(name) }
  }

  /** A lock manager whose every request rejects, as in a sandboxed frame. */
  static unavailable(): LockManagerLike {
    return {
      request: () => Promise.reject(Object.assign(new Error('Access denied'), { name: 'SecurityError' })),
    }
  }

  /** The lock manager of one tab. */
  manager(): LockManagerLike {
    return {
      request: (name, options, callback) =>
        new Promise((resolve, reject) => {
          const grant = () => {
            const token = {}
            this.holders.set(name, { reject, token })
            const done = () => {
              if (this.holders.get(name)?.token !== token) return
              this.holders.delete(name)
              this.queues.get(name)?.shift()?.()
            }
            Promise.resolve()
              .then(() => callback({ name }))
              .then(
                (v) => {
                  if (this.holders.get(name)?.token === token) resolve(v)
                  done()
                },
                (e) => {
                  reject(e)
                  done()
                },
              )
          }
          if (options.steal) {
            const holder = this.holders.get(name)
            this.holders.delete(name)
            holder?.reject(Object.assign(new Error('lock stolen'), { name: 'AbortError' }))
            grant()
            return
          }
          if (!this.holders.has(name)) {
            grant()
            return
          }
          const queue = this.queues.get(name) ?? []
          this.queues.set(name, queue)
          queue.push(grant)
          options.signal?.addEventListener('abort', () => {
            const i = queue.indexOf(grant)
            if (i >= 0) {
              queue.splice(i, 1)
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))
            }
          })
        }),
    }
  }
}

/** BroadcastChannels of several simulated tabs: delivers to every other channel of the same name, asynchronously. */
export class FakeBroadcastHub {
  private readonly channels = new Set<FakeChannel>()

  create = (name: string): BroadcastChannelLike => {
    const channel = new FakeChannel(name, this)
    this.channels.add(channel)
    return channel
  }

  deliver(from: FakeChannel, message: unknown): void {
    const copy = structuredClone(message)
    for (const channel of this.channels) {
      if (channel !== from && channel.name === from.name) {
        queueMicrotask(() => channel.receive(copy))
      }
    }
  }

  remove(channel: FakeChannel): void {
    this.channels.delete(channel)
  }
}

class FakeChannel implements BroadcastChannelLike {
  private readonly listeners = new Set<Handler>()
  private closed = false

  constructor(
    readonly name: string,
    private readonly hub: FakeBroadcastHub,
  ) {}

  postMessage(message: unknown): void {
    if (this.closed) throw new Error('InvalidStateError: channel closed')
    this.hub.deliver(this, message)
  }

  addEventListener(_type: 'message', listener: Handler): void {
    this.listeners.add(listener)
  }

  receive(data: unknown): void {
    if (this.closed) return
    for (const l of this.listeners) l({ data } as MessageEvent)
  }

  close(): void {
    this.closed = true
    this.hub.remove(this)
  }
}

/** Waits for queued microtasks and promise callbacks to run. */
export async function flush(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((r) => setTimeout(r, 0))
}

/** A recorded request. */
export interface Recorded {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
  signal?: AbortSignal
  credentials?: RequestCredentials
}

/** A fake `fetch` that records requests and answers with `respond`. */
export function fakeFetch(respond: (req: Recorded) => Response | Promise<Response>) {
  const calls: Recorded[] = []
  const fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((v, k) => (headers[k.toLowerCase()] = v))
    const req: Recorded = {
      url,
      method: init.method ?? 'GET',
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      signal: init.signal ?? undefined,
      credentials: init.credentials,
    }
    calls.push(req)
    if (init.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' })
    return respond(req)
  }
  return { fetch, calls }
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  })
}

/** A promise the test resolves by hand. */
export function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
