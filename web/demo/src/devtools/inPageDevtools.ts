import type { DevtoolsApiLike, DevtoolsSetup } from '@pinion/client/devtools'
import { setupDevtoolsPlugin } from '@vue/devtools-api'
import { shallowRef, triggerRef } from 'vue'

/** One timeline event, as the plugin sent it. */
export interface TimelineEntry {
  time: number
  title: string
  subtitle?: string
  logType?: 'default' | 'warning' | 'error'
}

/** One inspector section: key/value rows. */
export type InspectorState = Record<string, { key: string; value: unknown }[]>

type TreeHandler = Parameters<DevtoolsApiLike['on']['getInspectorTree']>[0]
type StateHandler = Parameters<DevtoolsApiLike['on']['getInspectorState']>[0]

/**
 * The demo's "Sync activity" card is fed by the library's devtools plugin
 * (`pinionDevtools`) through the same plugin API Vue Devtools gives it: this
 * records the timeline events and asks the inspector handlers for the topic
 * tree and state, exactly as the devtools would. In development builds the
 * same calls also reach the real Vue Devtools.
 */
export function inPageDevtools(options: { limit?: number; alsoVueDevtools?: boolean } = {}) {
  const limit = options.limit ?? 40
  const timeline = shallowRef<TimelineEntry[]>([])
  const treeHandlers: TreeHandler[] = []
  const stateHandlers: StateHandler[] = []
  /** Bumped whenever the plugin says its inspector changed. */
  const inspectorVersion = shallowRef(0)

  function tree(inspectorId: string): { id: string; label: string; tags?: { label: string }[] }[] {
    const payload = { inspectorId, rootNodes: [] as unknown[] }
    for (const h of treeHandlers) h(payload)
    return payload.rootNodes as { id: string; label: string; tags?: { label: string }[] }[]
  }

  function state(inspectorId: string, nodeId: string): InspectorState | null {
    const payload = { inspectorId, nodeId, state: null as unknown }
    for (const h of stateHandlers) h(payload)
    return payload.state as InspectorState | null
  }

  const recorder: DevtoolsApiLike = {
    addTimelineLayer() {},
    addTimelineEvent({ event }) {
      const next = [{ time: event.time, title: event.title, subtitle: event.subtitle, logType: event.logType }, ...timeline.value]
      timeline.value = next.slice(0, limit)
    },
    addInspector() {},
    sendInspectorTree() {
      inspectorVersion.value++
    },
    sendInspectorState() {
      triggerRef(inspectorVersion)
    },
    on: {
      getInspectorTree: (h) => void treeHandlers.push(h),
      getInspectorState: (h) => void stateHandlers.push(h),
    },
  }

  /** A `DevtoolsSetup` for `pinionDevtools(app, client, { setup })`. */
  const setup: DevtoolsSetup = (descriptor, plugin) => {
    let real: DevtoolsApiLike | null = null
    if (options.alsoVueDevtools) {
      ;(setupDevtoolsPlugin as unknown as DevtoolsSetup)(descriptor, (api) => {
        real = api
        // Handlers registered before the devtools connected reach them too.
        for (const h of treeHandlers) api.on.getInspectorTree(h)
        for (const h of stateHandlers) api.on.getInspectorState(h)
        api.addTimelineLayer({ id: 'pinion', label: 'Pinion', color: 0x4f46e5 })
        api.addInspector({ id: 'pinion-topics', label: 'Pinion topics', icon: 'sync' })
      })
    }
    plugin({
      ...recorder,
      addTimelineEvent: (e) => (recorder.addTimelineEvent(e), real?.addTimelineEvent(e)),
      sendInspectorTree: (id) => (recorder.sendInspectorTree(id), real?.sendInspectorTree(id)),
      sendInspectorState: (id) => (recorder.sendInspectorState(id), real?.sendInspectorState(id)),
      on: {
        getInspectorTree: (h) => (recorder.on.getInspectorTree(h), real?.on.getInspectorTree(h)),
        getInspectorState: (h) => (recorder.on.getInspectorState(h), real?.on.getInspectorState(h)),
      },
    })
  }

  return { setup, timeline, inspectorVersion, tree, state }
}

export type InPageDevtools = ReturnType<typeof inPageDevtools>
