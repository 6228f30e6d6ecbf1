import { TimeoutError, errorFromResponse } from './errors.js'
import { isNewer, isRevision } from './revision.js'
import type { Snapshot, TopicInfo } from './types.js'

/** The `fetch` signature the client needs; inject a fake in tests. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

/** Options shared by every write. */
export interface WriteOptions {
  /** Makes the write conditional: it fails with a 412 unless the document is at this revision (`*`: any). */
  ifMatch?: string
  signal?: AbortSignal
  /** Abort the write with a {@link TimeoutError} after this long. Default: no limit (its outcome would be unknown). */
  timeoutMs?: number
}

/** Options of a snapshot read. */
export interface ReadOptions {
  signal?: AbortSignal
  /** Skip `If-None-Match`: always get the document itself, even when it has not changed. */
  force?: boolean
  /** Abort with a {@link TimeoutError} after this long; default the client's `timeoutMs`. */
  timeoutMs?: number
}

/**
 * Extra headers for every request, called each time (so a bearer token can
 * be renewed between requests). May be async.
 */
export type HeadersProvider = () => HeadersInit | undefined | Promise<HeadersInit | undefined>

export interface HttpOptions {
  /** Prefix of `/api/...`; `''` (the default) is the page's own origin. */
  baseUrl?: string
  fetch?: FetchLike
  /** Sent as `X-Source-Id` with every write. */
  sourceId: string
  /** Fetch credentials; default {@link defaultCredentials}. */
  credentials?: RequestCredentials
  headers?: HeadersProvider
  /** Limit of a snapshot read or listing, in ms (0: none). Default 15000. */
  timeoutMs?: number
}

/** The page's own origin, or null outside a browser. */
function pageOrigin(): string | null {
  const location = (globalThis as { location?: { origin?: string; href?: string } }).location
  return typeof location?.origin === 'string' && location.origin !== 'null' ? location.origin : null
}

/**
 * `same-origin` when `baseUrl` is on the page's origin (or empty), `include`
 * when it is on another one: cookies must go with every request for reads,
 * writes and the stream (whose EventSource then uses `withCredentials`) to
 * act as one principal.
 */
export function defaultCredentials(baseUrl: string | undefined): RequestCredentials {
  if (!baseUrl) return 'same-origin'
  const origin = pageOrigin()
  try {
    const target = new URL(baseUrl, origin ?? undefined).origin
    return origin !== null && target === origin ? 'same-origin' : 'include'
  } catch {
    // A relative base with no page to resolve it against: same origin by definition.
    return 'same-origin'
  }
}

/** Runs `fetch` with a time limit; a timeout rejects with a {@link TimeoutError}. */
async function fetchWithTimeout(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  timeoutMs: number | undefined,
  what: string,
): Promise<Response> {
  if (!timeoutMs || timeoutMs <= 0) return fetchImpl(url, init)
  const controller = new AbortController()
  const outer = init.signal
  const onAbort = () => controller.abort(outer?.reason)
  if (outer?.aborted) controller.abort(outer.reason)
  else outer?.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeoutMs)
  try {
    const res = await fetchImpl(url, { ...init, signal: controller.signal })
    return res
  } catch (error) {
    if (timedOut) throw new TimeoutError(what, timeoutMs)
    throw error
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onAbort)
  }
}

const topicPattern = /^[a-z0-9][a-z0-9._:-]{0,127}$/

/** Throws unless `topic` is a valid topic name. */
export function assertTopic(topic: string): void {
  if (!topicPattern.test(topic)) throw new TypeError(`pinion: invalid topic name ${JSON.stringify(topic)}`)
}

/**
 * The REST half of the protocol: snapshot reads with an ETag cache (an
 * unchanged topic costs a 304) and the four kinds of write. Knows nothing of
 * the event stream.
 */
export class HttpApi {
  readonly baseUrl: string
  readonly sourceId: string
  /** The credentials mode of every request (the stream follows it). */
  readonly credentials: RequestCredentials
  private readonly fetchImpl: FetchLike
  private readonly headersProvider: HeadersProvider | undefined
  private readonly timeoutMs: number
  private readonly cache = new Map<string, Snapshot>()
  /** Told about every snapshot read that got an answer (devtools, metrics). */
  onRead: ((event: { topic: string; status: 200 | 304; revision: string }) => void) | null = null

  constructor(options: HttpOptions) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '')
    this.sourceId = options.sourceId
    this.credentials = options.credentials ?? defaultCredentials(this.baseUrl)
    this.headersProvider = options.headers
    this.timeoutMs = options.timeoutMs ?? 15000
    // Look fetch up at call time, so tests (and polyfills) can replace the global later.
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  }

  /** The URL of `path` (which starts with `/api/`). */
  url(path: string): string {
    return this.baseUrl + path
  }

  /** The caller's headers merged under ours (ours win: they carry the protocol). */
  private async headers(own: Record<string, string>): Promise<Headers> {
    const headers = new Headers((await this.headersProvider?.()) ?? undefined)
    for (const [k, v] of Object.entries(own)) headers.set(k, v)
    return headers
  }

  /**
   * Reads a topic's snapshot. When a snapshot is cached, sends its revision
   * in `If-None-Match`; a 304 answers a copy of the cached snapshot. With
   * `force`, asks for the document itself whatever is cached.
   */
  async getSnapshot<T>(topic: string, options: ReadOptions = {}): Promise<Snapshot<T>> {
    assertTopic(topic)
    const cached = options.force ? undefined : this.cache.get(topic)
    const own: Record<string, string> = { Accept: 'application/json' }
    if (cached) own['If-None-Match'] = `"${cached.revision}"`
    const res = await fetchWithTimeout(
      this.fetchImpl,
      this.url(`/api/topics/${topic}`),
      {
        method: 'GET',
        headers: await this.headers(own),
        credentials: this.credentials,
        // We send our own validator; keep the browser's HTTP cache out of the way.
        cache: 'no-store',
        signal: options.signal,
      },
      options.timeoutMs ?? this.timeoutMs,
      `GET ${topic}`,
    )
    if (res.status === 304 && cached) {
      this.onRead?.({ topic, status: 304, revision: cached.revision })
      return structuredClone(cached) as Snapshot<T>
    }
    if (!res.ok) throw await errorFromResponse(res)
    const snapshot = parseSnapshot<T>(await res.json())
    this.onRead?.({ topic, status: 200, revision: snapshot.revision })
    if (options.force) this.cache.set(topic, structuredClone(snapshot))
    else this.remember(topic, snapshot)
    return snapshot
  }

  /** Lists the topics the caller may read, with the caller's revision of each. */
  async listTopics(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<TopicInfo[]> {
    const res = await fetchWithTimeout(
      this.fetchImpl,
      this.url('/api/topics'),
      {
        method: 'GET',
        headers: await this.headers({ Accept: 'application/json' }),
        credentials: this.credentials,
        cache: 'no-store',
        signal: options.signal,
      },
      options.timeoutMs ?? this.timeoutMs,
      'GET /api/topics',
    )
    if (!res.ok) throw await errorFromResponse(res)
    const body = (await res.json()) as { topics?: TopicInfo[] }
    return Array.isArray(body.topics) ? body.topics : []
  }

  /** `POST /api/session`: a session cookie for the credential in `headers`. */
  async createSession(options: { signal?: AbortSignal } = {}): Promise<void> {
    const res = await fetchWithTimeout(
      this.fetchImpl,
      this.url('/api/session'),
      {
        method: 'POST',
        headers: await this.headers({ Accept: 'application/json, application/problem+json' }),
        credentials: this.credentials,
        cache: 'no-store',
        signal: options.signal,
      },
      this.timeoutMs,
      'POST /api/session',
    )
    if (!res.ok) throw await errorFromResponse(res)
  }

  /** `PUT`: replaces the document. */
  put<T>(topic: string, data: unknown, options?: WriteOptions): Promise<Snapshot<T>> {
    return this.write<T>(topic, 'PUT', `/api/topics/${topic}`, 'application/json', data, options)
  }

  /** `PATCH` with an RFC 7396 merge patch. */
  patch<T>(topic: string, patch: unknown, options?: WriteOptions): Promise<Snapshot<T>> {
    return this.write<T>(topic, 'PATCH', `/api/topics/${topic}`, 'application/merge-patch+json', patch, options)
  }

  /** `POST .../actions/{action}`: a named domain command. */
  action<T>(topic: string, action: string, input: unknown, options?: WriteOptions): Promise<Snapshot<T>> {
    const path = `/api/topics/${topic}/actions/${encodeURIComponent(action)}`
    return this.write<T>(topic, 'POST', path, 'application/json', input ?? {}, options)
  }

  /** `DELETE`: resets the document to its default. */
  reset<T>(topic: string, options?: WriteOptions): Promise<Snapshot<T>> {
    return this.write<T>(topic, 'DELETE', `/api/topics/${topic}`, null, undefined, options)
  }

  private async write<T>(
    topic: string,
    method: string,
    path: string,
    contentType: string | null,
    body: unknown,
    options: WriteOptions = {},
  ): Promise<Snapshot<T>> {
    assertTopic(topic)
    const own: Record<string, string> = {
      Accept: 'application/json, application/problem+json',
      'X-Source-Id': this.sourceId,
    }
    if (contentType) own['Content-Type'] = contentType
    if (options.ifMatch !== undefined) {
      own['If-Match'] = options.ifMatch === '*' ? '*' : `"${options.ifMatch}"`
    }
    const res = await fetchWithTimeout(
      this.fetchImpl,
      this.url(path),
      {
        method,
        headers: await this.headers(own),
        body: contentType ? JSON.stringify(body) : undefined,
        credentials: this.credentials,
        cache: 'no-store',
        signal: options.signal,
      },
      options.timeoutMs,
      `${method} ${topic}`,
    )
    if (!res.ok) throw await errorFromResponse(res)
    const snapshot = parseSnapshot<T>(await res.json())
    this.remember(topic, snapshot)
    return snapshot
  }

  /** Keeps the newest snapshot of each topic for `If-None-Match`. */
  private remember(topic: string, snapshot: Snapshot): void {
    const cached = this.cache.get(topic)
    if (!cached || isNewer(snapshot.revision, cached.revision)) {
      this.cache.set(topic, structuredClone(snapshot))
    }
  }
}

/** Checks that a body is a snapshot envelope. */
export function parseSnapshot<T>(body: unknown): Snapshot<T> {
  if (typeof body !== 'object' || body === null) throw new TypeError('pinion: snapshot is not an object')
  const { revision, data } = body as Record<string, unknown>
  if (!isRevision(revision)) throw new TypeError(`pinion: snapshot has an invalid revision ${JSON.stringify(revision)}`)
  return { revision, data: data as T }
}
