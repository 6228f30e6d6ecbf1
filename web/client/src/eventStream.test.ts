import { describe, expect, it, vi } from 'vitest'
import { EventStream, parseInvalidation, withCursor } from './eventStream.js'
import { FakeNetwork, FakeTimers, eventSourceFactory } from './testing/fakes.js'
import type { ConnectionState, InvalidationEvent, ReadyEvent } from './types.js'

function setup(options: { initialCursor?: string; online?: boolean; random?: () => number } = {}) {
  const sources = eventSourceFactory()
  const timers = new FakeTimers()
  const network = new FakeNetwork(options.online ?? true)
  const errors: unknown[] = []
  const stream = new EventStream({
    url: '/api/events',
    createEventSource: sources.create,
    initialCursor: options.initialCursor,
    timers,
    network,
    random: options.random ?? (() => 0.5),
    backoff: { minMs: 1000, maxMs: 8000 },
    onError: (e) => errors.push(e),
  })
  const states: ConnectionState[] = []
  const invalidations: InvalidationEvent[] = []
  const readies: ReadyEvent[] = []
  stream.listen({
    state: (s) => states.push(s),
    invalidation: (e) => invalidations.push(e),
    ready: (e) => readies.push(e),
  })
  stream.start()
  const current = () => sources.instances.at(-1)!
  return { stream, sources, timers, network, states, invalidations, readies, errors, current }
}

describe('parseInvalidation', () => {
  it('keeps the known members', () => {
    expect(
      parseInvalidation('{"topic":"cart","revision":"1764000000000018","sourceId":"w-1","timestampMs":1764000000000,"extra":1}'),
    ).toEqual({ topic: 'cart', revision: '1764000000000018', sourceId: 'w-1', timestampMs: 1764000000000 })
    expect(parseInvalidation('{"topic":"cart","revision":"3"}')).toEqual({ topic: 'cart', revision: '3' })
  })
  it.each(['{"topic":"cart"}', '{"revision":"3"}', '{"topic":"cart","revision":3}', 'nope'])('rejects %s', (data) => {
    expect(() => parseInvalidation(data)).toThrow()
  })
})

describe('withCursor', () => {
  it('adds lastEventId, escaped', () => {
    expect(withCursor('/api/events', null)).toBe('/api/events')
    expect(withCursor('/api/events', '7f3a.1042')).toBe('/api/events?lastEventId=7f3a.1042')
    expect(withCursor('/api/events?topic=a', 'a b')).toBe('/api/events?topic=a&lastEventId=a%20b')
  })
})

describe('EventStream', () => {
  it('opens one EventSource for every topic and goes live on ready', () => {
    const t = setup()
    expect(t.sources.instances).toHaveLength(1)
    expect(t.current().url).toBe('/api/events')
    expect(t.stream.state).toBe('connecting')
    expect(t.stream.role).toBe('standalone')

    t.current().ready('7f3a.1041')
    expect(t.stream.state).toBe('live')
    expect(t.stream.cursor).toBe('7f3a.1041')
    expect(t.readies).toEqual([{ cursor: '7f3a.1041', resumed: false }])

    const event = { topic: 'app-settings', revision: '1764000000000018', sourceId: 'w-3f2a', timestampMs: 1764000000000 }
    t.current().invalidation(event, '7f3a.1042')
    expect(t.invalidations).toEqual([event])
    expect(t.stream.cursor).toBe('7f3a.1042')
    expect(t.states).toEqual(['live'])
  })

  it('starts from an initial cursor with ?lastEventId=', () => {
    const t = setup({ initialCursor: '7f3a.9' })
    expect(t.current().url).toBe('/api/events?lastEventId=7f3a.9')
  })

  it('reports a malformed invalidation and does not emit it', () => {
    const t = setup()
    t.current().dispatch('invalidation', '{"topic":"cart","revision":"-1"}', '7f3a.5')
    expect(t.invalidations).toHaveLength(0)
    expect(t.errors).toHaveLength(1)
    // The id still counts: the browser recorded it too.
    expect(t.stream.cursor).toBe('7f3a.5')
  })

  it('lets the browser reconnect by itself and says reconnecting until the next ready', () => {
    const t = setup()
    t.current().ready('c.1')
    t.current().fail(false)
    expect(t.stream.state).toBe('reconnecting')
    expect(t.sources.instances).toHaveLength(1)
    expect(t.timers.pending.size).toBe(0)
    t.current().invalidation({ topic: 'cart', revision: '9' }, 'c.2') // a replayed change
    t.current().ready('c.2')
    expect(t.stream.state).toBe('live')
    expect(t.readies.at(-1)).toEqual({ cursor: 'c.2', resumed: true })
    expect(t.states).toEqual(['live', 'reconnecting', 'live'])
  })

  it('says connecting, not reconnecting, when it never was live', () => {
    const t = setup()
    t.current().fail(false)
    expect(t.stream.state).toBe('connecting')
  })

  it('recreates a CLOSED EventSource after a jittered backoff, resuming from the last cursor', () => {
    const t = setup({ random: () => 0 })
    t.current().ready('c.1')
    t.current().invalidation({ topic: 'cart', revision: '5' }, 'c.7')
    t.current().fail(true) // e.g. a proxy's 502 during a deploy
    expect(t.sources.instances[0]!.closed).toBe(true)
    expect(t.stream.state).toBe('reconnecting')
    expect(t.timers.delays()).toEqual([500]) // 1000 ms halved by the jitter

    t.timers.runAll()
    expect(t.sources.instances).toHaveLength(2)
    expect(t.current().url).toBe('/api/events?lastEventId=c.7')

    // Failing again doubles the delay; a ready resets it.
    t.current().fail(true)
    expect(t.timers.delays()).toEqual([1000])
    t.timers.runAll()
    t.current().ready('c.8')
    expect(t.stream.state).toBe('live')
    t.current().fail(true)
    expect(t.timers.delays()).toEqual([500])
  })

  it('keeps the backoff between half and all of the exponential delay, capped', () => {
    const t = setup({ random: () => 0.999 })
    for (let i = 0; i < 6; i++) {
      t.current().fail(true)
      const [delay] = t.timers.delays()
      const base = Math.min(8000, 1000 * 2 ** i)
      expect(delay).toBeGreaterThanOrEqual(base / 2)
      expect(delay).toBeLessThanOrEqual(base)
      t.timers.runAll()
    }
  })

  it('ignores events of an EventSource it replaced', () => {
    const t = setup()
    const old = t.current()
    old.fail(true)
    t.timers.runAll()
    old.closed = false // a straggler
    old.invalidation({ topic: 'cart', revision: '5' }, 'x.1')
    expect(t.invalidations).toHaveLength(0)
  })

  it('is offline while the browser is, and retries at once when it comes back', () => {
    const t = setup()
    t.current().ready('c.1')
    t.network.set(false)
    expect(t.stream.state).toBe('offline')
    t.current().fail(true)
    expect(t.stream.state).toBe('offline')
    expect(t.timers.pending.size).toBe(1)
    t.network.set(true)
    expect(t.timers.pending.size).toBe(0)
    expect(t.sources.instances).toHaveLength(2)
    expect(t.current().url).toBe('/api/events?lastEventId=c.1')
    expect(t.stream.state).toBe('reconnecting')
    t.current().ready('c.1')
    expect(t.stream.state).toBe('live')
  })

  it('returns to live when the network comes back and the connection survived', () => {
    const t = setup()
    t.current().ready('c.1')
    t.network.set(false)
    t.network.set(true)
    expect(t.stream.state).toBe('live')
    expect(t.sources.instances).toHaveLength(1)
  })

  it('starts offline when the browser is', () => {
    const t = setup({ online: false })
    expect(t.stream.state).toBe('offline')
  })

  it('close() closes the EventSource and cancels a pending reconnect', () => {
    const t = setup()
    t.current().fail(true)
    expect(t.timers.pending.size).toBe(1)
    t.stream.close()
    expect(t.timers.pending.size).toBe(0)
    const t2 = setup()
    t2.stream.close()
    expect(t2.current().closed).toBe(true)
  })

  it('restarts after close(), resuming from the last cursor', () => {
    const t = setup()
    t.current().ready('c.5')
    t.stream.close()
    expect(t.current().closed).toBe(true)
    t.stream.start()
    expect(t.sources.instances).toHaveLength(2)
    expect(t.current().url).toBe('/api/events?lastEventId=c.5')
    t.current().invalidation({ topic: 'cart', revision: '6' }, 'c.6')
    expect(t.stream.cursor).toBe('c.6')
  })

  it('isolates a throwing listener', () => {
    const t = setup()
    const good = vi.fn()
    t.stream.listen({ invalidation: () => { throw new Error('boom') } })
    t.stream.listen({ invalidation: good })
    t.current().invalidation({ topic: 'cart', revision: '5' }, 'c.1')
    expect(good).toHaveBeenCalledOnce()
    expect(t.errors).toHaveLength(1)
  })
})
