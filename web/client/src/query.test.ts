// @vitest-environment happy-dom
/**
 * The TanStack Vue Query and Pinia Colada adapters against the real
 * libraries: a mounted component with real `useQuery`s, a real QueryClient or
 * Colada plugin on a real Pinia, and a real PinionClient whose server is a
 * fake fetch and whose stream is a fake EventSource fired by hand.
 */
import { PiniaColada, useQuery as useColadaQuery, useQueryCache } from '@pinia/colada'
import { QueryClient, VueQueryPlugin, useQuery as useTanstackQuery } from '@tanstack/vue-query'
import { mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, type Plugin, type Ref } from 'vue'
import { PinionClient } from './client.js'
import { connectColada, pinionQuery } from './colada.js'
import type { ConnectOptions, QueryKey } from './query.js'
import { connectTanstack, pinionQueryOptions } from './tanstack.js'
import { eventSourceFactory, fakeFetch, flush, json, type Recorded } from './testing/fakes.js'
import type { Snapshot, Unsubscribe } from './types.js'

type Cart = { items: string[] }
type Topics = { cart: { data: Cart; actions: {} }; 'app-settings': { data: { theme: string }; actions: {} } }

/** A server holding one cart, and a client of it. */
function server() {
  let current: Snapshot<Cart> = { revision: '5', data: { items: ['a'] } } as Snapshot<Cart>
  /** The next GET answers this instead of `current` (an out-of-date replica, say). */
  let stale: Snapshot<Cart> | null = null
  let loseAnswer = false
  const { fetch, calls } = fakeFetch(async (req: Recorded) => {
    if (req.method === 'GET') {
      const answer = stale ?? current
      stale = null
      return json(200, answer)
    }
    current = { revision: String(+current.revision + 1), data: req.body as Cart } as Snapshot<Cart>
    if (loseAnswer) throw new TypeError('Failed to fetch') // committed, but the answer is lost
    return json(200, current)
  })
  const sources = eventSourceFactory()
  const client = new PinionClient<Topics>({ sourceId: 'w-me', fetch, sharing: 'off', createEventSource: sources.create, lifecycle: false })
  return {
    client,
    gets: () => calls.filter((c: Recorded) => c.method === 'GET' && c.url.includes('/topics/cart')).length,
    allGets: () => calls.filter((c: Recorded) => c.method === 'GET').length,
    /** Another tab writes: the server moves on and the stream says so. */
    writeElsewhere(items: string[]) {
      current = { revision: String(+current.revision + 1), data: { items } } as Snapshot<Cart>
      sources.instances[0]!.invalidation({ topic: 'cart', revision: current.revision, sourceId: 'w-other' }, 'c' + current.revision)
    },
    invalidation(revision: string, sourceId = 'w-other', topic = 'cart') {
      sources.instances[0]!.invalidation({ topic, revision, sourceId }, 'c' + revision)
    },
    answerStale(s: Snapshot<Cart>) {
      stale = s
    },
    loseAnswers() {
      loseAnswer = true
    },
  }
}

/** What a test sees of one library: the component's data and the cache. */
interface Mounted {
  snapshot: Ref<Snapshot<Cart> | undefined>
  lines: Ref<string[] | undefined>
  linesFetches: () => number
  cached: () => Snapshot<Cart> | undefined
  /** Whether the query under `key` is marked stale. */
  isStale: (key: QueryKey) => boolean
  /** Puts a query into the cache that no component uses. */
  seed: (key: QueryKey, data: unknown) => void
  stop: Unsubscribe
}

const options: ConnectOptions = { topics: { cart: { snapshotKey: ['pinion', 'cart'], keys: [['cart-lines'], ['cart-count']] } } }

function mountTanstack(s: ReturnType<typeof server>, connect = options, withSnapshot = true): Mounted {
  const queryClient = new QueryClient()
  const stop = connectTanstack(s.client, queryClient, connect)
  let fetches = 0
  const Comp = defineComponent({
    setup() {
      const snapshot = withSnapshot ? useTanstackQuery(pinionQueryOptions(s.client, 'cart')).data : undefined
      const lines = useTanstackQuery({
        queryKey: ['cart-lines'],
        queryFn: async () => (fetches++, (await s.client.get('cart')).data.items),
      }).data
      return { snapshot, lines }
    },
    render: () => null,
  })
  const w = mount(Comp, { global: { plugins: [[VueQueryPlugin as Plugin, { queryClient }]] } })
  return {
    snapshot: toRef(w, 'snapshot'),
    lines: toRef(w, 'lines'),
    linesFetches: () => fetches,
    cached: () => queryClient.getQueryData(['pinion', 'cart']),
    isStale: (key) => queryClient.getQueryState(key)?.isInvalidated === true,
    seed: (key, data) => queryClient.setQueryData(key, data),
    stop: () => (stop(), w.unmount()),
  }
}

function mountColada(s: ReturnType<typeof server>, connect = options, withSnapshot = true): Mounted {
  const pinia = createPinia()
  let fetches = 0
  let cache!: ReturnType<typeof useQueryCache>
  let stop: Unsubscribe = () => {}
  const Comp = defineComponent({
    setup() {
      cache = useQueryCache()
      stop = connectColada(s.client, cache, connect)
      const snapshot = withSnapshot ? useColadaQuery(pinionQuery(s.client, 'cart')).data : undefined
      const lines = useColadaQuery({
        key: ['cart-lines'],
        query: async () => (fetches++, (await s.client.get('cart')).data.items),
      }).data
      return { snapshot, lines }
    },
    render: () => null,
  })
  const w = mount(Comp, { global: { plugins: [pinia, PiniaColada] } })
  return {
    snapshot: toRef(w, 'snapshot'),
    lines: toRef(w, 'lines'),
    linesFetches: () => fetches,
    cached: () => cache.getQueryData(['pinion', 'cart']) as Snapshot<Cart> | undefined,
    isStale: (key) => cache.get(key)?.stale === true,
    seed: (key, data) => cache.setQueryData(key, data),
    stop: () => (stop(), w.unmount()),
  }
}

/** A read-only view of a setup binding of the mounted component. */
function toRef<T>(w: { vm: unknown }, name: string): Ref<T> {
  return {
    get value() {
      return (w.vm as Record<string, T>)[name]
    },
  } as Ref<T>
}

/** Lets every promise chain in flight run out (fetches here answer at once). */
const settle = () => flush(50)

for (const [lib, mountLib] of [
  ['TanStack Vue Query', mountTanstack],
  ['Pinia Colada', mountColada],
] as const) {
  describe(`${lib} adapter (the real library)`, { timeout: 30_000 }, () => {
    async function ready(connect?: ConnectOptions, withSnapshot?: boolean) {
      const s = server()
      const m = mountLib(s, connect, withSnapshot)
      await vi.waitFor(() => expect(m.lines.value).toEqual(['a']), { timeout: 5000 })
      if (withSnapshot !== false) await vi.waitFor(() => expect(m.snapshot.value?.revision).toBe('5'), { timeout: 5000 })
      return { s, m }
    }

    it("another tab's write marks the topic's queries stale, and the active ones refetch", async () => {
      const { s, m } = await ready()
      m.seed(['cart-count'], 1) // in the cache, used by no component
      expect(m.linesFetches()).toBe(1)
      s.writeElsewhere(['a', 'b'])
      await vi.waitFor(() => expect(m.lines.value).toEqual(['a', 'b']), { timeout: 5000 })
      expect(m.linesFetches()).toBe(2)
      expect(m.isStale(['cart-count'])).toBe(true) // inactive: stale, refetched when next used
      // Another topic's invalidation touches none of the cart's queries.
      const gets = s.allGets()
      s.invalidation('40', 'w-other', 'app-settings')
      await settle()
      expect(s.allGets()).toBe(gets)
      m.stop()
    })

    it('a snapshot query is fetched and put into the cache, and the component shows it', async () => {
      const { s, m } = await ready()
      s.writeElsewhere(['a', 'c'])
      await vi.waitFor(() => expect(m.snapshot.value).toEqual({ revision: '6', data: { items: ['a', 'c'] } }), { timeout: 5000 })
      expect(m.cached()?.revision).toBe('6')
      m.stop()
    })

    it('the revision gate: an older revision never overwrites a newer one', async () => {
      const { s, m } = await ready()
      s.writeElsewhere(['a', 'c'])
      await vi.waitFor(() => expect(m.cached()?.revision).toBe('6'), { timeout: 5000 })
      // The read that follows the next invalidation answers an older
      // revision (a lagging replica, a reordered response).
      s.answerStale({ revision: '4', data: { items: ['old'] } } as Snapshot<Cart>)
      const gets = s.gets()
      s.invalidation('7')
      await vi.waitFor(() => expect(s.gets()).toBeGreaterThan(gets), { timeout: 5000 })
      await settle()
      expect(m.cached()).toEqual({ revision: '6', data: { items: ['a', 'c'] } })
      expect(m.snapshot.value?.revision).toBe('6')
      m.stop()
    })

    it("the writer's own echo costs nothing: no read, the write's snapshot is in the cache", async () => {
      const { s, m } = await ready(undefined)
      const reads = s.gets()
      const snap = await s.client.put('cart', { items: ['mine'] })
      await settle()
      expect(m.cached()).toEqual(snap)
      expect(m.snapshot.value).toEqual(snap)
      s.invalidation(snap.revision, 'w-me')
      await settle()
      // The snapshot query read nothing; only the derived query refetched
      // (as it must: it is built from the topic).
      expect(s.gets() - reads).toBe(m.linesFetches() - 1)
      m.stop()
    })

    it('the echo of a write still in flight costs nothing either', async () => {
      // Only the snapshot query, so every read would be the adapter's.
      const { s, m } = await ready({ topics: { cart: { snapshotKey: ['pinion', 'cart'] } } })
      const reads = s.gets()
      const put = s.client.put('cart', { items: ['mine'] })
      s.invalidation('6', 'w-me') // the stream outran the write's answer
      const snap = await put
      await settle()
      expect(m.cached()).toEqual(snap)
      expect(s.gets()).toBe(reads)
      m.stop()
    })

    it('a write whose answer is lost after its echo was skipped: the snapshot is read once', async () => {
      const { s, m } = await ready({ topics: { cart: { snapshotKey: ['pinion', 'cart'] } } })
      s.loseAnswers()
      const put = s.client.put('cart', { items: ['mine'] }).catch((e: unknown) => e)
      s.invalidation('6', 'w-me')
      expect(await put).toBeInstanceOf(Error)
      await vi.waitFor(() => expect(m.cached()).toEqual({ revision: '6', data: { items: ['mine'] } }), { timeout: 5000 })
      m.stop()
    })

    it('a topic nobody queries costs nothing', async () => {
      const { s, m } = await ready({}, false) // no snapshot query mounted, default config: every topic
      let reads = s.allGets()
      s.invalidation('6')
      s.invalidation('41', 'w-other', 'app-settings')
      await settle()
      expect(s.allGets()).toBe(reads)
      // Nor does this window's own write to it: nothing is put into the
      // cache, so the next change elsewhere costs no read either.
      const snap = await s.client.put('cart', { items: ['mine'] })
      await settle()
      expect(m.cached()).toBeUndefined()
      reads = s.allGets()
      s.invalidation(String(+snap.revision + 1))
      await settle()
      expect(s.allGets()).toBe(reads)
      m.stop()
    })
  })
}
