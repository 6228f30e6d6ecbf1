/** The Pinia binding's reactive state, force refresh, retry, wake, shouldRefresh, debounce, logger, SSR, HMR and setup stores. */
import { createPinia, defineStore, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { computed, createApp, effect, nextTick, ref, watch } from 'vue'
import { PinionClient, type PageLifecycle } from './client.js'
import { ProblemError, type SyncErrorContext } from './errors.js'
import type { Logger } from './logger.js'
import { pinionSync, syncStore, type SyncStoreOptions } from './pinia.js'
import { FakeTimers, eventSourceFactory, fakeFetch, flush, json, type Recorded } from './testing/fakes.js'

interface Doc {
  theme: string
  fontSize: number
}

/** A server with one document; `fail(n)` makes the next n GETs answer 503. */
function server(initial = { revision: '5', data: { theme: 'dark', fontSize: 16 } as Doc }) {
  let current = initial
  let failures = 0
  const { fetch, calls } = fakeFetch(async (req: Recorded) => {
    if (req.method === 'GET') {
      if (failures > 0) {
        failures--
        return json(503, { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'down' })
      }
      if (req.headers['if-none-match'] === `"${current.revision}"`) return new Response(null, { status: 304 })
      return json(200, current)
    }
    current = { revision: String(BigInt(current.revision) + 1n), data: req.body as Doc }
    return json(200, current)
  })
  return {
    fetch,
    calls,
    gets: () => calls.filter((c) => c.method === 'GET').length,
    set: (next: { revision: string; data: Doc }) => (current = next),
    fail: (n: number) => (failures = n),
  }
}

function client(srv: ReturnType<typeof server>, extra: { lifecycle?: PageLifecycle; logger?: Logger } = {}) {
  const sources = eventSourceFactory()
  const c = new PinionClient({
    sourceId: 'w-me',
    fetch: srv.fetch,
    sharing: 'off',
    createEventSource: sources.create,
    lifecycle: extra.lifecycle ?? false,
    logger: extra.logger,
  })
  return { client: c, es: () => sources.instances[0]! }
}

const useDoc = defineStore('doc', { state: (): Doc => ({ theme: 'light', fontSize: 14 }) })

function setup(options: Partial<SyncStoreOptions<Doc>> = {}, extra: Parameters<typeof client>[1] = {}) {
  const srv = server()
  const c = client(srv, extra)
  const errors: SyncErrorContext[] = []
  const store = useDoc()
  const timers = new FakeTimers()
  const sync = syncStore<Doc>(store, {
    client: c.client,
    topic: 't',
    onError: (_, ctx) => errors.push(ctx),
    timers,
    random: () => 1,
    ...options,
  })
  return { srv, ...c, store, sync, errors, timers }
}

beforeEach(() => {
  setActivePinia(createPinia())
})

describe('reactive sync state', () => {
  it('updates computed values and watchers as revisions arrive', async () => {
    const t = setup()
    const shown = computed(() => `${t.sync.status}@${t.sync.revision}`)
    const seen: string[] = []
    watch(() => t.sync.revision, (r) => seen.push(String(r)))
    expect(shown.value).toBe('loading@null')
    expect(t.sync.fetching).toBe(true)
    await t.sync.ready
    expect(shown.value).toBe('synced@5')
    expect(t.sync.fetching).toBe(false)

    t.srv.set({ revision: '6', data: { theme: 'light', fontSize: 12 } })
    t.es().invalidation({ topic: 't', revision: '6' }, 'c6')
    expect(t.sync.status).toBe('stale')
    expect(t.sync.latestRevision).toBe('6')
    await flush()
    expect(shown.value).toBe('synced@6')
    await nextTick()
    expect(seen).toEqual(['5', '6'])
  })

  it('is reactive through a plugin store in a rendered template', async () => {
    const srv = server()
    const { client: c } = client(srv)
    const pinia = createPinia()
    pinia.use(pinionSync(c, { ssr: false }))
    const useS = defineStore('s', { state: (): Doc => ({ theme: 'x', fontSize: 1 }), sync: { topic: 't' } })
    createApp({}).use(pinia) // Pinia applies plugins once installed in an app
    // A render effect, as a template compiles to: it must re-run when $sync changes.
    let html = ''
    const s = useS(pinia)
    effect(() => {
      html = `rev ${s.$sync?.revision} ${s.$sync?.status}`
    })
    expect(html).toBe('rev null loading')
    await s.$sync!.ready
    expect(html).toBe('rev 5 synced')
  })
})

describe('force refresh', () => {
  it('restores the server document after a local edit even when the revision is unchanged', async () => {
    const t = setup()
    await t.sync.ready
    t.store.fontSize = 99 // a direct v-model edit
    await t.sync.refresh()
    expect(t.store.fontSize).toBe(99) // a 304: the gate keeps the local edit
    expect(t.srv.calls.at(-1)!.headers['if-none-match']).toBe('"5"')
    await t.sync.refresh({ force: true })
    expect(t.srv.calls.at(-1)!.headers['if-none-match']).toBeUndefined()
    expect(t.store.fontSize).toBe(16)
    t.store.$reset()
    expect(t.store.theme).toBe('light')
    await t.sync.reload()
    expect(t.store.$state).toEqual({ theme: 'dark', fontSize: 16 })
    expect(t.sync.revision).toBe('5')
  })
})

describe('retry', () => {
  it('retries a failed read with backoff and reports each failure with phase and context', async () => {
    const t = setup()
    t.srv.fail(2)
    await flush()
    expect(t.sync.status).toBe('loading')
    expect(t.errors).toHaveLength(1)
    expect(t.errors[0]).toMatchObject({ phase: 'getSnapshot', topic: 't', attempt: 1, willRetry: true, nextDelayMs: 500 })
    expect(t.timers.delays()).toEqual([500])
    t.timers.advance(500)
    await flush()
    expect(t.errors[1]).toMatchObject({ attempt: 2, willRetry: true, nextDelayMs: 1000 })
    t.timers.advance(1000)
    await t.sync.ready
    expect(t.sync.status).toBe('synced')
    expect(t.sync.error).toBeNull()
    expect(t.store.fontSize).toBe(16)
  })

  it('gives up after maxAttempts with status error and keeps the last good state; the next trigger tries again', async () => {
    const t = setup({ retry: { maxAttempts: 2 } })
    t.srv.fail(5)
    await flush()
    t.timers.advance(500)
    await t.sync.ready
    expect(t.sync.status).toBe('error')
    expect(t.sync.error).toBeInstanceOf(ProblemError)
    expect(t.errors.at(-1)).toMatchObject({ attempt: 2, willRetry: false })
    t.srv.fail(0)
    t.es().ready('c1')
    await flush()
    expect(t.sync.status).toBe('synced')
  })

  it('does not retry what will not change (a 404)', async () => {
    const srv = server()
    const { fetch } = fakeFetch(() => json(404, { type: 'about:blank', title: 'Not Found', status: 404, detail: '' }))
    void srv
    const c = new PinionClient({ fetch, sharing: 'off', createEventSource: eventSourceFactory().create, lifecycle: false })
    const errors: SyncErrorContext[] = []
    const sync = syncStore(useDoc(), { client: c, topic: 't', onError: (_, ctx) => errors.push(ctx) })
    await sync.ready
    expect(errors).toHaveLength(1)
    expect(errors[0]!.willRetry).toBe(false)
  })

  it('times out a hung read and retries it', async () => {
    let calls = 0
    const fetch = (_u: string, init?: RequestInit) => {
      calls++
      if (calls === 1) {
        return new Promise<Response>((_, reject) =>
          init?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
        )
      }
      return Promise.resolve(json(200, { revision: '3', data: { theme: 'a', fontSize: 1 } }))
    }
    const c = new PinionClient({ fetch, sharing: 'off', createEventSource: eventSourceFactory().create, lifecycle: false })
    const errors: SyncErrorContext[] = []
    const sync = syncStore(useDoc(), { client: c, topic: 't', timeoutMs: 20, retry: { initialDelayMs: 1 }, onError: (_, ctx) => errors.push(ctx) })
    await sync.ready
    expect((errors[0]!.error as Error).name).toBe('TimeoutError')
    expect(sync.revision).toBe('3')
  })
})

describe('wake', () => {
  it('refreshes when the page becomes visible or comes back online', async () => {
    let h: Parameters<PageLifecycle['subscribe']>[0] | null = null
    const lifecycle: PageLifecycle = { subscribe: (handlers) => ((h = handlers), () => (h = null)) }
    const t = setup({}, { lifecycle })
    await t.sync.ready
    t.client.connect()
    t.srv.set({ revision: '9', data: { theme: 'missed', fontSize: 1 } })
    h!.visible()
    await flush()
    expect(t.store.theme).toBe('missed')
    const before = t.srv.gets()
    h!.online()
    await flush()
    expect(t.srv.gets()).toBe(before + 1) // a 304
  })
})

describe('shouldRefresh and debounce', () => {
  it('shouldRefresh can decline an invalidation', async () => {
    const t = setup({ shouldRefresh: (e) => e.sourceId !== 'w-admin' })
    await t.sync.ready
    const before = t.srv.gets()
    t.es().invalidation({ topic: 't', revision: '6', sourceId: 'w-admin' }, 'c6')
    await flush()
    expect(t.srv.gets()).toBe(before)
    expect(t.sync.latestRevision).toBe('6')
    t.es().invalidation({ topic: 't', revision: '7', sourceId: 'w-other' }, 'c7')
    await flush()
    expect(t.srv.gets()).toBe(before + 1)
  })

  it('debounce turns a burst into one read', async () => {
    const t = setup({ debounceMs: 100 })
    await t.sync.ready
    const before = t.srv.gets()
    for (let r = 6; r <= 15; r++) {
      t.srv.set({ revision: String(r), data: { theme: `r${r}`, fontSize: r } })
      t.es().invalidation({ topic: 't', revision: String(r) }, `c${r}`)
      t.timers.advance(50)
    }
    await flush()
    expect(t.srv.gets()).toBe(before)
    t.timers.advance(100)
    await flush()
    expect(t.srv.gets()).toBe(before + 1)
    expect(t.store.theme).toBe('r15')
  })
})

describe('logger', () => {
  it('traces every decision of a store', async () => {
    const lines: string[] = []
    const logger: Logger = { debug: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) }
    const t = setup({ logger })
    await t.sync.ready
    t.es().invalidation({ topic: 't', revision: '5' }, 'c5')
    await t.sync.refresh()
    expect(lines).toEqual(
      expect.arrayContaining(['sync t: refreshing', 'sync t: applied', 'sync t: invalidation not newer; ignored', 'sync t: snapshot not newer; skipped']),
    )
  })
})

describe('the plugin', () => {
  it('starts nothing during SSR: $sync is idle and nothing is fetched', async () => {
    const srv = server()
    const { client: c } = client(srv)
    const pinia = createPinia()
    pinia.use(pinionSync(c)) // Node: no window, so SSR
    createApp({}).use(pinia)
    const useS = defineStore('ssr', { state: (): Doc => ({ theme: 'x', fontSize: 1 }), sync: { topic: 't' } })
    const s = useS(pinia)
    await flush()
    expect(s.$sync!.status).toBe('idle')
    expect(srv.gets()).toBe(0)
    s.$sync!.start() // on the client, after hydration
    await s.$sync!.ready
    expect(s.theme).toBe('dark')
  })

  it('skips the __hot: copies Pinia makes on hot updates', () => {
    const srv = server()
    const { client: c } = client(srv)
    const pinia = createPinia()
    pinia.use(pinionSync(c, { ssr: false }))
    createApp({}).use(pinia)
    const useHot = defineStore('__hot:doc', { state: (): Doc => ({ theme: 'x', fontSize: 1 }), sync: { topic: 't' } })
    expect(useHot(pinia).$sync).toBeUndefined()
  })

  for (const mode of ['replace', 'patch'] as const) {
    it(`syncs a setup store in ${mode} mode and keeps its refs connected`, async () => {
      const srv = server({ revision: '5', data: { theme: 'dark', fontSize: 16 } })
      const { client: c, es } = client(srv)
      const pinia = createPinia()
      pinia.use(pinionSync(c, { ssr: false }))
      createApp({}).use(pinia)
      const useSetup = defineStore(
        `setup-${mode}`,
        () => {
          const theme = ref('light')
          const fontSize = ref(14)
          const extra = ref<string | undefined>('local')
          const label = computed(() => `${theme.value}/${fontSize.value}`)
          return { theme, fontSize, extra, label }
        },
        { sync: { topic: 't', mode } },
      )
      const s = useSetup(pinia)
      await s.$sync!.ready
      expect(s.label).toBe('dark/16')
      if (mode === 'replace') expect(s.extra).toBeUndefined() // not in the document
      else expect(s.extra).toBe('local')
      srv.set({ revision: '6', data: { theme: 'light', fontSize: 20 } })
      es().invalidation({ topic: 't', revision: '6' }, 'c6')
      await flush()
      expect(s.label).toBe('light/20')
      // Still one state: writing through the store reaches pinia.state and back.
      s.theme = 'mine'
      expect(pinia.state.value[`setup-${mode}`]!.theme).toBe('mine')
      expect(s.label).toBe('mine/20')
      s.extra = 'again'
      expect(pinia.state.value[`setup-${mode}`]!.extra).toBe('again')
    })
  }
})
