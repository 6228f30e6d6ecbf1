import { describe, expect, it } from 'vitest'
import { createApp } from 'vue'
import { PinionClient } from './client.js'
import { pinionDevtools, type DevtoolsApiLike } from './devtools.js'
import { eventSourceFactory, fakeFetch, flush, json } from './testing/fakes.js'

describe('pinionDevtools', () => {
  it('puts invalidations, reads (200/304), writes, applies and stream states on a timeline and topics in an inspector', async () => {
    const events: { title: string; subtitle?: string; logType?: string }[] = []
    let tree: ((p: { inspectorId: string; rootNodes: unknown[] }) => void) | null = null
    let state: ((p: { inspectorId: string; nodeId: string; state: unknown }) => void) | null = null
    const api: DevtoolsApiLike = {
      addTimelineLayer: () => {},
      addTimelineEvent: ({ event }) => events.push(event),
      addInspector: () => {},
      sendInspectorTree: () => {},
      sendInspectorState: () => {},
      on: { getInspectorTree: (h) => (tree = h), getInspectorState: (h) => (state = h) },
    }
    const { fetch } = fakeFetch((req) =>
      req.headers['if-none-match'] === '"3"' ? new Response(null, { status: 304 }) : json(200, { revision: '3', data: {} }),
    )
    const sources = eventSourceFactory()
    const client = new PinionClient({ sourceId: 'w-me', fetch, sharing: 'off', createEventSource: sources.create, lifecycle: false })
    const devtools = pinionDevtools(createApp({}), client, { setup: (_, fn) => fn(api) })
    client.connect()
    sources.instances[0]!.ready('c1')
    sources.instances[0]!.invalidation({ topic: 'cart', revision: '3', sourceId: 'w-other' }, 'c3')
    await client.get('cart')
    await client.get('cart')
    devtools.applied({ revision: '3', data: {} } as never, { topic: 'cart', storeId: 'cart', cause: 'invalidation' })
    await client.put('cart', {})
    await flush()
    expect(events.map((e) => e.title)).toEqual(['stream', 'ready', 'invalidation', 'read 200', 'read 304', 'apply', 'put'])
    const p = { inspectorId: 'pinion-topics', rootNodes: [] as unknown[] }
    tree!(p)
    expect(p.rootNodes).toMatchObject([{ id: 'cart' }])
    const s = { inspectorId: 'pinion-topics', nodeId: 'cart', state: null as unknown }
    state!(s)
    expect(JSON.stringify(s.state)).toContain('"role"')
    expect(JSON.stringify(s.state)).toContain('w-me (this window)')
  })
})
