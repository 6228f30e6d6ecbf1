/**
 * The core of the query-cache adapters (`@pinion/client/tanstack`,
 * `@pinion/client/colada`): invalidations of a topic mark that topic's
 * queries stale, or, for a query that *is* the topic's snapshot, fetch it and
 * put it into the cache through the revision gate. The writer's own echo costs
 * nothing: its write's snapshot is already in the cache.
 */
import type { PinionClient } from './client.js'
import { isNewer } from './revision.js'
import type { Snapshot, TopicMap, Unsubscribe } from './types.js'

/**
 * A query key: JSON-like items, the intersection of what TanStack (any
 * array) and Pinia Colada (JSON values) accept.
 */
export type QueryKey = readonly (string | number | boolean | null | object)[]

/** What an adapter needs from a query cache. */
export interface QueryCacheLike {
  /** Marks every query whose key starts with `key` stale (active ones refetch). */
  invalidate(key: QueryKey): unknown
  /** Puts data under exactly `key`. */
  setData(key: QueryKey, data: unknown): void
  /** The data under exactly `key`, if any. */
  getData(key: QueryKey): unknown
}

/** How a topic maps to queries. */
export interface TopicQueries {
  /** Queries derived from the topic (a list built from it, say): invalidated. Default `[]`. */
  keys?: readonly QueryKey[]
  /** The key of the query whose data is the topic's `{revision, data}` snapshot: kept fresh in place. */
  snapshotKey?: QueryKey
}

export interface ConnectOptions {
  /** The topics to follow and their queries. Default: every topic, snapshot under `['pinion', topic]`. */
  topics?: Record<string, TopicQueries>
  onError?: (error: unknown, topic: string) => void
}

/** The default key of a topic's snapshot query. */
export const snapshotKey = (topic: string): QueryKey => ['pinion', topic]

function revisionOf(data: unknown): string | null {
  const r = (data as { revision?: unknown } | null | undefined)?.revision
  return typeof r === 'string' ? r : null
}

/**
 * Keeps `cache` in step with the server: returns a function that stops.
 */
export function connectQueryCache(client: PinionClient<any>, cache: QueryCacheLike, options: ConnectOptions = {}): Unsubscribe {
  const config = (topic: string): TopicQueries | null =>
    options.topics ? (options.topics[topic] ?? null) : { snapshotKey: snapshotKey(topic) }
  const report = options.onError ?? ((error: unknown) => console.error(error))
  const fetching = new Map<string, Promise<void>>()
  const again = new Set<string>()
  const skipped = new Set<string>()
  const seen = new Set<string>(Object.keys(options.topics ?? {}))

  function put(key: QueryKey, snapshot: Snapshot): boolean {
    if (!isNewer(snapshot.revision, revisionOf(cache.getData(key)))) return false
    cache.setData(key, snapshot)
    return true
  }

  /**
   * Brings the snapshot query under `key` to `revision` (null: whatever is
   * current). A query without data, because nobody uses it or because its
   * first load is in flight, is handed back to the library: invalidating
   * costs nothing for the first (its query fetches when first used) and
   * replaces a load that may predate the change for the second.
   */
  function freshen(topic: string, key: QueryKey, revision: string | null): void {
    const held = revisionOf(cache.getData(key))
    if (held === null) {
      cache.invalidate(key)
      return
    }
    // Not newer than what the cache holds (the writer's own echo, whose
    // snapshot the write put there): nothing to do.
    if (revision === null || isNewer(revision, held)) refetch(topic, key)
  }

  function refetch(topic: string, key: QueryKey): void {
    if (fetching.has(topic)) {
      again.add(topic)
      return
    }
    const run = (async () => {
      do {
        again.delete(topic)
        try {
          put(key, await client.get(topic as never))
          seen.add(topic)
        } catch (error) {
          report(error, topic)
          break
        }
      } while (again.has(topic))
    })().finally(() => fetching.delete(topic))
    fetching.set(topic, run)
  }

  const offs = [
    client.onInvalidation((event) => {
      const c = config(event.topic)
      if (!c) return
      seen.add(event.topic)
      if (c.snapshotKey) {
        // The echo of a write still in flight: its answer brings the snapshot.
        if (event.sourceId === client.sourceId && client.pendingWrites(event.topic) > 0) skipped.add(event.topic)
        else freshen(event.topic, c.snapshotKey, event.revision)
      }
      for (const key of c.keys ?? []) cache.invalidate(key)
    }),
    client.onWrite((event) => {
      const c = config(event.topic)
      if (!c?.snapshotKey) return
      // Only into a query that holds data: a snapshot put under a key nobody
      // queries would be kept fresh, at a read per change, for nothing.
      if (event.snapshot && cache.getData(c.snapshotKey) !== undefined) {
        put(c.snapshotKey, structuredClone(event.snapshot))
        seen.add(event.topic)
      }
      if (client.pendingWrites(event.topic) > 0 || !skipped.delete(event.topic)) return
      // An echo was skipped for a write whose answer never came (a timeout
      // after the commit, say): the cache may be behind.
      if (!event.snapshot) freshen(event.topic, c.snapshotKey, null)
    }),
    // After a reconnect or a new leader, anything may have changed.
    client.onReady(({ resumed }) => {
      if (!resumed) return
      for (const topic of seen) {
        const c = config(topic)
        if (c?.snapshotKey) freshen(topic, c.snapshotKey, null)
        for (const key of c?.keys ?? []) cache.invalidate(key)
      }
    }),
  ]
  return () => offs.forEach((off) => off())
}

