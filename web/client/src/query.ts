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

/** What an adapter needs from a query cache. */
export interface QueryCacheLike {
  /** Marks every query whose key starts with `key` stale (active ones refetch). */
  invalidate(key: readonly unknown[]): unknown
  /** Puts data under exactly `key`. */
  setData(key: readonly unknown[], data: unknown): void
  /** The data under exactly `key`, if any. */
  getData(key: readonly unknown[]): unknown
}

/** How a topic maps to queries. */
export interface TopicQueries {
  /** Queries derived from the topic (a list built from it, say): invalidated. Default `[]`. */
  keys?: readonly (readonly unknown[])[]
  /** The key of the query whose data is the topic's `{revision, data}` snapshot: kept fresh in place. */
  snapshotKey?: readonly unknown[]
}

export interface ConnectOptions {
  /** The topics to follow and their queries. Default: every topic, snapshot under `['pinion', topic]`. */
  topics?: Record<string, TopicQueries>
  onError?: (error: unknown, topic: string) => void
}

/** The default key of a topic's snapshot query. */
export const snapshotKey = (topic: string): readonly unknown[] => ['pinion', topic]

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
  const seen = new Set<string>(Object.keys(options.topics ?? {}))

  function put(key: readonly unknown[], snapshot: Snapshot): boolean {
    if (!isNewer(snapshot.revision, revisionOf(cache.getData(key)))) return false
    cache.setData(key, snapshot)
    return true
  }

  function refetch(topic: string, key: readonly unknown[]): void {
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
        // Not newer than what the cache holds (the writer's own echo, whose
        // snapshot the write put there): nothing to do.
        if (isNewer(event.revision, revisionOf(cache.getData(c.snapshotKey)))) refetch(event.topic, c.snapshotKey)
      }
      for (const key of c.keys ?? []) cache.invalidate(key)
    }),
    client.onWrite((event) => {
      const c = config(event.topic)
      if (c?.snapshotKey && event.snapshot) {
        put(c.snapshotKey, structuredClone(event.snapshot))
        seen.add(event.topic)
      }
    }),
    // After a reconnect or a new leader, anything may have changed.
    client.onReady(({ resumed }) => {
      if (!resumed) return
      for (const topic of seen) {
        const c = config(topic)
        if (c?.snapshotKey) refetch(topic, c.snapshotKey)
        for (const key of c?.keys ?? []) cache.invalidate(key)
      }
    }),
  ]
  return () => offs.forEach((off) => off())
}

/** Query options of a topic's snapshot: `{ key, query }` pairs for either library. */
export function snapshotQuery<T extends TopicMap, K extends keyof T & string>(client: PinionClient<T>, topic: K) {
  return {
    key: snapshotKey(topic),
    query: () => client.get(topic),
  }
}
