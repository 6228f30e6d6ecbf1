import { EventStream, type EventSourceFactory, type NetworkStatus, type Timers } from './eventStream'
import { HttpApi, type FetchLike, type WriteOptions } from './http'
import {
  SharedEventStream,
  browserSharing,
  type BroadcastChannelFactory,
  type LockManagerLike,
} from './sharedStream'
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
} from './types'

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
  /** Web Locks + BroadcastChannel when the browser has both, else one stream per tab. */
  | 'auto'
  /** One stream per tab. */
  | 'off'
  /** Explicit implementations (tests pass fakes). */
  | { locks: LockManagerLike; createBroadcastChannel: BroadcastChannelFactory }

export interface ClientOptions {
  /** Origin (and path prefix) of the server; `''`, the default, is the page's own origin. */
  baseUrl?: string
  /** This window's id, sent as `X-Source-Id` with every write. Generated when absent. */
  sourceId?: string
  fetch?: FetchLike
  createEventSource?: EventSourceFactory
  /** Share one connection between the tabs of the browser. Default `auto`. */
  sharing?: SharingOption
  lockName?: string
  channelName?: string
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

const sourceIdPattern = /^[\x21-\x7e]{1,128}$/

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
  private readonly onError: (error: unknown) => void

  constructor(options: ClientOptions = {}) {
    this.sourceId = options.sourceId ?? generateSourceId()
    if (!sourceIdPattern.test(this.sourceId)) {
      throw new TypeError('pinion: sourceId must be 1 to 128 printable ASCII characters')
    }
    this.onError = options.onError ?? ((error) => console.error(error))
    this.http = new HttpApi({ baseUrl: options.baseUrl, fetch: options.fetch, sourceId: this.sourceId })

    const crossOrigin = Boolean(options.baseUrl)
    const streamOptions = {
      url: this.http.url('/api/events'),
      createEventSource:
        options.createEventSource ??
        ((url: string) => new EventSource(url, { withCredentials: crossOrigin })),
      backoff: options.backoff,
      random: options.random,
      timers: options.timers,
      network: options.network,
      onError: this.onError,
    }
    const sharing = options.sharing ?? 'auto'
    const shared = sharing === 'off' ? null : sharing === 'auto' ? browserSharing() : sharing
    this.stream = shared
      ? new SharedEventStream({
          ...streamOptions,
          ...shared,
          lockName: options.lockName,
          channelName: options.channelName,
        })
      : new EventStream(streamOptions)
  }

  /** The connection state: connecting, live, reconnecting or offline. */
  get state(): ConnectionState {
    return this.stream.state
  }

  /** Whether this tab owns the connection (`leader`), relays another's (`follower`), or has its own (`standalone`). */
  get role(): StreamRole {
    return this.stream.role
  }

  /** Opens the event stream. Subscribing does this by itself. */
  connect(): void {
    this.stream.start()
  }

  /** Closes the event stream; a leader hands the connection to another tab. */
  close(): void {
    this.stream.close()
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
  get<K extends TopicName<Topics>>(
    topic: K,
    options?: { signal?: AbortSignal },
  ): Promise<Snapshot<TopicData<Topics, K>>> {
    return this.http.getSnapshot(topic, options)
  }

  /** Lists the topics the caller may read. */
  listTopics(options?: { signal?: AbortSignal }): Promise<TopicInfo[]> {
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

/** Creates the client of one page, typed by its topic map. */
export function createClient<Topics extends TopicMap = TopicMap>(options?: ClientOptions): PinionClient<Topics> {
  return new PinionClient<Topics>(options)
}
