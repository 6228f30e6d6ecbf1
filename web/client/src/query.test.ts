/** The TanStack Vue Query and Pinia Colada adapters, against caches shaped like theirs. */
import { describe, expect, it } from 'vitest'
import { PinionClient } from './client.js'
import { connectColada, pinionQuery } from './colada.js'
import { connectTanstack, pinionQueryOptions } from './tanstack.js'
import { eventSourceFactory, fakeFetch, flush, json, type Recorded } from './testing/fakes.js'

/** A query cache with TanStack's and Colada's method shapes: exact keys for data, prefixes for invalidation. */
function fakeCache() {
  const data = new Map<string, unknown>()
  const invalidated: string[] = []
  const k = (key: readonly unknown[]) => JSON.stringify(key)
  const invalidate = (key: readonly unknown[]) => {
    const prefix = k(key).slice(0, -1)
    for (const stored of data.keys()) if (stored.startsWith(prefix)) invalidated.push(stored)
    invalidated.push(k(key))
  }
  return {
    data,
    invalidated,
    tanstack: {
      invalidateQueries: ({ queryKey }: { queryKey: readonly unknown[] }) => invalidate(queryKey),
      setQueryData: (key: readonly unknown[], v: unknown) => data.set(k(key), v),
      getQueryData: (key: readonly unknown[]) => data.get(k(key)),
    },
    colada: {
      invalidateQueries: ({ key }: { key: readonly unknown[] }) => invalidate(key),
      setQueryData: (key: readonly unknown[], v: unknown) => data.set(k(key), v),
      getQueryData: (key: readonly unknown[]) => data.get(k(key)),
    },
  }
}

function setup() {
  let current = { revision: '5', data: { items: [] as string[] } }
  const { fetch, calls } = fakeFetch((req: Recorded) => {
    if (req.method === 'GET') return json(200, current)
    current = { revision: String(+current.revision + 1), data: req.body as { items: string[] } }
    return json(200, current)
  })
  const sources = eventSourceFactory()
  const client = new PinionClient({ sourceId: 'w-me', fetch, sharing: 'off', createEventSource: sources.create, lifecycle: false })
  return {
    client,
    calls,
    gets: () => calls.filter((c) => c.method === 'GET').length,
    es: () => sources.instances[0]!,
    set: (c: typeof current) => (current = c),
  }
}

for (const lib of ['tanstack', 'colada'] as const) {
  describe(`${lib} adapter`, () => {
    const connect = (t: ReturnType<typeof setup>, cache: ReturnType<typeof fakeCache>, topics?: Parameters<typeof connectTanstack>[2]) =>
      lib === 'tanstack' ? connectTanstack(t.client, cache.tanstack, topics) : connectColada(t.client, cache.colada, topics)
    const options = (t: ReturnType<typeof setup>) =>
      lib === 'tanstack' ? { key: pinionQueryOptions(t.client, 'cart').queryKey, fn: pinionQueryOptions(t.client, 'cart').queryFn } : { key: pinionQuery(t.client, 'cart').key, fn: pinionQuery(t.client, 'cart').query }

    it('puts a newer snapshot into a snapshot query, through the revision gate', async () => {
      const t = setup()
      const cache = fakeCache()
      connect(t, cache)
      const { key, fn } = options(t)
      cache.data.set(JSON.stringify(key), await fn()) // what useQuery would have cached
      t.set({ revision: '6', data: { items: ['a'] } })
      t.es().invalidation({ topic: 'cart', revision: '6', sourceId: 'w-other' }, 'c6')
      await flush()
      expect(cache.data.get(JSON.stringify(key))).toEqual({ revision: '6', data: { items: ['a'] } })
      // An older answer never replaces a newer one.
      t.set({ revision: '4', data: { items: ['old'] } })
      t.es().invalidation({ topic: 'cart', revision: '7' }, 'c7')
      await flush()
      expect(cache.data.get(JSON.stringify(key))).toEqual({ revision: '6', data: { items: ['a'] } })
    })

    it('the writer’s own echo costs nothing', async () => {
      const t = setup()
      const cache = fakeCache()
      connect(t, cache)
      const { key, fn } = options(t)
      cache.data.set(JSON.stringify(key), await fn())
      const snap = await t.client.put('cart', { items: ['mine'] })
      expect(cache.data.get(JSON.stringify(key))).toEqual(snap)
      const gets = t.gets()
      t.es().invalidation({ topic: 'cart', revision: snap.revision, sourceId: 'w-me' }, 'c6')
      await flush()
      expect(t.gets()).toBe(gets)
    })

    it('marks derived queries stale', async () => {
      const t = setup()
      const cache = fakeCache()
      connect(t, cache, { topics: { cart: { keys: [['cart-lines']] } } })
      cache.data.set(JSON.stringify(['cart-lines', 1]), ['x'])
      t.es().invalidation({ topic: 'cart', revision: '6' }, 'c6')
      t.es().invalidation({ topic: 'app-settings', revision: '9' }, 'c9') // not configured
      await flush()
      expect(cache.invalidated).toEqual([JSON.stringify(['cart-lines', 1]), JSON.stringify(['cart-lines'])])
      expect(t.gets()).toBe(0)
    })
  })
}
