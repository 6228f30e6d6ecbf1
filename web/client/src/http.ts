import { errorFromResponse } from './errors'
import { isNewer, isRevision } from './revision'
import type { Snapshot, TopicInfo } from './types'

/** The `fetch` signature the client needs; inject a fake in tests. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

/** Options shared by every write. */
export interface WriteOptions {
  /** Makes the write conditional: it fails with a 412 unless the document is at this revision (`*`: any). */
  ifMatch?: string
  signal?: AbortSignal
}

export interface HttpOptions {
  /** Prefix of `/api/...`; `''` (the default) is the page's own origin. */
  baseUrl?: string
  fetch?: FetchLike
  /** Sent as `X-Source-Id` with every write. */
  sourceId: string
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
  private readonly fetchImpl: FetchLike
  private readonly cache = new Map<string, Snapshot>()

  constructor(options: HttpOptions) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '')
    this.sourceId = options.sourceId
    // Look fetch up at call time, so tests (and polyfills) can replace the global later.
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  }

  /** The URL of `path` (which starts with `/api/`). */
  url(path: string): string {
    return this.baseUrl + path
  }

  /**
   * Reads a topic's snapshot. When a snapshot is cached, sends its revision
   * in `If-None-Match`; a 304 answers a copy of the cached snapshot.
   */
  async getSnapshot<T>(topic: string, options: { signal?: AbortSignal } = {}): Promise<Snapshot<T>> {
    assertTopic(topic)
    const cached = this.cache.get(topic)
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (cached) headers['If-None-Match'] = `"${cached.revision}"`
    const res = await this.fetchImpl(this.url(`/api/topics/${topic}`), {
      method: 'GET',
      headers,
      credentials: 'same-origin',
      // We send our own validator; keep the browser's HTTP cache out of the way.
      cache: 'no-store',
      signal: options.signal,
    })
    if (res.status === 304 && cached) return structuredClone(cached) as Snapshot<T>
    if (!res.ok) throw await errorFromResponse(res)
    const snapshot = parseSnapshot<T>(await res.json())
    this.remember(topic, snapshot)
    return snapshot
  }

  /** Lists the topics the caller may read, with the caller's revision of each. */
  async listTopics(options: { signal?: AbortSignal } = {}): Promise<TopicInfo[]> {
    const res = await this.fetchImpl(this.url('/api/topics'), {
      method: 'GET',
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    })
    if (!res.ok) throw await errorFromResponse(res)
    const body = (await res.json()) as { topics?: TopicInfo[] }
    return Array.isArray(body.topics) ? body.topics : []
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
    const headers: Record<string, string> = {
      Accept: 'application/json, application/problem+json',
      'X-Source-Id': this.sourceId,
    }
    if (contentType) headers['Content-Type'] = contentType
    if (options.ifMatch !== undefined) {
      headers['If-Match'] = options.ifMatch === '*' ? '*' : `"${options.ifMatch}"`
    }
    const res = await this.fetchImpl(this.url(path), {
      method,
      headers,
      body: contentType ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    })
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
