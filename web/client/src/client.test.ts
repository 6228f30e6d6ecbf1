import { describe, expect, expectTypeOf, it } from 'vitest'
import { PinionClient, generateSourceId, type WriteEvent } from './client.js'
import { ValidationError } from './errors.js'
import { deferred, eventSourceFactory, fakeFetch, flush, json } from './testing/fakes.js'
import type { InvalidationEvent, Snapshot } from './types.js'

// The contracts of @statesync/core (packages/core/src/types.ts), copied
// verbatim in shape: the client's objects must be assignable to them.
type SSRevision = string & { readonly __brand: 'Revision' }
interface SSInvalidationEvent { topic: string; revision: SSRevision; sourceId?: string; timestampMs?: number }
interface SSSnapshotEnvelope<T> { revision: SSRevision; data: T }
interface SSInvalidationSubscriber { subscribe(handler: (e: SSInvalidationEvent) => void): Promise<() => void> }
interface SSSnapshotProvider<T> { getSnapshot(): Promise<SSSnapshotEnvelope<T>> }

interface Settings { theme: 'light' | 'dark'; fontSize: number }
type Topics = {
  'app-settings': { data: Settings; actions: { 'toggle-theme': Record<string, never> } }
  cart: { data: { items: { sku: string; qty: number }[] }; actions: { 'set-quantity': { sku: string; qty: number } } }
}

function setup(respond: Parameters<typeof fakeFetch>[0] = () => json(200, { revision: '1', data: {} })) {
  const sources = eventSourceFactory()
  const { fetch, calls } = fakeFetch(respond)
  const client = new PinionClient<Topics>({ sourceId: 'w-me', fetch, sharing: 'off', createEventSource: sources.create })
  return { client, sources, calls }
}

describe('PinionClient', () => {
  it('generates a valid source id and rejects a bad one', () => {
    expect(generateSourceId()).toMatch(/^w-[0-9a-f]{16}$/)
    expect(generateSourceId()).not.toBe(generateSourceId())
    // The protocol's rule (printable ASCII, 0x20-0x7E): a space inside is fine, a tab or é is not.
    expect(() => new PinionClient({ sourceId: 'has space' })).not.toThrow()
    expect(() => new PinionClient({ sourceId: 'tab\there' })).toThrow(TypeError)
    expect(() => new PinionClient({ sourceId: 'café' })).toThrow(TypeError)
    expect(() => new PinionClient({ sourceId: 'x'.repeat(129) })).toThrow(TypeError)
  })

  it('hands out a @statesync/core subscriber: filtered by topic, resolving to an unsubscribe', async () => {
    const { client, sources } = setup()
    // No cast: the subscriber satisfies @statesync/core's InvalidationSubscriber.
    const subscriber: SSInvalidationSubscriber = client.subscriber('cart')
    expectTypeOf(client.subscriber('cart').subscribe).returns.resolves.toBeFunction()
    const seen: InvalidationEvent[] = []
    const unsubscribe = await subscriber.subscribe((e) => seen.push(e))
    expect(sources.instances).toHaveLength(1) // subscribing connects
    sources.instances[0]!.invalidation({ topic: 'app-settings', revision: '2' }, 'c.1')
    sources.instances[0]!.invalidation({ topic: 'cart', revision: '3', sourceId: 'w-x' }, 'c.2')
    expect(seen).toEqual([{ topic: 'cart', revision: '3', sourceId: 'w-x' }])
    unsubscribe()
    unsubscribe()
    sources.instances[0]!.invalidation({ topic: 'cart', revision: '4' }, 'c.3')
    expect(seen).toHaveLength(1)

    const all: InvalidationEvent[] = []
    await client.subscriber().subscribe((e) => all.push(e))
    sources.instances[0]!.invalidation({ topic: 'app-settings', revision: '5' }, 'c.4')
    expect(all).toHaveLength(1)
  })

  it('hands out a @statesync/core provider that returns the body as is', async () => {
    const { client } = setup(() => json(200, { revision: '1764000000000017', data: { theme: 'dark', fontSize: 14 } }))
    const provider = client.provider('app-settings')
    // No cast: the provider satisfies @statesync/core's SnapshotProvider<Settings>.
    expectTypeOf(provider.getSnapshot).returns.resolves.toEqualTypeOf<Snapshot<Settings>>()
    const ss: SSSnapshotProvider<Settings> = provider
    expect(await ss.getSnapshot()).toEqual({ revision: '1764000000000017', data: { theme: 'dark', fontSize: 14 } })
  })

  it('types writes from the topic map', () => {
    const { client } = setup()
    expectTypeOf(client.put<'app-settings'>).parameter(1).toEqualTypeOf<Settings>()
    expectTypeOf(client.action<'cart', 'set-quantity'>).parameter(2).toEqualTypeOf<{ sku: string; qty: number }>()
    // @ts-expect-error: not a topic of the map
    void (() => client.put('nope', {}))
    // @ts-expect-error: not an action of the topic
    void (() => client.action('cart', 'toggle-theme', {}))
    // @ts-expect-error: fontSize must be a number
    void (() => client.patch('app-settings', { fontSize: 'big' }))
  })

  it('reports every write and counts those in flight', async () => {
    const gate = deferred<Response>()
    const { client, calls } = setup((req) =>
      req.url.endsWith('set-quantity')
        ? json(422, { type: 'v', title: 'Validation failed', status: 422, detail: 'x', errors: [{ field: 'sku', pointer: '/sku', rule: 'exists', param: '', message: 'unknown sku' }] })
        : gate.promise,
    )
    const writes: WriteEvent[] = []
    client.onWrite((e) => writes.push(e))
    const put = client.put('app-settings', { theme: 'dark', fontSize: 14 })
    await flush(1)
    expect(client.pendingWrites('app-settings')).toBe(1)
    expect(calls[0]!.headers['x-source-id']).toBe('w-me')
    gate.resolve(json(200, { revision: '9', data: { theme: 'dark', fontSize: 14 } }))
    await put
    expect(client.pendingWrites('app-settings')).toBe(0)
    expect(writes).toEqual([{ topic: 'app-settings', method: 'put', snapshot: { revision: '9', data: { theme: 'dark', fontSize: 14 } } }])

    const err = await client.action('cart', 'set-quantity', { sku: 'nope', qty: 1 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).fields.sku).toBe('unknown sku')
    expect(writes[1]).toMatchObject({ topic: 'cart', method: 'action', error: err })
    expect(client.pendingWrites('cart')).toBe(0)
  })

  it('exposes the connection state', () => {
    const { client, sources } = setup()
    const states: string[] = []
    client.onStateChange((s) => states.push(s))
    expect(client.state).toBe('connecting')
    client.connect()
    client.connect()
    expect(sources.instances).toHaveLength(1)
    sources.instances[0]!.ready('c.1')
    expect(client.state).toBe('live')
    client.close()
    expect(sources.instances[0]!.closed).toBe(true)
    expect(states).toEqual(['live'])
  })
})
