import { createPinia, defineStore, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from 'vue'
import { PinionClient } from './client.js'
import { pinionSync, syncStore, type SyncStoreOptions } from './pinia.js'
import type { Snapshot } from './types.js'
import { deferred, eventSourceFactory, fakeFetch, flush, json, type Recorded } from './testing/fakes.js'

interface Doc {
  theme: string
  fontSize: number
  extra?: string
  nested?: { a?: number; b?: number }
}

/** A server holding one document of topic `t`, whose GETs the test can hold back. */
function server(initial: { revision: string; data: Doc }) {
  let current = initial
  let gate: ReturnType<typeof deferred<void>> | null = null
  const { fetch, calls } = fakeFetch(async (req: Recorded) => {
    if (req.method === 'GET') {
      const answer = current
      if (gate) await gate.promise
      if (req.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' })
      if (req.headers['if-none-match'] === `"${answer.revision}"`) return new Response(null, { status: 304 })
      return json(200, answer)
    }
    current = { revision: String(BigInt(current.revision) + 1n), data: req.body as Doc }
    return json(200, current)
  })
  const gets = () => calls.filter((c) => c.method === 'GET').length
  return {
    fetch,
    calls,
    gets,
    set(next: { revision: string; data: Doc }) {
      current = next
    },
    hold() {
      gate = deferred<void>()
    },
    release() {
      const g = gate
      gate = null
      g?.resolve()
    },
  }
}

const useDoc = defineStore('doc', {
  state: (): Doc => ({ theme: 'light', fontSize: 14 }),
})

function setup(initial = { revision: '1764000000000001', data: { theme: 'dark', fontSize: 16 } as Doc }, options: Partial<SyncStoreOptions<Doc>> = {}) {
  const srv = server(initial)
  const sources = eventSourceFactory()
  const errors: unknown[] = []
  const client = new PinionClient({ sourceId: 'w-me', fetch: srv.fetch, sharing: 'off', createEventSource: sources.create })
  const store = useDoc()
  const sync = syncStore<Doc>(store, { client, topic: 't', onError: (e) => errors.push(e), ...options })
  const es = () => sources.instances[0]!
  return { srv, client, store, sync, es, errors }
}

beforeEach(() => {
  setActivePinia(createPinia())
})

describe('syncStore', () => {
  it('applies the first snapshot and remembers its revision', async () => {
    const t = setup()
    await t.sync.ready
    expect(t.store.$state).toEqual({ theme: 'dark', fontSize: 16 })
    expect(t.sync.revision).toBe('1764000000000001')
    expect(t.errors).toEqual([])
  })

  it('applies only newer snapshots', async () => {
    const t = setup()
    await t.sync.ready
    expect(t.sync.apply({ revision: '1764000000000001', data: { theme: 'same', fontSize: 1 } })).toBe(false)
    expect(t.sync.apply({ revision: '999', data: { theme: 'older', fontSize: 1 } })).toBe(false)
    expect(t.store.theme).toBe('dark')
    // 2^53 + 1 against 2^53: equal as numbers, newer as revisions.
    expect(t.sync.apply({ revision: '9007199254740992', data: { theme: 'a', fontSize: 1 } })).toBe(true)
    expect(t.sync.apply({ revision: '9007199254740993', data: { theme: 'b', fontSize: 1 } })).toBe(true)
    expect(t.store.theme).toBe('b')
  })

  it('fetches on a newer invalidation only', async () => {
    const t = setup()
    await t.sync.ready
    t.es().ready('c.1')
    await flush()
    const before = t.srv.gets()
    t.es().invalidation({ topic: 't', revision: '1764000000000001' }, 'c.2') // not newer
    t.es().invalidation({ topic: 'other', revision: '1764000000000009' }, 'c.3') // not ours
    await flush()
    expect(t.srv.gets()).toBe(before)

    t.srv.set({ revision: '1764000000000002', data: { theme: 'light', fontSize: 20 } })
    t.es().invalidation({ topic: 't', revision: '1764000000000002', sourceId: 'w-other' }, 'c.4')
    await flush()
    expect(t.srv.gets()).toBe(before + 1)
    expect(t.store.fontSize).toBe(20)
    expect(t.sync.revision).toBe('1764000000000002')
  })

  it('coalesces a burst of invalidations during one fetch into exactly one more fetch', async () => {
    const t = setup()
    await t.sync.ready
    expect(t.srv.gets()).toBe(1)

    t.srv.hold()
    t.srv.set({ revision: '1764000000000002', data: { theme: 'x', fontSize: 2 } })
    t.es().invalidation({ topic: 't', revision: '1764000000000002' }, 'c.2')
    await flush()
    expect(t.srv.gets()).toBe(2) // the fetch in flight
    for (let r = 3; r <= 12; r++) {
      t.es().invalidation({ topic: 't', revision: `17640000000000${String(r).padStart(2, '0')}` }, `c.${r}`)
    }
    t.srv.set({ revision: '1764000000000012', data: { theme: 'last', fontSize: 12 } })
    await flush()
    expect(t.srv.gets()).toBe(2) // still one in flight
    t.srv.release()
    await flush()
    expect(t.srv.gets()).toBe(3) // exactly one extra
    expect(t.store.theme).toBe('last')
    expect(t.sync.revision).toBe('1764000000000012')
  })

  it('applies its own write at once and skips the echo', async () => {
    const t = setup()
    await t.sync.ready
    const snapshot = (await t.client.put('t', { theme: 'mine', fontSize: 18 })) as Snapshot<Doc>
    expect(snapshot.revision).toBe('1764000000000002')
    expect(t.store.$state).toEqual({ theme: 'mine', fontSize: 18 })
    expect(t.sync.revision).toBe('1764000000000002')
    const gets = t.srv.gets()
    t.es().invalidation({ topic: 't', revision: '1764000000000002', sourceId: 'w-me' }, 'c.9')
    await flush()
    expect(t.srv.gets()).toBe(gets)
    // The store does not share objects with the snapshot the caller got.
    snapshot.data.theme = 'mutated'
    expect(t.store.theme).toBe('mine')
  })

  it('skips an echo that overtakes its write response', async () => {
    const t = setup()
    await t.sync.ready
    const gate = deferred<void>()
    const fetch = t.srv.fetch
    const slow = new PinionClient({
      sourceId: 'w-me',
      sharing: 'off',
      createEventSource: eventSourceFactory().create,
      fetch: async (url, init) => {
        const res = await fetch(url, init)
        if (init?.method === 'PUT') await gate.promise
        return res
      },
    })
    // Bind a second store to the slow client to watch the ordering.
    setActivePinia(createPinia())
    const store = useDoc()
    const sync = syncStore<Doc>(store, { client: slow, topic: 't' })
    await sync.ready
    const slowEs = () => (slow.stream as unknown as { source: { invalidation: (e: object, id: string) => void } }).source
    const gets = t.srv.gets()
    const write = slow.put('t', { theme: 'mine', fontSize: 18 })
    await flush()
    slowEs().invalidation({ topic: 't', revision: '1764000000000002', sourceId: 'w-me' }, 'c.9')
    await flush()
    expect(t.srv.gets()).toBe(gets) // skipped: our write is in flight
    gate.resolve()
    await write
    await flush()
    expect(store.theme).toBe('mine')
    expect(t.srv.gets()).toBe(gets)
  })

  it('fetches a skipped echo when the write itself failed on the way back', async () => {
    const t = setup()
    await t.sync.ready
    const failing = new PinionClient({
      sourceId: 'w-me',
      sharing: 'off',
      createEventSource: eventSourceFactory().create,
      fetch: async (url, init) => {
        if (init?.method === 'PUT') {
          await t.srv.fetch(url, init) // committed on the server...
          await flush()
          throw new TypeError('network error') // ...but the answer was lost
        }
        return t.srv.fetch(url, init)
      },
    })
    setActivePinia(createPinia())
    const store = useDoc()
    const sync = syncStore<Doc>(store, { client: failing, topic: 't' })
    await sync.ready
    const es = (failing.stream as unknown as { source: { invalidation: (e: object, id: string) => void } }).source
    const write = failing.put('t', { theme: 'lost', fontSize: 10 }).catch(() => {})
    await flush(1)
    es.invalidation({ topic: 't', revision: '1764000000000002', sourceId: 'w-me' }, 'c.9')
    await write
    await flush()
    expect(store.theme).toBe('lost')
    expect(sync.revision).toBe('1764000000000002')
  })

  it('replace mode deletes keys the document no longer has, nested ones included', async () => {
    const t = setup({ revision: '1', data: { theme: 'dark', fontSize: 16, extra: 'x', nested: { a: 1, b: 2 } } })
    await t.sync.ready
    expect(t.store.$state).toEqual({ theme: 'dark', fontSize: 16, extra: 'x', nested: { a: 1, b: 2 } })
    t.sync.apply({ revision: '2', data: { theme: 'dark', fontSize: 16, nested: { a: 5 } } })
    expect(t.store.$state).toEqual({ theme: 'dark', fontSize: 16, nested: { a: 5 } })
    expect('extra' in t.store.$state).toBe(false)
  })

  it('replace mode leaves omitted (local-only) keys alone', async () => {
    const useLocal = defineStore('local', { state: () => ({ theme: 'light', draft: 'typing…' }) })
    const srv = server({ revision: '1', data: { theme: 'dark', fontSize: 1 } })
    const client = new PinionClient({ sourceId: 'w-me', fetch: srv.fetch, sharing: 'off', createEventSource: eventSourceFactory().create })
    const store = useLocal()
    const sync = syncStore(store, { client, topic: 't', omitKeys: ['draft'] })
    await sync.ready
    expect(store.$state).toEqual({ theme: 'dark', fontSize: 1, draft: 'typing…' })
  })

  it('patch mode merges with Pinia semantics and keeps missing keys', async () => {
    const t = setup({ revision: '1', data: { theme: 'dark', fontSize: 16, extra: 'x', nested: { a: 1, b: 2 } } }, { mode: 'patch' })
    await t.sync.ready
    t.sync.apply({ revision: '2', data: { theme: 'light', fontSize: 16, nested: { a: 5 } } })
    expect(t.store.$state).toEqual({ theme: 'light', fontSize: 16, extra: 'x', nested: { a: 5, b: 2 } })
  })

  it('maps the document with toState and reports each apply', async () => {
    const applied: Array<[string, string]> = []
    const t = setup(undefined, {
      toState: (data) => ({ ...data, theme: data.theme.toUpperCase() }),
      onApply: (snapshot, { cause }) => applied.push([snapshot.revision, cause]),
    })
    await t.sync.ready
    expect(t.store.theme).toBe('DARK')
    await t.client.put('t', { theme: 'x', fontSize: 1 })
    expect(applied).toEqual([
      ['1764000000000001', 'initial'],
      ['1764000000000002', 'write'],
    ])
  })

  it('refreshes on every ready (after a reconnect) at the cost of a 304', async () => {
    const t = setup()
    await t.sync.ready
    t.es().ready('c.1')
    await flush()
    const gets = t.srv.gets()
    t.srv.set({ revision: '1764000000000005', data: { theme: 'missed', fontSize: 5 } })
    t.es().fail(false)
    t.es().ready('c.7') // the server had no cursor to replay from, say
    await flush()
    expect(t.srv.gets()).toBe(gets + 1)
    expect(t.store.theme).toBe('missed')
  })

  it('reports a failed fetch and recovers on the next invalidation', async () => {
    const t = setup()
    await t.sync.ready
    t.srv.set({ revision: 'bogus', data: { theme: 'x', fontSize: 1 } })
    t.es().invalidation({ topic: 't', revision: '1764000000000003' }, 'c.1')
    await flush()
    expect(t.errors).toHaveLength(1)
    t.srv.set({ revision: '1764000000000004', data: { theme: 'ok', fontSize: 1 } })
    t.es().invalidation({ topic: 't', revision: '1764000000000004' }, 'c.2')
    await flush()
    expect(t.store.theme).toBe('ok')
  })

  it('stop() unsubscribes and aborts the fetch in flight', async () => {
    const t = setup()
    await t.sync.ready
    t.srv.hold()
    t.srv.set({ revision: '1764000000000002', data: { theme: 'late', fontSize: 1 } })
    t.es().invalidation({ topic: 't', revision: '1764000000000002' }, 'c.1')
    await flush()
    const inFlight = t.srv.calls.at(-1)!
    t.sync.stop()
    expect(inFlight.signal?.aborted).toBe(true)
    expect(t.sync.stopped).toBe(true)
    t.srv.release()
    await flush()
    expect(t.store.theme).toBe('dark')
    const gets = t.srv.gets()
    t.es().invalidation({ topic: 't', revision: '1764000000000003' }, 'c.2')
    t.es().ready('c.2')
    await t.client.put('t', { theme: 'after', fontSize: 1 })
    await flush()
    expect(t.srv.gets()).toBe(gets)
    expect(t.store.theme).toBe('dark')
    expect(t.errors).toEqual([])
    await t.sync.refresh()
    expect(t.srv.gets()).toBe(gets)
  })
})

describe('pinionSync plugin', () => {
  it('syncs stores defined with a sync option and stops them on $dispose', async () => {
    const srv = server({ revision: '3', data: { theme: 'dark', fontSize: 16 } })
    const sources = eventSourceFactory()
    const client = new PinionClient({ sourceId: 'w-me', fetch: srv.fetch, sharing: 'off', createEventSource: sources.create })
    const pinia = createPinia()
    // Pinia installs plugins only once it is installed in an app.
    createApp({}).use(pinia)
    const applied: string[] = []
    pinia.use(pinionSync(client, { ssr: false, onApply: (s, info) => applied.push(`${info.storeId}:${info.topic}@${s.revision}:${info.cause}`) }))
    setActivePinia(pinia)
    const useSynced = defineStore('synced', {
      state: (): Doc => ({ theme: 'light', fontSize: 14 }),
      sync: { topic: 't', mode: 'replace' },
    })
    const usePlain = defineStore('plain', { state: () => ({ n: 1 }) })

    const synced = useSynced()
    expect(synced.$sync).toBeDefined()
    await synced.$sync!.ready
    expect(synced.theme).toBe('dark')
    expect(applied).toEqual(['synced:t@3:initial'])
    expect(usePlain().$sync).toBeUndefined()

    const sync = synced.$sync!
    synced.$dispose()
    expect(sync.stopped).toBe(true)
  })
})
