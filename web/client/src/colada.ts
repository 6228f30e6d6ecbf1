/**
 * Pinia Colada adapter (`@pinion/client/colada`). Typed structurally: it
 * imports nothing from `@pinia/colada`, so it adds no dependency.
 *
 * ```ts
 * const queryCache = useQueryCache()
 * connectColada(pinion, queryCache)   // every topic's snapshot under ['pinion', topic]
 * const { data } = useQuery(pinionQuery(pinion, 'cart'))
 * ```
 */
import type { PinionClient } from './client.js'
import { connectQueryCache, snapshotKey, type ConnectOptions, type QueryKey } from './query.js'
import type { TopicMap, Unsubscribe } from './types.js'

/** The part of Pinia Colada's `QueryCache` (`useQueryCache()`) the adapter uses. */
export interface ColadaQueryCacheLike {
  invalidateQueries(filters: { key: QueryKey }): unknown
  setQueryData(key: QueryKey, data: unknown): unknown
  getQueryData(key: QueryKey): unknown
}

/** Invalidations of Pinion topics mark queries stale or update snapshot queries in place. */
export function connectColada(client: PinionClient<any>, queryCache: ColadaQueryCacheLike, options?: ConnectOptions): Unsubscribe {
  return connectQueryCache(
    client,
    {
      invalidate: (key) => queryCache.invalidateQueries({ key }),
      setData: (key, data) => queryCache.setQueryData(key, data),
      getData: (key) => queryCache.getQueryData(key),
    },
    options,
  )
}

/** `useQuery` options of a topic's snapshot (kept fresh by the stream, so never stale by time). */
export function pinionQuery<T extends TopicMap, K extends keyof T & string>(client: PinionClient<T>, topic: K) {
  return { key: snapshotKey(topic), query: () => client.get(topic), staleTime: Infinity }
}

export { snapshotKey, type QueryKey }
