import { createPinia, defineStore, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PinionClient } from './client.js'
import { freshnessPath, reportFreshness, type FreshnessOptions, type FreshnessSample } from './freshness.js'
import { syncStore } from './pinia.js'
import { eventSourceFactory, fakeFetch, FakeTimers, flush, json } from './testing/fakes.js'

/** A reporter on fake timers and a fake sender; `rolls` are the sampler's draws. */
function setup(options: FreshnessOptions = {}, rolls: number[] = []) {
  const timers = new FakeTimers()
  const sent: { url: string; samples: FreshnessSample[] }[] = []
  const reporter = reportFreshness({
    sampleRate: 1,
    timers,
    now: timers.now,
    random: () => rolls.shift() ?? 0,
    send: (url, body) => sent.push({ url, ...(JSON.parse(body) as { samples: FreshnessSample[] }) }),
    target: null,
    ...options,
  })
  return { timers, sent, reporter }
}

describe('reportFreshness', () => {
  it('is off by default: records, sends and listens to nothing', () => {
    const send = vi.fn()
    const target = { addEventListener: vi.fn(), removeEventListener: vi.fn() }
    const timers = new FakeTimers()
    const r = reportFreshness({ send, timers, target })
    expect(r.enabled).toBe(false)
    r.onApply({ revision: '1764000000000002' }, { topic: 't', cause: 'invalidation' })
    r.record('t', '1764000000000003')
    r.flush()
    r.stop()
    expect(r.pending).toBe(0)
    expect(timers.pending.size).toBe(0)
    expect(send).not.toHaveBeenCalled()
    expect(target.addEventListener).not.toHaveBeenCalled()
  })

  it('sends one batch per flush period, each sample with the time since its apply', () => {
    const t = setup({ flushMs: 10_000 })
    t.reporter.record('cart', '1764000000000002')
    t.timers.advance(2_500)
    t.reporter.record('app-settings', '1764000000000003')
    expect(t.sent).toEqual([])
    expect(t.timers.pending.size).toBe(1) // one timer for the batch, not one per sample
    t.timers.advance(7_500)
    expect(t.sent).toEqual([
      {
        url: freshnessPath,
        samples: [
          { topic: 'cart', revision: '1764000000000002', appliedAgoMs: 10_000 },
          { topic: 'app-settings', revision: '1764000000000003', appliedAgoMs: 7_500 },
        ],
      },
    ])
    t.timers.advance(60_000)
    expect(t.sent).toHaveLength(1) // nothing waiting, nothing sent
  })

  it('sends a full batch at once, never more than maxSamples in one beacon', () => {
    const t = setup({ maxSamples: 3, baseUrl: 'https://api.example/' })
    for (let i = 0; i < 7; i++) t.reporter.record('t', String(1764000000000000n + BigInt(i)))
    expect(t.sent.map((s) => s.samples.length)).toEqual([3, 3])
    expect(t.sent[0]!.url).toBe('https://api.example/api/freshness')
    t.timers.advance(10_000)
    expect(t.sent.map((s) => s.samples.length)).toEqual([3, 3, 1])
  })

  it('samples at the given rate', () => {
    // Draws below 0.25 are kept.
    const t = setup({ sampleRate: 0.25 }, [0.1, 0.5, 0.24, 0.25, 0.9])
    for (let i = 0; i < 5; i++) t.reporter.record('t', String(1764000000000001 + i))
    t.reporter.flush()
    expect(t.sent[0]!.samples.map((s) => s.revision)).toEqual(['1764000000000001', '1764000000000003'])
  })

  it('counts only the applies an invalidation caused, by default', () => {
    const t = setup()
    for (const cause of ['initial', 'write', 'wake', 'ready', 'manual', 'invalidation'] as const) {
      t.reporter.onApply({ revision: '1764000000000009' }, { topic: cause, cause })
    }
    t.reporter.flush()
    expect(t.sent[0]!.samples.map((s) => s.topic)).toEqual(['invalidation'])
  })

  it('drops samples the server would refuse (applied over an hour before sending)', () => {
    const t = setup({ flushMs: 2 * 3_600_000 })
    t.reporter.record('old', '1764000000000001')
    t.timers.advance(3_600_001)
    t.reporter.record('new', '1764000000000002')
    t.reporter.flush()
    expect(t.sent[0]!.samples.map((s) => s.topic)).toEqual(['new'])
  })

  it('flushes when the page is hidden, and stop flushes and detaches', () => {
    const listeners = new Map<string, (e: Event) => void>()
    const target = {
      addEventListener: (type: string, fn: (e: Event) => void) => listeners.set(type, fn),
      removeEventListener: (type: string) => listeners.delete(type),
    } as unknown as EventTarget
    const t = setup({ target })
    t.reporter.record('t', '1764000000000001')
    listeners.get('pagehide')!(new Event('pagehide'))
    expect(t.sent).toHaveLength(1)
    t.reporter.record('t', '1764000000000002')
    t.reporter.stop()
    expect(t.sent).toHaveLength(2)
    expect(listeners.size).toBe(0)
    t.reporter.record('t', '1764000000000003')
    t.reporter.flush()
    expect(t.sent).toHaveLength(2)
  })

  it('never throws into the page when sending fails', () => {
    const t = setup({
      send: () => {
        throw new Error('offline')
      },
    })
    t.reporter.record('t', '1764000000000001')
    expect(() => t.reporter.flush()).not.toThrow()
    expect(t.reporter.pending).toBe(0)
  })
})

describe('the default sender', () => {
  const original = { navigator: globalThis.navigator, fetch: globalThis.fetch }
  afterEach(() => {
    vi.unstubAllGlobals()
    globalThis.fetch = original.fetch
  })

  it('uses sendBeacon with a JSON body', async () => {
    const beacons: { url: string; type: string; body: string }[] = []
    vi.stubGlobal('navigator', {
      sendBeacon: (url: string, data: Blob) => {
        void data.text().then((body) => beacons.push({ url, type: data.type, body }))
        return true
      },
    })
    const r = reportFreshness({ sampleRate: 1, now: () => 5, target: null })
    r.record('t', '1764000000000001')
    r.flush()
    await flush()
    expect(beacons).toEqual([
      { url: '/api/freshness', type: 'application/json', body: '{"samples":[{"topic":"t","revision":"1764000000000001","appliedAgoMs":0}]}' },
    ])
  })

  it('falls back to fetch with keepalive when the beacon is refused', async () => {
    vi.stubGlobal('navigator', { sendBeacon: () => false })
    const { fetch, calls } = fakeFetch(() => new Response(null, { status: 204 }))
    vi.stubGlobal('fetch', fetch)
    const spy = vi.spyOn(globalThis, 'fetch')
    const r = reportFreshness({ sampleRate: 1, baseUrl: 'https://api.example', target: null })
    r.record('t', '1764000000000001')
    r.flush()
    await flush()
    expect(calls).toHaveLength(1)
    expect(calls[0]!.url).toBe('https://api.example/api/freshness')
    const init = spy.mock.calls[0]![1]!
    expect(init.keepalive).toBe(true)
    expect(init.method).toBe('POST')
  })
})

// The hook where the Pinia binding applies: a real client and syncStore,
// fed by a fake stream and server.
describe('with syncStore', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('reports the revision an invalidation brought, not the first load', async () => {
    let current = { revision: '1764000000000001', data: { n: 1 } }
    const { fetch } = fakeFetch(() => json(200, current))
    const sources = eventSourceFactory()
    const client = new PinionClient({ sourceId: 'w-me', fetch, sharing: 'off', createEventSource: sources.create })
    const t = setup()
    const store = defineStore('fresh', { state: () => ({ n: 0 }) })()
    const sync = syncStore(store, { client, topic: 't', onApply: (s, info) => t.reporter.onApply(s, { ...info, topic: 't' }) })
    await sync.ready
    sources.instances[0]!.ready('c.1')
    await flush()
    current = { revision: '1764000000000002', data: { n: 2 } }
    sources.instances[0]!.invalidation({ topic: 't', revision: '1764000000000002', sourceId: 'w-other' }, 'c.2')
    await flush()
    expect(store.n).toBe(2)
    t.timers.advance(40)
    t.reporter.flush()
    expect(t.sent).toEqual([{ url: freshnessPath, samples: [{ topic: 't', revision: '1764000000000002', appliedAgoMs: 40 }] }])
    sync.stop()
  })
})
