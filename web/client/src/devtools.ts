/**
 * Vue Devtools integration (`@pinion/client/devtools`): a "Pinion" timeline
 * of invalidations, snapshot reads (200 or 304), applies, writes, stream
 * states and errors per topic, and a "Pinion topics" inspector (revision,
 * last writer, stream state, leader or follower tab), through Vue's
 * devtools plugin API.
 *
 * ```ts
 * const devtools = pinionDevtools(app, pinion)
 * pinia.use(pinionSync(pinion, { onApply: devtools.applied, onError: devtools.failed }))
 * ```
 */
import { setupDevtoolsPlugin } from '@vue/devtools-api'
import type { App } from 'vue'
import type { PinionClient } from './client.js'
import type { Snapshot } from './types.js'

const LAYER = 'pinion'
const INSPECTOR = 'pinion-topics'

/** The part of the devtools plugin API used here (`@vue/devtools-api`'s, structurally). */
export interface DevtoolsApiLike {
  addTimelineLayer(options: { id: string; label: string; color: number }): void
  addTimelineEvent(options: { layerId: string; event: { time: number; title: string; subtitle?: string; data: Record<string, unknown>; logType?: 'default' | 'warning' | 'error' } }): void
  addInspector(options: { id: string; label: string; icon?: string }): void
  sendInspectorTree(id: string): void
  sendInspectorState(id: string): void
  on: {
    getInspectorTree(handler: (payload: { inspectorId: string; rootNodes: unknown[] }) => void): void
    getInspectorState(handler: (payload: { inspectorId: string; nodeId: string; state: unknown }) => void): void
  }
}

export type DevtoolsSetup = (descriptor: Record<string, unknown>, setup: (api: DevtoolsApiLike) => void) => void

interface TopicInfo {
  revision: string | null
  applied: string | null
  lastWriter: string | null
  lastEvent: string
}

/** Connects a client to Vue Devtools; returns hooks for the Pinia plugin's `onApply` and `onError`. */
export function pinionDevtools(app: App, client: PinionClient<any>, options: { setup?: DevtoolsSetup; now?: () => number } = {}) {
  const topics = new Map<string, TopicInfo>()
  const now = options.now ?? Date.now
  let api: DevtoolsApiLike | null = null
  const pendingEvents: Parameters<DevtoolsApiLike['addTimelineEvent']>[0][] = []

  const info = (topic: string): TopicInfo => {
    let t = topics.get(topic)
    if (!t) topics.set(topic, (t = { revision: null, applied: null, lastWriter: null, lastEvent: '' }))
    return t
  }

  function event(title: string, subtitle: string, data: Record<string, unknown>, logType: 'default' | 'warning' | 'error' = 'default') {
    const e = { layerId: LAYER, event: { time: now(), title, subtitle, data, logType } }
    if (api) {
      api.addTimelineEvent(e)
      api.sendInspectorTree(INSPECTOR)
      api.sendInspectorState(INSPECTOR)
    } else pendingEvents.push(e)
  }

  const setup = options.setup ?? (setupDevtoolsPlugin as unknown as DevtoolsSetup)
  setup(
    { id: 'dev.pinion.client', label: 'Pinion', packageName: '@pinion/client', homepage: 'https://github.com/pinionkit/pinion', app },
    (a) => {
      api = a
      a.addTimelineLayer({ id: LAYER, label: 'Pinion', color: 0x4f46e5 })
      a.addInspector({ id: INSPECTOR, label: 'Pinion topics', icon: 'sync' })
      a.on.getInspectorTree((payload) => {
        if (payload.inspectorId !== INSPECTOR) return
        payload.rootNodes = [...topics.keys()].sort().map((id) => ({ id, label: id, tags: [{ label: info(id).applied ?? '—', textColor: 0xffffff, backgroundColor: 0x4f46e5 }] }))
      })
      a.on.getInspectorState((payload) => {
        if (payload.inspectorId !== INSPECTOR || !topics.has(payload.nodeId)) return
        const t = info(payload.nodeId)
        payload.state = {
          topic: [
            { key: 'revision (latest heard)', value: t.revision },
            { key: 'revision (applied)', value: t.applied },
            { key: 'last writer', value: t.lastWriter === client.sourceId ? `${t.lastWriter} (this window)` : t.lastWriter },
            { key: 'last event', value: t.lastEvent },
          ],
          stream: [
            { key: 'state', value: client.state },
            { key: 'role', value: client.role },
            { key: 'sourceId', value: client.sourceId },
          ],
        }
      })
      for (const e of pendingEvents.splice(0)) a.addTimelineEvent(e)
    },
  )

  client.onInvalidation((e) => {
    const t = info(e.topic)
    t.revision = e.revision
    t.lastWriter = e.sourceId ?? null
    t.lastEvent = 'invalidation'
    event('invalidation', `${e.topic} @${e.revision}`, { ...e, ownEcho: e.sourceId === client.sourceId })
  })
  client.http.onRead = (r) => {
    info(r.topic).lastEvent = `read ${r.status}`
    event(`read ${r.status}`, `${r.topic} @${r.revision}`, { ...r })
  }
  client.onWrite((w) => {
    const t = info(w.topic)
    if (w.snapshot) {
      t.revision = w.snapshot.revision
      t.lastWriter = client.sourceId
    }
    t.lastEvent = w.error ? `${w.method} failed` : w.method
    event(w.error ? `${w.method} failed` : w.method, w.topic, { method: w.method, revision: w.snapshot?.revision, error: w.error ? String(w.error) : undefined }, w.error ? 'error' : 'default')
  })
  client.onReady((r) => event('ready', r.resumed ? 'resumed' : 'first', { ...r }))
  client.onStateChange((s) => event('stream', s, { state: s }, s === 'live' ? 'default' : 'warning'))
  client.onRoleChange((r) => event('role', r, { role: r }))

  return {
    /** For `pinionSync`'s `onApply`. */
    applied(snapshot: Snapshot<unknown>, where: { topic: string; storeId: string; cause: string }) {
      const t = info(where.topic)
      t.applied = snapshot.revision
      t.lastEvent = `applied (${where.cause})`
      event('apply', `${where.topic} @${snapshot.revision} → ${where.storeId}`, { ...where, revision: snapshot.revision })
    },
    /** For `pinionSync`'s `onError`. */
    failed(error: unknown, where: { topic: string; storeId: string; phase?: string }) {
      info(where.topic).lastEvent = `error (${where.phase ?? '?'})`
      event('error', `${where.topic}: ${where.phase ?? ''}`, { ...where, error: String(error) }, 'error')
      console.error(error)
    },
  }
}
