/** Credentials, headers, timeouts, forced reads, lifecycle and names of the transport (issue 13). */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PinionClient, electionName, type PageLifecycle } from './client.js'
import { TimeoutError, isRetryable, ProblemError } from './errors.js'
import { HttpApi, defaultCredentials } from './http.js'
import { createConsoleLogger, tagLogger, type Logger } from './logger.js'
import { SharedEventStream } from './sharedStream.js'
import { FakeBroadcastHub, FakeLocks, eventSourceFactory, fakeFetch, flush, json } from './testing/fakes.js'

const sourceId = 'w-test'

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('credentials', () => {
  it('are same-origin for the page origin and include for another one', () => {
    vi.stubGlobal('location', { origin: 'https://app.example', href: 'https://app.example/x' })
    expect(defaultCredentials('')).toBe('same-origin')
    expect(defaultCredentials(undefined)).toBe('same-origin')
    expect(defaultCredentials('/prefix')).toBe('same-origin')
    expect(defaultCredentials('https://app.example/api-root')).toBe('same-origin')
    expect(defaultCredentials('https://api.example')).toBe('include')
    expect(defaultCredentials('http://app.example')).toBe('include')
  })

  it('go with reads and writes, and the stream uses withCredentials exactly when they are include', async () => {
    vi.stubGlobal('location', { origin: 'https://app.example', href: 'https://app.example/' })
    const { fetch, calls } = fakeFetch(() => json(200, { revision: '1', data: {} }))
    const sources = eventSourceFactory()
    const cross = new PinionClient({ baseUrl: 'https://api.example', fetch, sharing: 'off', createEventSource: sources.create, lifecycle: false })
    await cross.get('t')
    await cross.put('t', {})
    cross.connect()
    expect(calls.map((c) => c.credentials)).toEqual(['include', 'include'])
    expect(sources.instances[0]!.url).toBe('https://api.example/api/events')
    expect(sources.instances[0]!.withCredentials).toBe(true)

    const same = new PinionClient({ fetch, sharing: 'off', createEventSource: sources.create, lifecycle: false })
    await same.get('t')
    same.connect()
    expect(calls[2]!.credentials).toBe('same-origin')
    expect(sources.instances[1]!.withCredentials).toBe(false)

    const omit = new PinionClient({ baseUrl: 'https://api.example', credentials: 'omit', fetch, sharing: 'off', createEventSource: sources.create, lifecycle: false })
    await omit.get('t')
    omit.connect()
    expect(calls[3]!.credentials).toBe('omit')
    expect(sources.instances[2]!.withCredentials).toBe(false)
  })
})

describe('headers', () => {
  it('are asked for on every request and cannot override the protocol headers', async () => {
    let token = 0
    const { fetch, calls } = fakeFetch(() => json(200, { revision: '1', data: {} }))
    const api = new HttpApi({
      fetch,
      sourceId,
      headers: async () => ({ Authorization: `Bearer t${++token}`, 'X-Source-Id': 'forged' }),
    })
    await api.getSnapshot('t')
    await api.put('t', {})
    await api.listTopics().catch(() => {})
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3'])
    expect(calls[1]!.headers['x-source-id']).toBe(sourceId)
  })
})

/** A fetch that never answers, and rejects as the browser's does when aborted. */
function hangingFetch(_url: string, init?: RequestInit): Promise<Response> {
  const abortError = () => Object.assign(new Error('aborted'), { name: 'AbortError' })
  return new Promise<Response>((_, reject) => {
    if (init?.signal?.aborted) reject(abortError())
    init?.signal?.addEventListener('abort', () => reject(abortError()))
  })
}

describe('timeouts', () => {
  it('abort a hung snapshot read with a TimeoutError, which is retryable', async () => {
    const fetch = hangingFetch
    const api = new HttpApi({ fetch, sourceId, timeoutMs: 20 })
    const error = await api.getSnapshot('t').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(isRetryable(error)).toBe(true)
  })

  it('leave a caller abort an abort', async () => {
    const fetch = hangingFetch
    const api = new HttpApi({ fetch, sourceId, timeoutMs: 10_000 })
    const controller = new AbortController()
    const pending = api.getSnapshot('t', { signal: controller.signal }).catch((e: unknown) => e)
    controller.abort()
    expect(((await pending) as Error).name).toBe('AbortError')
  })

  it('classify what is worth retrying', () => {
    const problem = (status: number) => new ProblemError({ type: 'about:blank', title: '', status, detail: '' })
    expect(isRetryable(problem(503))).toBe(true)
    expect(isRetryable(problem(429))).toBe(true)
    expect(isRetryable(problem(404))).toBe(false)
    expect(isRetryable(problem(403))).toBe(false)
    expect(isRetryable(new TypeError('Failed to fetch'))).toBe(true)
    expect(isRetryable(new TypeError('pinion: snapshot is not an object'))).toBe(false)
  })
})

describe('forced reads', () => {
  it('skip If-None-Match and return the document even when it has not changed', async () => {
    const { fetch, calls } = fakeFetch((req) =>
      req.headers['if-none-match'] === '"4"' ? new Response(null, { status: 304 }) : json(200, { revision: '4', data: { v: 1 } }),
    )
    const api = new HttpApi({ fetch, sourceId })
    await api.getSnapshot('t')
    await api.getSnapshot('t')
    const forced = await api.getSnapshot('t', { force: true })
    expect(calls.map((c) => c.headers['if-none-match'])).toEqual([undefined, '"4"', undefined])
    expect(forced).toEqual({ revision: '4', data: { v: 1 } })
  })
})

describe('election names', () => {
  it('derive from the stream URL, so two servers on one origin do not share an election', () => {
    vi.stubGlobal('location', { origin: 'https://app.example', href: 'https://app.example/page' })
    expect(electionName('/api/events')).toBe('pinion:https://app.example/api/events')
    expect(electionName('/shop/api/events')).not.toBe(electionName('/api/events'))
    const hub = new FakeBroadcastHub()
    const names: string[] = []
    const client = new PinionClient({
      baseUrl: 'https://api.example',
      sharing: { locks: null, createBroadcastChannel: (n) => (names.push(n), hub.create(n)) },
      createEventSource: eventSourceFactory().create,
      lifecycle: false,
    })
    client.connect()
    expect(names).toEqual(['pinion:https://api.example/api/events'])
  })
})

describe('server-side rendering', () => {
  it('connect() does nothing where there is no EventSource', () => {
    expect(typeof (globalThis as { EventSource?: unknown }).EventSource).toBe('undefined')
    for (const sharing of ['off', 'auto'] as const) {
      const client = new PinionClient({ sharing, lifecycle: false })
      expect(() => client.connect()).not.toThrow()
      expect(client.state).toBe('connecting')
      client.close()
    }
  })
})

/** A page lifecycle the test drives by hand. */
function fakeLifecycle() {
  let h: Parameters<PageLifecycle['subscribe']>[0] | null = null
  const lifecycle: PageLifecycle = {
    subscribe(handlers) {
      h = handlers
      return () => (h = null)
    },
  }
  return { lifecycle, fire: () => h }
}

describe('page lifecycle', () => {
  it('wakes stores on visible, online and pageshow; pagehide hands the stream over and pageshow takes it back', async () => {
    const locks = new FakeLocks()
    const hub = new FakeBroadcastHub()
    const sources = eventSourceFactory()
    const page = fakeLifecycle()
    const open = (lifecycle: PageLifecycle | false) =>
      new PinionClient({ sharing: { locks: locks.manager(), createBroadcastChannel: hub.create }, createEventSource: sources.create, lifecycle })
    const a = open(page.lifecycle)
    const b = open(false)
    const wakes: string[] = []
    a.onWake((r) => wakes.push(r))
    a.connect()
    await flush()
    b.connect()
    await flush()
    expect(a.role).toBe('leader')

    page.fire()!.visible()
    page.fire()!.online()
    expect(wakes).toEqual(['visible', 'online'])

    page.fire()!.hide(true) // into the back/forward cache
    await flush()
    expect(a.role).toBe('follower')
    expect(b.role).toBe('leader')

    page.fire()!.restore()
    await flush()
    expect(wakes).toEqual(['visible', 'online', 'pageshow'])
    expect((a.stream as SharedEventStream).role).toBe('follower') // back in the election, behind b
    b.close()
    await flush()
    expect(a.role).toBe('leader')

    a.close()
    expect(page.fire()).toBeNull() // close() stops following the page
  })
})

describe('logger', () => {
  it('has @statesync/core’s shape; tagLogger adds fields; the console logger hides debug unless asked', () => {
    const lines: unknown[][] = []
    const base: Logger = {
      debug: (...a) => lines.push(['debug', ...a]),
      warn: (...a) => lines.push(['warn', ...a]),
      error: (...a) => lines.push(['error', ...a]),
    }
    tagLogger(base, { windowId: 'w1' }).debug('applied', { revision: '3' })
    tagLogger(base, { windowId: 'w1' }).warn('x', 5)
    expect(lines).toEqual([
      ['debug', 'applied', { windowId: 'w1', revision: '3' }],
      ['warn', 'x', { windowId: 'w1', extra: 5 }],
    ])
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {})
    createConsoleLogger().debug('hidden')
    createConsoleLogger({ debug: true }).debug('shown', 1)
    expect(debug.mock.calls).toEqual([['[pinion]', 'shown', 1]])
    debug.mockRestore()
  })

  it('traces the client’s decisions', async () => {
    const lines: string[] = []
    const logger: Logger = { debug: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) }
    const sources = eventSourceFactory()
    const client = new PinionClient({ sharing: 'off', createEventSource: sources.create, logger, lifecycle: false })
    client.connect()
    sources.instances[0]!.ready('c1')
    expect(lines).toContain('stream: connecting')
    expect(lines).toContain('stream: ready')
  })
})

describe('re-authentication', () => {
  it('renews the session when the server ends the stream for an expired credential, and resumes from the cursor', async () => {
    let token = 'a'
    const { fetch, calls } = fakeFetch(() => new Response(null, { status: 204 }))
    const sources = eventSourceFactory()
    const client = new PinionClient({
      fetch,
      sharing: 'off',
      createEventSource: sources.create,
      lifecycle: false,
      headers: () => ({ Authorization: `Bearer ${token}` }),
    })
    client.connect()
    sources.instances[0]!.ready('c.1')
    sources.instances[0]!.invalidation({ topic: 't', revision: '2' }, 'c.2')
    token = 'b' // the app renewed its token
    sources.instances[0]!.dispatch('reauthenticate', '{}')
    expect(sources.instances[0]!.closed).toBe(true)
    await flush()
    expect(calls.map((c) => [c.method, c.url, c.headers.authorization])).toEqual([['POST', '/api/session', 'Bearer b']])
    expect(sources.instances).toHaveLength(2)
    expect(sources.instances[1]!.url).toBe('/api/events?lastEventId=c.2')
  })
})
