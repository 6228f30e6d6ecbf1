import { PiniaColada, useQueryCache } from '@pinia/colada'
import { createClient, type ClientOptions, type PinionClient } from '@pinion/client'
import { connectColada } from '@pinion/client/colada'
import { pinionDevtools } from '@pinion/client/devtools'
import type { FreshnessReporter } from '@pinion/client/freshness'
import { pinionSync } from '@pinion/client/pinia'
import { providePinion } from '@pinion/client/vue'
import type { Pinia, PiniaPlugin } from 'pinia'
import { markRaw, type App, type InjectionKey } from 'vue'
import { inPageDevtools, type InPageDevtools } from '@/devtools/inPageDevtools'
import { useSyncStatusStore } from '@/stores/syncStatus'
import type { PinionTopics } from './topics'

/** The demo's client, typed by its topics. */
export type Pinion = PinionClient<PinionTopics>

/** The "Sync activity" card's feed: the devtools plugin's timeline and inspector. */
export const devtoolsKey: InjectionKey<InPageDevtools> = Symbol('pinion-devtools')

/** Provides the client to components (see `usePinion`). */
export const pinionKey: InjectionKey<Pinion> = Symbol('pinion')

declare module 'pinia' {
  export interface PiniaCustomProperties {
    /** The Pinion client, for store actions that write. */
    readonly $pinion: Pinion
  }
}

/** Creates the client: same origin, the stream shared by every tab of the browser. */
export function createPinion(options?: ClientOptions): Pinion {
  return createClient<PinionTopics>(options)
}

/**
 * Wires a client into the app: `inject(pinionKey)` in components,
 * `this.$pinion` in store actions, a synced store for every store with a
 * `sync` option, and the connection/revision status in `useSyncStatusStore`;
 * with `freshness`, sampled applies are reported to the server.
 */
export function installPinion(app: App, pinia: Pinia, pinion: Pinion, freshness?: FreshnessReporter): void {
  app.provide(pinionKey, pinion)
  // For the library's composables (useAction, usePatch, useTopicForm...).
  providePinion(app, pinion)
  const status = useSyncStatusStore(pinia)
  status.attach(pinion)
  const client = markRaw(pinion)
  const provideClient: PiniaPlugin = () => ({ $pinion: client })
  pinia.use(provideClient)
  // Pinia Colada queries of topic snapshots (the header's cart badge) stay
  // live: invalidations put the new snapshot into the query cache.
  app.use(PiniaColada)
  connectColada(pinion, useQueryCache(pinia))
  // The library's devtools plugin: its Pinion timeline and topic inspector
  // feed the "Sync activity" card, and Vue Devtools too in development builds.
  const view = inPageDevtools({ alsoVueDevtools: import.meta.env.DEV })
  app.provide(devtoolsKey, view)
  const devtools = pinionDevtools(app, pinion, { setup: view.setup })
  pinia.use(
    pinionSync(pinion, {
      onApply: (snapshot, info) => {
        status.applied(info.topic, snapshot.revision)
        freshness?.onApply(snapshot, info)
        devtools.applied(snapshot, info)
      },
      onError: (error, info) => {
        status.failed(info.topic, error)
        devtools.failed(error, info)
      },
    }),
  )
}
