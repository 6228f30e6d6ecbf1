import { eventSourceFactory, fakeFetch, flush, json, type Recorded } from '@pinion/client/testing/fakes'
import { mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import type { App, Component } from 'vue'
import { createPinion, installPinion } from '@/api/pinion'
import { defaultCart, defaultPreferences, defaultSettings } from '@/api/topics'

/** A tiny in-memory Pinion server for component tests; `respond` may override any request. */
export function fakeServer(respond?: (req: Recorded) => Response | undefined) {
  let revision = 1764000000000001n
  const docs: Record<string, unknown> = {
    'app-settings': defaultSettings(),
    'user-preferences': defaultPreferences(),
    cart: defaultCart(),
  }
  const revs: Record<string, string> = Object.fromEntries(Object.keys(docs).map((t) => [t, String(revision)]))
  const answer = (topic: string) => json(200, { revision: revs[topic], data: docs[topic] }, { ETag: `"${revs[topic]}"` })
  return fakeFetch((req) => {
    const custom = respond?.(req)
    if (custom) return custom
    const topic = /\/api\/topics\/([^/]+)/.exec(req.url)?.[1] ?? ''
    if (req.url.endsWith('/api/topics')) {
      return json(200, { topics: Object.keys(docs).map((t) => ({ topic: t, revision: revs[t], scope: t === 'app-settings' ? 'shared' : 'per-principal' })) })
    }
    if (req.method === 'GET') return answer(topic)
    if (req.method === 'PUT') docs[topic] = req.body
    if (req.method === 'PATCH') docs[topic] = { ...(docs[topic] as object), ...(req.body as object) }
    revs[topic] = String(++revision)
    return answer(topic)
  })
}

/** Mounts a component with Pinia and a Pinion client on fakes. */
export async function mountWithPinion(component: Component, server = fakeServer()) {
  const sources = eventSourceFactory()
  const pinion = createPinion({ sourceId: 'w-me', fetch: server.fetch, sharing: 'off', createEventSource: sources.create })
  const pinia = createPinia()
  const wrapper = mount(component, {
    attachTo: document.body,
    global: {
      plugins: [pinia, { install: (app: App) => installPinion(app, pinia, pinion) }],
    },
  })
  await flush()
  const stream = () => sources.instances.at(-1)!
  return { wrapper, pinion, pinia, server, stream, sources }
}

export { flush, json }
