/**
 * The Pinia binding (`@pinion/client/pinia`): keeps a store's state equal to a
 * Pinion topic's document. It needs nothing but the client (no `@statesync/*`
 * package); it imports Vue's reactivity for the per-store sync state and only
 * types from Pinia.
 */
import type { PiniaPlugin, StateTree, StoreGeneric } from 'pinia'
import { isRef, reactive, toRaw } from 'vue'
import type { WakeReason, WriteEvent } from './client.js'
import { isAbortError, isRetryable, type SyncErrorContext } from './errors.js'
import type { ReadOptions } from './http.js'
import { noopLogger, type Logger } from './logger.js'
import { isNewer } from './revision.js'
import type { InvalidationEvent, ReadyEvent, Snapshot, Unsubscribe } from './types.js'

/** What the binding needs from a client; a `PinionClient` has it. */
export interface SyncClient {
  readonly sourceId: string
  get(topic: string, options?: ReadOptions): Promise<Snapshot<unknown>>
  onInvalidation(listener: (event: InvalidationEvent) => void, topic?: string): Unsubscribe
  onReady(listener: (event: ReadyEvent) => void): Unsubscribe
  onWrite(listener: (event: WriteEvent) => void): Unsubscribe
  /** Optional: refresh when the page wakes up (visible, online, back from the bfcache). */
  onWake?(listener: (reason: WakeReason) => void): Unsubscribe
  pendingWrites(topic: string): number
  readonly logger?: Logger
}

/**
 * How a snapshot reaches the state.
 *
 * - `replace`: the state becomes exactly the mapped document: top-level keys it
 *   lacks are deleted (a setup store's refs are set to `undefined` instead,
 *   so they stay connected), the others assigned whole.
 * - `patch`: `store.$patch(document)`, Pinia's deep merge: keys the document
 *   lacks stay, arrays are replaced whole.
 */
export type ApplyMode = 'replace' | 'patch'

/** Why a snapshot was applied. */
export type ApplyCause = 'initial' | 'invalidation' | 'ready' | 'write' | 'wake' | 'manual'

/**
 * Where a store stands:
 * - `idle`: not started (server-side rendering), nothing fetched;
 * - `loading`: the first fetch is under way;
 * - `synced`: the state is the newest revision this tab knows of;
 * - `stale`: a newer revision was announced and is being fetched (or will be);
 * - `error`: the last fetch failed after its retries; the state is the last good one;
 * - `stopped`: `stop()` was called.
 */
export type SyncStatus = 'idle' | 'loading' | 'synced' | 'stale' | 'error' | 'stopped'

/** Retry of failed snapshot reads: exponential backoff with jitter. */
export interface RetryOptions {
  /** Tries in all, the first included. Default 6. */
  maxAttempts?: number
  /** Default 500 ms. */
  initialDelayMs?: number
  /** Default 15000 ms. */
  maxDelayMs?: number
}

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
  /** Return false to ignore an invalidation (it is still remembered as the latest revision). */
  shouldRefresh?: (event: InvalidationEvent) => boolean
  /** Wait this long after an invalidation for more before fetching (trailing). Default 0. */
  debounceMs?: number
  /** Per-try time limit of a snapshot read. Default: the client's (15 s). */
  timeoutMs?: number
  retry?: RetryOptions | false
  /** Refresh when the page becomes visible, comes online or back from the bfcache. Default true. */
  refreshOnWake?: boolean
  /** Called after each applied snapshot. */
  onApply?: (snapshot: Snapshot<Data>, info: { cause: ApplyCause }) => void
  /** Called with every failed fetch or apply, with its phase and context. Default: the logger (or `console.error`). */
  onError?: (error: unknown, context: SyncErrorContext) => void
  /** Default: the client's logger. */
  logger?: Logger
  /** Timers for debounce and retry; tests pass fakes. */
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void }
  random?: () => number
  /** Do not fetch or subscribe yet (SSR); `start()` does. Default false. */
  lazy?: boolean
}

/** The reactive state of one synced store: read it in templates. */
export interface SyncState {
  readonly topic: string
  /** The revision of the last applied snapshot, or null before the first. */
  readonly revision: string | null
  /** The newest revision announced for the topic (may be ahead of `revision`). */
  readonly latestRevision: string | null
  readonly status: SyncStatus
  /** The last failure, cleared by the next success. */
  readonly error: unknown
  /** Whether a snapshot read is in flight. */
  readonly fetching: boolean
  /** When the last snapshot was applied (ms since the epoch), or null. */
  readonly appliedAt: number | null
}

/** Options of {@link StoreSync.refresh}. */
export interface RefreshOptions {
  /**
   * Bypass the revision gate and the ETag cache: fetch the document itself
   * and apply it even when its revision is the one already applied. This is
   * how to throw away local changes (a `v-model` edit, a `$reset()`).
   */
  force?: boolean
}

/** A running binding: its reactive {@link SyncState} plus controls. */
export interface StoreSync extends SyncState {
  /** Resolves once the first fetch has finished (applied or failed). */
  readonly ready: Promise<void>
  readonly stopped: boolean
  /** Fetches and applies the snapshot now; concurrent calls coalesce. Never rejects. */
  refresh(options?: RefreshOptions): Promise<void>
  /** Throws away local changes: `refresh({ force: true })`. */
  reload(): Promise<void>
  /** Applies a snapshot you got elsewhere, if it is newer; reports whether it was. */
  apply(snapshot: { revision: string; data: unknown }): boolean
  /** Starts a lazy binding (after SSR hydration, say). Idempotent. */
  start(): void
  /** Unsubscribes and aborts the fetch in flight. The state stays as it is. */
  stop(): void
}

/** The part of a Pinia store the binding touches. */
export type SyncableStore = Pick<StoreGeneric, '$id' | '$patch'>

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]'
}

const defaultTimers = {
  setTimeout: (fn: () => void, ms: number): unknown => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * Keeps `store` in sync with `topic`: fetches the snapshot now, again after
 * each newer invalidation, after each `ready` (a reconnect or a new leader
 * tab) and when the page wakes up, and applies the snapshots of this window's
 * own writes.
 *
 * - A snapshot is applied only when its revision is newer than the one applied
 *   (compared as BigInt), so out-of-order answers and echoes are harmless;
 *   `refresh({ force: true })` is the exception.
 * - Invalidations that arrive while a fetch is in flight set a flag: at most
 *   one more fetch follows, however many arrived.
 * - A failed or timed-out read is retried with backoff; each failure is
 *   reported with its phase and context.
 * - The echo of a write this window has in flight is skipped (same `sourceId`);
 *   the write's response is applied at once instead.
 */
export function syncStore<Data = unknown>(store: SyncableStore, options: SyncStoreOptions<Data>): StoreSync {
  const { client, topic } = options
  const mode = options.mode ?? 'replace'
  const toState = options.toState ?? ((data: Data) => data as unknown as Record<string, unknown>)
  const omit = new Set(options.omitKeys ?? [])
  const skipOwnEcho = options.skipOwnEcho ?? true
  const logger = options.logger ?? client.logger ?? noopLogger
  const timers = options.timers ?? defaultTimers
  const random = options.random ?? Math.random
  const retry = options.retry === false ? { maxAttempts: 1 } : (options.retry ?? {})
  const maxAttempts = Math.max(1, retry.maxAttempts ?? 6)
  const initialDelayMs = retry.initialDelayMs ?? 500
  const maxDelayMs = retry.maxDelayMs ?? 15000
  const report =
    options.onError ??
    ((error: unknown, context: SyncErrorContext) =>
      options.logger || client.logger ? logger.error(`sync ${topic}: ${context.phase} failed`, context) : console.error(error))

  // The reactive part: templates and watchers read it through store.$sync.
  const state = reactive({
    revision: null as string | null,
    latestRevision: null as string | null,
    status: 'idle' as SyncStatus,
    error: null as unknown,
    fetching: false,
    appliedAt: null as number | null,
  })

  let started = false
  let stopped = false
  let inFlight: Promise<void> | null = null
  let again = false
  let force = false
  let cause: ApplyCause = 'initial'
  let controller: AbortController | null = null
  let skippedEcho: string | null = null
  let debounce: unknown = null
  let retryTimer: { handle: unknown; resolve: () => void } | null = null
  let unsubscribers: Unsubscribe[] = []
  let resolveReady!: () => void
  const ready = new Promise<void>((resolve) => (resolveReady = resolve))

  function fail(error: unknown, context: Omit<SyncErrorContext, 'error' | 'topic'>): void {
    state.error = error
    try {
      report(error, { topic, error, localRevision: state.revision ?? undefined, ...context })
    } catch (e) {
      console.error(e)
    }
  }

  function heard(revision: string): void {
    if (isNewer(revision, state.latestRevision)) state.latestRevision = revision
  }

  function settle(): void {
    if (stopped) return
    const behind = state.latestRevision !== null && isNewer(state.latestRevision, state.revision)
    state.status = behind ? 'stale' : 'synced'
  }

  function apply(snapshot: { revision: string; data: unknown }, why: ApplyCause, forced = false): boolean {
    if (stopped) return false
    if (!forced && !isNewer(snapshot.revision, state.revision)) {
      logger.debug(`sync ${topic}: snapshot not newer; skipped`, { revision: snapshot.revision, local: state.revision, cause: why })
      return false
    }
    let next: unknown
    try {
      next = toState(snapshot.data as Data)
      if (!isPlainObject(next)) throw new TypeError(`pinion: the snapshot of ${topic} does not map to a plain object`)
      const doc = next
      if (mode === 'replace') {
        store.$patch((s: StateTree) => {
          const raw = toRaw(s)
          for (const key of Object.keys(raw)) {
            if (omit.has(key) || Object.hasOwn(doc, key)) continue
            // A setup store's state holds its refs: deleting one would cut the
            // store off from its own state. Empty it instead.
            if (isRef(raw[key])) s[key] = undefined
            else delete s[key]
          }
          for (const [key, value] of Object.entries(doc)) {
            if (!omit.has(key)) s[key] = value
          }
        })
      } else {
        const patch: StateTree = {}
        for (const [key, value] of Object.entries(doc)) {
          if (!omit.has(key)) patch[key] = value
        }
        store.$patch(patch)
      }
    } catch (error) {
      fail(error, { phase: 'apply', snapshotRevision: snapshot.revision })
      return false
    }
    state.revision = snapshot.revision
    heard(snapshot.revision)
    state.appliedAt = Date.now()
    state.error = null
    settle()
    logger.debug(`sync ${topic}: applied`, { revision: snapshot.revision, cause: why, forced })
    try {
      options.onApply?.(snapshot as Snapshot<Data>, { cause: why })
    } catch (error) {
      fail(error, { phase: 'apply', snapshotRevision: snapshot.revision })
    }
    return true
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      retryTimer = { handle: timers.setTimeout(() => ((retryTimer = null), resolve()), ms), resolve }
    })
  }

  /** One read with its retries. */
  async function fetchOnce(forced: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (stopped) return
      const current = new AbortController()
      controller = current
      try {
        const snapshot = await client.get(topic, { signal: current.signal, force: forced, timeoutMs: options.timeoutMs })
        if (stopped) return
        apply(snapshot, cause, forced)
        // Applied or not (a 304, an older answer), the read succeeded.
        state.error = null
        settle()
        return
      } catch (error) {
        if (stopped || isAbortError(error)) return
        const willRetry = attempt < maxAttempts && isRetryable(error)
        const base = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1))
        const delay = Math.round(base / 2 + (random() * base) / 2)
        fail(error, { phase: 'getSnapshot', attempt, willRetry, nextDelayMs: willRetry ? delay : undefined })
        if (!willRetry) {
          state.status = 'error'
          return
        }
        logger.debug(`sync ${topic}: retrying the read`, { attempt, delayMs: delay })
        await sleep(delay)
      } finally {
        if (controller === current) controller = null
      }
    }
  }

  function refresh(why: ApplyCause, refreshOptions: RefreshOptions = {}): Promise<void> {
    if (stopped || !started) return Promise.resolve()
    cause = why
    if (refreshOptions.force) force = true
    if (inFlight) {
      again = true
      return inFlight
    }
    if (state.status === 'idle') state.status = 'loading'
    state.fetching = true
    logger.debug(`sync ${topic}: refreshing`, { cause: why, force })
    inFlight = (async () => {
      try {
        do {
          again = false
          const forced = force
          force = false
          await fetchOnce(forced)
        } while (again && !stopped)
      } finally {
        inFlight = null
        state.fetching = false
        if (why === 'initial') resolveReady()
      }
    })()
    return inFlight
  }

  function onInvalidation(event: InvalidationEvent): void {
    if (stopped || event.topic !== topic) return
    if (!isNewer(event.revision, state.revision)) {
      logger.debug(`sync ${topic}: invalidation not newer; ignored`, { revision: event.revision, local: state.revision })
      return
    }
    heard(event.revision)
    if (skipOwnEcho && event.sourceId === client.sourceId && client.pendingWrites(topic) > 0) {
      logger.debug(`sync ${topic}: own echo of a write in flight; skipped`, { revision: event.revision })
      if (skippedEcho === null || isNewer(event.revision, skippedEcho)) skippedEcho = event.revision
      return
    }
    if (options.shouldRefresh) {
      let wanted = true
      try {
        wanted = options.shouldRefresh(event)
      } catch (error) {
        fail(error, { phase: 'invalidation', eventRevision: event.revision, sourceEvent: event })
      }
      if (!wanted) {
        logger.debug(`sync ${topic}: shouldRefresh declined`, { revision: event.revision })
        return
      }
    }
    state.status = 'stale'
    const debounceMs = options.debounceMs ?? 0
    if (debounceMs <= 0) {
      void refresh('invalidation')
      return
    }
    if (debounce !== null) timers.clearTimeout(debounce)
    debounce = timers.setTimeout(() => {
      debounce = null
      void refresh('invalidation')
    }, debounceMs)
  }

  function onWrite(event: WriteEvent): void {
    if (stopped || event.topic !== topic) return
    if (event.snapshot) apply(structuredClone(event.snapshot), 'write')
    if (skippedEcho !== null && client.pendingWrites(topic) === 0) {
      // A write whose echo we skipped failed on the way back (or the echo
      // belonged to an earlier write): fetch what we have not seen.
      const missed = isNewer(skippedEcho, state.revision)
      skippedEcho = null
      if (missed) void refresh('invalidation')
    }
  }

  function start(): void {
    if (started || stopped) return
    started = true
    unsubscribers = [
      client.onInvalidation(onInvalidation, topic),
      client.onReady(() => void refresh('ready')),
      client.onWrite(onWrite),
    ]
    if ((options.refreshOnWake ?? true) && client.onWake) {
      unsubscribers.push(client.onWake(() => void refresh('wake')))
    }
    void refresh('initial')
  }

  function stop(): void {
    if (stopped) return
    stopped = true
    for (const off of unsubscribers) off()
    unsubscribers = []
    controller?.abort()
    if (debounce !== null) timers.clearTimeout(debounce)
    if (retryTimer) {
      timers.clearTimeout(retryTimer.handle)
      retryTimer.resolve()
    }
    state.status = 'stopped'
    state.fetching = false
    resolveReady()
  }

  if (!options.lazy) start()

  // Not frozen: Pinia makes the store reactive, and Vue leaves frozen objects alone.
  return {
    topic,
    get revision() {
      return state.revision
    },
    get latestRevision() {
      return state.latestRevision
    },
    get status() {
      return state.status
    },
    get error() {
      return state.error
    },
    get fetching() {
      return state.fetching
    },
    get appliedAt() {
      return state.appliedAt
    },
    ready,
    get stopped() {
      return stopped
    },
    refresh: (refreshOptions?: RefreshOptions) => refresh('manual', refreshOptions),
    reload: () => refresh('manual', { force: true }),
    apply: (snapshot: { revision: string; data: unknown }) => apply(snapshot, 'manual'),
    start,
    stop,
  }
}

/** The `sync` option of `defineStore`. */
export interface StoreSyncDefinition<S extends StateTree = StateTree> {
  topic: string
  mode?: ApplyMode
  /** Maps the document to the state; the document's type is not known here. */
  toState?: (data: any) => Partial<S>
  omitKeys?: readonly (keyof S & string)[]
  shouldRefresh?: (event: InvalidationEvent) => boolean
  debounceMs?: number
}

declare module 'pinia' {
  // The type parameters must match Pinia's declaration for the interfaces to merge.
  export interface DefineStoreOptionsBase<S extends StateTree, Store> {
    /** Keeps this store's state equal to a Pinion topic's document (needs the `pinionSync` plugin). */
    sync?: StoreSyncDefinition<S>
  }
  export interface PiniaCustomProperties {
    /** The running sync of a store defined with a `sync` option (reactive: use it in templates). */
    readonly $sync?: StoreSync
  }
}

export interface PinionSyncPluginOptions {
  /** Called after each applied snapshot of any synced store. */
  onApply?: (snapshot: Snapshot<unknown>, info: { cause: ApplyCause; topic: string; storeId: string }) => void
  onError?: (error: unknown, info: SyncErrorContext & { topic: string; storeId: string }) => void
  /**
   * Whether this is server-side rendering: stores are created with a `$sync`
   * in status `idle` that never fetches or connects. Default: no `window`.
   */
  ssr?: boolean
  /** Defaults for every synced store. */
  defaults?: Pick<SyncStoreOptions, 'timeoutMs' | 'retry' | 'debounceMs' | 'refreshOnWake' | 'logger'>
}

/**
 * A Pinia plugin that starts a {@link syncStore} for every store defined with
 * a `sync` option (options and setup stores alike), exposes it as the
 * reactive `store.$sync`, and stops it with `$dispose()`. During SSR nothing
 * starts; Pinia's hot-module-replacement copies (`__hot:` stores) are skipped.
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
  const ssr = pluginOptions.ssr ?? typeof (globalThis as { window?: unknown }).window === 'undefined'
  return ({ store, options }) => {
    const definition = options.sync
    // Pinia builds a temporary `__hot:<id>` store on every hot update and
    // never disposes it: syncing it would leak a subscription per edit.
    if (!definition || store.$id.startsWith('__hot:')) return
    const info = { topic: definition.topic, storeId: store.$id }
    const sync = syncStore(store, {
      ...pluginOptions.defaults,
      client,
      topic: definition.topic,
      mode: definition.mode,
      toState: definition.toState as SyncStoreOptions['toState'],
      omitKeys: definition.omitKeys,
      shouldRefresh: definition.shouldRefresh,
      debounceMs: definition.debounceMs ?? pluginOptions.defaults?.debounceMs,
      lazy: ssr,
      onApply: pluginOptions.onApply && ((snapshot, { cause }) => pluginOptions.onApply!(snapshot, { ...info, cause })),
      onError: pluginOptions.onError && ((error, context) => pluginOptions.onError!(error, { ...context, ...info })),
    })
    const dispose = store.$dispose.bind(store)
    store.$dispose = () => {
      sync.stop()
      dispose()
    }
    return { $sync: sync }
  }
}
