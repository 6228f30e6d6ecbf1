import { describe, expect, it } from 'vitest'
import { PinionClient } from './client.js'
import { EventStream } from './eventStream.js'
import { SharedEventStream } from './sharedStream.js'
import { FakeBroadcastHub, FakeLocks, FakeNetwork, FakeTimers, eventSourceFactory, flush } from './testing/fakes.js'
import type { ConnectionState, InvalidationEvent, ReadyEvent } from './types.js'

/** A browser with one lock manager and one BroadcastChannel hub, and a way to open tabs in it. */
function browser() {
  const locks = new FakeLocks()
  const hub = new FakeBroadcastHub()
  const sources = eventSourceFactory()
  const open = () => {
    const stream = new SharedEventStream({
      url: '/api/events',
      createEventSource: sources.create,
      locks: locks.manager(),
      createBroadcastChannel: hub.create,
      timers: new FakeTimers(),
      network: new FakeNetwork(),
    })
    const tab = {
      stream,
      states: [] as ConnectionState[],
      invalidations: [] as InvalidationEvent[],
      readies: [] as ReadyEvent[],
    }
    stream.listen({
      state: (s) => tab.states.push(s),
      invalidation: (e) => tab.invalidations.push(e),
      ready: (e) => tab.readies.push(e),
    })
    stream.start()
    return tab
  }
  const live = () => sources.instances.filter((s) => !s.closed)
  return { open, sources, live }
}

describe('SharedEventStream', () => {
  it('elects one leader: ten tabs share a single connection', async () => {
    const b = browser()
    const tabs = Array.from({ length: 10 }, () => b.open())
    await flush()
    expect(b.sources.instances).toHaveLength(1)
    expect(tabs.map((t) => t.stream.role)).toEqual(['leader', ...Array(9).fill('follower')])
  })

  it('relays invalidations, ready and the connection state to followers', async () => {
    const b = browser()
    const leader = b.open()
    const follower = b.open()
    await flush()
    const source = b.live()[0]!
    expect(follower.stream.state).toBe('connecting')

    source.ready('c.1')
    await flush()
    expect(leader.stream.state).toBe('live')
    expect(follower.stream.state).toBe('live')
    expect(follower.readies).toEqual([{ cursor: 'c.1', resumed: false }])

    const event = { topic: 'cart', revision: '1764000000000018', sourceId: 'w-1', timestampMs: 1 }
    source.invalidation(event, 'c.2')
    await flush()
    expect(leader.invalidations).toEqual([event])
    expect(follower.invalidations).toEqual([event])
    expect(follower.stream.cursor).toBe('c.2')

    source.fail(false)
    await flush()
    expect(follower.stream.state).toBe('reconnecting')
  })

  it('tells a tab that joins later the current state', async () => {
    const b = browser()
    b.open()
    await flush()
    b.live()[0]!.ready('c.1')
    await flush()
    const late = b.open()
    await flush()
    expect(late.stream.role).toBe('follower')
    expect(late.stream.state).toBe('live')
    expect(late.stream.cursor).toBe('c.1')
  })

  it('hands over to a new leader that resumes from the last cursor relayed', async () => {
    const b = browser()
    const first = b.open()
    const second = b.open()
    const third = b.open()
    await flush()
    const source = b.live()[0]!
    source.ready('c.1')
    source.invalidation({ topic: 'cart', revision: '5' }, 'c.2')
    source.invalidation({ topic: 'app-settings', revision: '6' }, 'c.3')
    await flush()

    first.stream.close() // the leader's tab closes
    await flush()
    expect(source.closed).toBe(true)
    expect(second.stream.role).toBe('leader')
    expect(third.stream.role).toBe('follower')
    expect(b.live()).toHaveLength(1)
    const next = b.live()[0]!
    expect(next.url).toBe('/api/events?lastEventId=c.3')
    expect(second.stream.state).toBe('reconnecting')
    expect(third.stream.state).toBe('reconnecting')

    // The server replays what changed after c.3, then ready: every tab hears both.
    next.invalidation({ topic: 'cart', revision: '7' }, 'c.4')
    next.ready('c.4')
    await flush()
    for (const tab of [second, third]) {
      expect(tab.invalidations.at(-1)).toEqual({ topic: 'cart', revision: '7' })
      expect(tab.readies.at(-1)).toEqual({ cursor: 'c.4', resumed: true })
      expect(tab.stream.state).toBe('live')
    }
    expect(first.invalidations).toHaveLength(2)
  })

  it('a closed follower withdraws from the election', async () => {
    const b = browser()
    const first = b.open()
    const second = b.open()
    const third = b.open()
    await flush()
    second.stream.close()
    first.stream.close()
    await flush()
    expect(second.stream.role).toBe('follower')
    expect(third.stream.role).toBe('leader')
    expect(b.live()).toHaveLength(1)
  })
})

describe('PinionClient sharing', () => {
  it('elects over the BroadcastChannel when the browser has no Web Locks', () => {
    const original = (globalThis.navigator as { locks?: unknown } | undefined)?.locks
    expect(original).toBeUndefined() // Node has BroadcastChannel but no Web Locks
    const client = new PinionClient({ sharing: 'auto', createEventSource: eventSourceFactory().create, lifecycle: false })
    expect(client.stream).toBeInstanceOf(SharedEventStream)
    expect((client.stream as SharedEventStream).election).toBe('channel')
  })

  it('falls back to one stream per tab without BroadcastChannel', () => {
    const saved = globalThis.BroadcastChannel
    // @ts-expect-error: removing it for the test
    delete globalThis.BroadcastChannel
    try {
      const client = new PinionClient({ sharing: 'auto', createEventSource: eventSourceFactory().create, lifecycle: false })
      expect(client.stream).toBeInstanceOf(EventStream)
      expect(client.role).toBe('standalone')
    } finally {
      globalThis.BroadcastChannel = saved
    }
  })

  it('uses the shared stream when given locks and channels', () => {
    const client = new PinionClient({
      sharing: { locks: new FakeLocks().manager(), createBroadcastChannel: new FakeBroadcastHub().create },
      createEventSource: eventSourceFactory().create,
    })
    expect(client.stream).toBeInstanceOf(SharedEventStream)
  })
})

/** Tabs with their own clocks, so one can be frozen (a suspended or paused tab runs no timers). */
function tabs(kind: 'locks' | 'none' | 'rejecting') {
  const locks = new FakeLocks()
  const hub = new FakeBroadcastHub()
  const sources = eventSourceFactory()
  const all: Array<{ stream: SharedEventStream; timers: FakeTimers; frozen: boolean; visible: boolean; id: string }> = []
  const open = (id: string, visible = true) => {
    const timers = new FakeTimers()
    const tab = { stream: null as unknown as SharedEventStream, timers, frozen: false, visible, id }
    tab.stream = new SharedEventStream({
      url: '/api/events',
      createEventSource: sources.create,
      locks: kind === 'locks' ? locks.manager() : kind === 'rejecting' ? FakeLocks.unavailable() : null,
      // A frozen tab handles no messages either.
      createBroadcastChannel: (name) => {
        const channel = hub.create(name)
        return {
          postMessage: (m) => channel.postMessage(m),
          close: () => channel.close(),
          addEventListener: (type, listener) => channel.addEventListener(type, (e) => tab.frozen || listener(e)),
        }
      },
      timers,
      now: timers.now,
      network: new FakeNetwork(),
      visible: () => tab.visible,
      tabId: id,
    })
    all.push(tab)
    tab.stream.start()
    return tab
  }
  /** Lets `ms` pass in every tab that is not frozen, in small steps. */
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      for (const tab of all) if (!tab.frozen) tab.timers.advance(100)
      await flush(2)
    }
  }
  const leaders = () => all.filter((t) => t.stream.role === 'leader').map((t) => t.id)
  const live = () => sources.instances.filter((s) => !s.closed)
  return { open, advance, leaders, live, sources }
}

describe('SharedEventStream liveness', () => {
  it('a visible follower steals the lock from a frozen leader and resumes from the last cursor', async () => {
    const b = tabs('locks')
    const leader = b.open('a')
    await flush()
    const hidden = b.open('b', false)
    const visible = b.open('c', true)
    await flush()
    b.live()[0]!.ready('c.1')
    b.live()[0]!.invalidation({ topic: 't', revision: '2' }, 'c.2')
    await b.advance(1000)
    expect(b.leaders()).toEqual(['a'])
    expect(visible.stream.cursor).toBe('c.2')

    leader.frozen = true // no heartbeats any more, but the lock is still held
    await b.advance(5000)
    expect(b.leaders()).toEqual(['a']) // not yet: 3 heartbeats of silence
    await b.advance(2000)
    expect(visible.stream.role).toBe('leader')
    expect(hidden.stream.role).toBe('follower') // visible tabs take over first
    expect(b.leaders()).toEqual(['c'])
    expect(b.live()).toHaveLength(1)
    expect(b.live()[0]!.url).toBe('/api/events?lastEventId=c.2')

    // The thawed leader finds its lock gone and follows.
    leader.frozen = false
    await b.advance(3000)
    expect(b.leaders()).toEqual(['c'])
    expect(leader.stream.role).toBe('follower')
  })

  it('a hidden follower takes over too when no visible one does, later', async () => {
    const b = tabs('locks')
    const leader = b.open('a')
    await flush()
    const hidden = b.open('b', false)
    await b.advance(500)
    leader.frozen = true
    await b.advance(7000)
    expect(hidden.stream.role).toBe('follower')
    await b.advance(7000)
    expect(hidden.stream.role).toBe('leader')
  })

  it('without Web Locks, ten tabs elect one leader over the channel and re-elect when it leaves or freezes', async () => {
    const b = tabs('none')
    const all = Array.from({ length: 10 }, (_, i) => b.open(`t${i}`))
    await b.advance(2000)
    expect(b.leaders()).toHaveLength(1)
    expect(b.live()).toHaveLength(1)
    const first = all.find((t) => t.stream.role === 'leader')!
    b.live()[0]!.ready('c.7')
    await b.advance(500)
    expect(all.every((t) => t.stream.state === 'live')).toBe(true)

    first.stream.close()
    await b.advance(2000)
    expect(b.leaders()).toHaveLength(1)
    expect(b.live()).toHaveLength(1)
    expect(b.live()[0]!.url).toBe('/api/events?lastEventId=c.7')

    const second = all.find((t) => t.stream.role === 'leader')!
    second.frozen = true
    await b.advance(9000)
    const others = b.leaders().filter((id) => id !== second.id)
    expect(others).toHaveLength(1)
    // Thawed, the old leader hears a rival: of two leaders the lower id stays.
    second.frozen = false
    await b.advance(3000)
    expect(b.leaders()).toHaveLength(1)
    expect(b.live()).toHaveLength(1)
  })

  it('elects over the channel when Web Locks reject (file://, sandboxed frames)', async () => {
    const b = tabs('rejecting')
    const all = [b.open('x'), b.open('y'), b.open('z')]
    await b.advance(2000)
    expect(b.leaders()).toHaveLength(1)
    expect(all.every((t) => t.stream.election === 'channel')).toBe(true)
    expect(b.live()).toHaveLength(1)
  })
})
