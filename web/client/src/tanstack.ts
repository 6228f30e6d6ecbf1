/**
 * TanStack Vue Query adapter (`@pinion/client/tanstack`). Typed structurally:
 * it imports nothing from `@tanstack/vue-query`, so it adds no dependency.
 *
 * ```ts
 * const queryClient = new QueryClient()
 * connectTanstack(pinion, queryClient, { topics: { cart: { snapshotKey: ['pinion', 'cart'], keys: [['cart-lines']] } } })
 * const cart = useQuery(pinionQueryOptions(pinion, 'cart'))   // data: {revision, data}, live
 * ```
 */
import type { PinionClient } from './client.js'
import { connectQueryCache, snapshotKey, type ConnectOptions, type QueryKey } from './query.js'
import type { TopicMap, Unsubscribe } from './types.js'

/** The part of TanStack's `QueryClient` the adapter uses. */
export interface TanstackQueryClientLike {
  invalidateQueries(filters: { queryKey: QueryKey }): unknown
  setQueryData(queryKey: QueryKey, data: unknown): unknown
  getQueryData(queryKey: QueryKey): unknown
}

/** Invalidations of Pinion topics mark queries stale or update snapshot queries in place. */
export function connectTanstack(client: PinionClient<any>, queryClient: TanstackQueryClientLike, options?: ConnectOptions): Unsubscribe {
  return connectQueryCache(
    client,
    {
      invalidate: (queryKey) => queryClient.invalidateQueries({ queryKey }),
      setData: (queryKey, data) => queryClient.setQueryData(queryKey, data),
      getData: (queryKey) => queryClient.getQueryData(queryKey),
    },
    options,
  )
}

/** `useQuery` options of a topic's snapshot (kept fresh by the stream, so never stale by time). */
export function pinionQueryOptions<T extends TopicMap, K extends keyof T & string>(client: PinionClient<T>, topic: K) {
  return { queryKey: snapshotKey(topic), queryFn: () => client.get(topic), staleTime: Infinity }
}

export { snapshotKey, type QueryKey }
