/**
 * The Pinia binding: keeps a store's state equal to a Pinion topic's
 * document. It needs nothing but the client (no `@statesync/*` package) and
 * imports only types from Pinia, so the transport stays free of Vue.
 */
import type { PiniaPlugin, StateTree, StoreGeneric } from 'pinia'
import type { WriteEvent } from './client'
import { isNewer } from './revision'
import type { InvalidationEvent, ReadyEvent, Snapshot, Unsubscribe } from './types'

/** What the binding needs from a client; a `PinionClient` has it. */
export interface SyncClient {
  readonly sourceId: string
  get(topic: string, options?: { signal?: AbortSignal }): Promise<Snapshot<unknown>>
  onInvalidation(listener: (event: InvalidationEvent) => void, topic?: string): Unsubscribe
  onReady(listener: (event: ReadyEvent) => void): Unsubscribe
  onWrite(listener: (event: WriteEvent) => void): Unsubscribe
  pendingWrites(topic: string): number
}

/**
 * How a snapshot reaches the state.
 *
 * - `replace`: the state becomes exactly the mapped document: top-level keys it
 *   lacks are deleted, the others assigned whole (nested objects included).
 * - `patch`: `store.$patch(document)`, Pinia's deep merge: keys the document
 *   lacks stay, arrays are replaced whole.
 */
export type ApplyMode = 'replace' | 'patch'

/** Why a snapshot was applied. */
export type ApplyCause = 'initial' | 'invalidation' | 'ready' | 'write' | 'manual'

export interface SyncStoreOptions<Data = unknown> {
  client: SyncClient
  topic: string
  /** Default `replace`. */
  mode?: ApplyMode
  /** Maps the document to the state; default: the document is the state. */
  toState?: (data: Data) => Record<string, unknown>
  /** Top-level state keys that stay local: snapshots never set or delete them. */
  omitKeys?: readonly string[]
  /**
   * Skip the invalidation that echoes a write of this window while that write
   * is in flight: its response applies the snapshot. Default true.
   */
  skipOwnEcho?: boolean
  /** Called after each applied snapshot. */
  onApply?: (snapshot: Snapshot<Data>, info: { cause: ApplyCause }) => void
  /** Called with every failed fetch or apply. Default `console.error`. */
  onError?: (error: unknown) => void
}

/** A running binding. */
export interface StoreSync {
  readonly topic: string
  /** The revision of the last applied snapshot, or null before the first. */
  readonly revision: string | null
  /** Resolves once the first fetch has finished (applied or failed). */
  readonly ready: Promise<void>
  readonly stopped: boolean
  /** Fetches and applies the snapshot now; concurrent calls coalesce. Never rejects. */
  refresh(): Promise<void>
  /** Applies a snapshot you got elsewhere, if it is newer; reports whether it was. */
  apply(snapshot: { revision: string; data: unknown }): boolean
  /** Unsubscribes and aborts the fetch in flight. The state stays as it is. */
  stop(): void
}

/** The part of a Pinia store the binding touches. */
export type SyncableStore = Pick<StoreGeneric, '$id' | '$patch'>

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]'
}

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
}

/**
 * Keeps `store` in sync with `topic`: fetches the snapshot now, again after
 * each newer invalidation and after each `ready` (a reconnect or a new
 * leader tab), and applies the snapshots of this window's own writes.
 *
 * - A snapshot is applied only when its revision is newer than the one applied
 *   (compared as BigInt), so out-of-order answers and echoes are harmless.
 * - Invalidations that arrive while a fetch is in flight set a flag: at most
 *   one more fetch follows, however many arrived.
 * - The echo of a write this window has in flight is skipped (same `sourceId`);
 *   the write's response is applied at once instead.
 */
export function syncStore<Data = unknown>(store: SyncableStore, options: SyncStoreOptions<Data>): StoreSync {
  const { client, topic } = options
  const mode = options.mode ?? 'replace'
  const toState = options.toState ?? ((data: Data) => data as unknown as Record<string, unknown>)
  const omit = new Set(options.omitKeys ?? [])
  const skipOwnEcho = options.skipOwnEcho ?? true
  const report = options.onError ?? ((error: unknown) => console.error(error))

  let revision: string | null = null
  let stopped = false
  let inFlight: Promise<void> | null = null
  let dirty = false
  let cause: ApplyCause = 'initial'
  let controller: AbortController | null = null
  let skippedEcho: string | null = null

  function apply(snapshot: { revision: string; data: unknown }, why: ApplyCause): boolean {
    if (stopped || !isNewer(snapshot.revision, revision)) return false
    const next = toState(snapshot.data as Data)
    if (!isPlainObject(next)) {
      report(new TypeError(`pinion: the snapshot of ${topic} does not map to a plain object`))
      return false
    }
    if (mode === 'replace') {
      store.$patch((state: StateTree) => {
        for (const key of Object.keys(state)) {
          if (!omit.has(key) && !Object.hasOwn(next, key)) delete state[key]
        }
        for (const [key, value] of Object.entries(next)) {
          if (!omit.has(key)) state[key] = value
        }
      })
    } else {
      const patch: StateTree = {}
      for (const [key, value] of Object.entries(next)) {
        if (!omit.has(key)) patch[key] = value
      }
      store.$patch(patch)
    }
    revision = snapshot.revision
    try {
      options.onApply?.(snapshot as Snapshot<Data>, { cause: why })
    } catch (error) {
      report(error)
    }
    return true
  }

  function refresh(why: ApplyCause = 'manual'): Promise<void> {
    if (stopped) return Promise.resolve()
    cause = why
    if (inFlight) {
      dirty = true
      return inFlight
    }
    inFlight = (async () => {
      try {
        do {
          dirty = false
          const current = new AbortController()
          controller = current
          try {
            const snapshot = await client.get(topic, { signal: current.signal })
            apply(snapshot, cause)
          } catch (error) {
            if (!stopped && !isAbort(error)) report(error)
            // A failed fetch ends the burst; the next invalidation or ready retries.
            break
          }
        } while (dirty && !stopped)
      } finally {
        inFlight = null
        controller = null
        dirty = false
      }
    })()
    return inFlight
  }

  function onInvalidation(event: InvalidationEvent): void {
    if (stopped || event.topic !== topic || !isNewer(event.revision, revision)) return
    if (skipOwnEcho && event.sourceId === client.sourceId && client.pendingWrites(topic) > 0) {
      if (skippedEcho === null || isNewer(event.revision, skippedEcho)) skippedEcho = event.revision
      return
    }
    void refresh('invalidation')
  }

  function onWrite(event: WriteEvent): void {
    if (stopped || event.topic !== topic) return
    if (event.snapshot) apply(structuredClone(event.snapshot), 'write')
    if (skippedEcho !== null && client.pendingWrites(topic) === 0) {
      // A write whose echo we skipped failed on the way back (or the echo
      // belonged to an earlier write): fetch what we have not seen.
      const missed = isNewer(skippedEcho, revision)
      skippedEcho = null
      if (missed) void refresh('invalidation')
    }
  }

  const unsubscribers = [
    client.onInvalidation(onInvalidation, topic),
    client.onReady(() => void refresh('ready')),
    client.onWrite(onWrite),
  ]
  const ready = refresh('initial')

  return Object.freeze({
    topic,
    get revision() {
      return revision
    },
    ready,
    get stopped() {
      return stopped
    },
    refresh: () => refresh('manual'),
    apply: (snapshot: { revision: string; data: unknown }) => apply(snapshot, 'manual'),
    stop() {
      if (stopped) return
      stopped = true
      for (const off of unsubscribers) off()
      controller?.abort()
    },
  })
}

/** The `sync` option of `defineStore`. */
export interface StoreSyncDefinition<S extends StateTree = StateTree> {
  topic: string
  mode?: ApplyMode
  /** Maps the document to the state; the document's type is not known here. */
  toState?: (data: any) => Partial<S>
  omitKeys?: readonly (keyof S & string)[]
}

declare module 'pinia' {
  // The type parameters must match Pinia's declaration for the interfaces to merge.
  export interface DefineStoreOptionsBase<S extends StateTree, Store> {
    /** Keeps this store's state equal to a Pinion topic's document (needs the `pinionSync` plugin). */
    sync?: StoreSyncDefinition<S>
  }
  export interface PiniaCustomProperties {
    /** The running sync of a store defined with a `sync` option. */
    readonly $sync?: StoreSync
  }
}

export interface PinionSyncPluginOptions {
  /** Called after each applied snapshot of any synced store. */
  onApply?: (snapshot: Snapshot<unknown>, info: { cause: ApplyCause; topic: string; storeId: string }) => void
  onError?: (error: unknown, info: { topic: string; storeId: string }) => void
}

/**
 * A Pinia plugin that starts a {@link syncStore} for every store defined with
 * a `sync` option, exposes it as `store.$sync`, and stops it with `$dispose()`.
 *
 * ```ts
 * pinia.use(pinionSync(client))
 * export const useSettingsStore = defineStore('settings', {
 *   state: (): AppSettings => ({ ...defaults }),
 *   sync: { topic: 'app-settings', mode: 'replace' },
 * })
 * ```
 */
export function pinionSync(client: SyncClient, pluginOptions: PinionSyncPluginOptions = {}): PiniaPlugin {
  return ({ store, options }) => {
    const definition = options.sync
    if (!definition) return
    const info = { topic: definition.topic, storeId: store.$id }
    const sync = syncStore(store, {
      client,
      topic: definition.topic,
      mode: definition.mode,
      toState: definition.toState as SyncStoreOptions['toState'],
      omitKeys: definition.omitKeys,
      onApply: pluginOptions.onApply && ((snapshot, { cause }) => pluginOptions.onApply!(snapshot, { ...info, cause })),
      onError: pluginOptions.onError && ((error) => pluginOptions.onError!(error, info)),
    })
    const dispose = store.$dispose.bind(store)
    store.$dispose = () => {
      sync.stop()
      dispose()
    }
    return { $sync: sync }
  }
}
