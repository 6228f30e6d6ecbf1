/**
 * Vue composables (`@pinion/client/vue`): writes with optimistic updates and
 * guaranteed rollback, and forms bound to the server's field errors. They
 * work on a store synced by `@pinion/client/pinia` (its `$sync`).
 */
import {
  computed,
  getCurrentScope,
  inject,
  onScopeDispose,
  nextTick,
  reactive,
  ref,
  shallowRef,
  toRaw,
  watch,
  type App,
  type ComputedRef,
  type InjectionKey,
  type Ref,
} from 'vue'
import type { PinionClient } from './client.js'
import { PreconditionFailedError, ProblemError, ValidationError, type FieldError } from './errors.js'
import type { WriteOptions } from './http.js'
import type { StoreSync } from './pinia.js'
import type { MergePatch, Snapshot, TopicMap } from './types.js'

/** The client that `usePinionClient` and the composables inject. */
export const pinionClientKey: InjectionKey<PinionClient<TopicMap>> = Symbol('pinion-client')

/** Makes `client` available to the composables of every component of `app`. */
export function providePinion(app: App, client: PinionClient<any>): void {
  app.provide(pinionClientKey, client)
}

/** The client provided with {@link providePinion}. */
export function usePinionClient<T extends TopicMap = TopicMap>(): PinionClient<T> {
  const client = inject(pinionClientKey, null)
  if (!client) throw new Error('pinion: no client provided (call providePinion(app, client))')
  return client as unknown as PinionClient<T>
}

/** The part of a synced Pinia store the composables use. */
export interface SyncedStore<S extends object = Record<string, unknown>> {
  $state: S
  $patch(fn: (state: S) => void): void
  readonly $sync?: StoreSync
}

// Documents are JSON; a JSON copy also sheds any reactive proxy nested inside.
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(toRaw(value))) as T

function syncOf(store: SyncedStore<object>): StoreSync {
  const sync = store.$sync
  if (!sync) throw new Error('pinion: this store is not synced (define it with a `sync` option)')
  return sync
}

/** Deep equality of JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

export interface WriteState<I, R> {
  /** A write is in flight. */
  readonly pending: Ref<boolean>
  /** The last failure, cleared when the next write starts. */
  readonly error: Ref<unknown>
  /** Runs the write; resolves to the new snapshot, or undefined when it failed (see `error`). */
  run(input: I): Promise<R | undefined>
}

export interface OptimisticOptions<S, I> {
  /** Shows the change at once: mutate the state as the server is expected to. */
  optimistic?: (state: S, input: I) => void
  /** Abort the write after this long (and roll back). Default 15000 ms. */
  timeoutMs?: number
  /**
   * Conditional on what the user saw: send `If-Match` with the revision the
   * store held when the write began, so a write decided on an out-of-date
   * document (a quantity stepped from a count another tab has since changed)
   * fails with a 412, and rolls back, instead of applying over a change it
   * never saw. Default false.
   */
  ifMatch?: boolean
  client?: PinionClient<any>
}

/**
 * A write bound to a synced store, with an optimistic update and a
 * guaranteed rollback. `optimistic` changes the state at once; when the write
 * succeeds its snapshot replaces the guess; when it fails (a 422, 412,
 * network error or timeout) the state returns exactly to the server's: the
 * copy taken before the guess is put back if no newer revision arrived
 * meanwhile, and the document is then reloaded (forced) to be sure.
 */
export function useWrite<S extends object, I>(
  store: SyncedStore<S>,
  write: (client: PinionClient<any>, topic: string, input: I, options: WriteOptions) => Promise<Snapshot<unknown>>,
  options: OptimisticOptions<S, I> = {},
): WriteState<I, Snapshot<S>> {
  const client = options.client ?? usePinionClient()
  const pending = ref(false)
  const error = shallowRef<unknown>(null)
  let inFlight = 0

  async function run(input: I): Promise<Snapshot<S> | undefined> {
    const sync = syncOf(store as SyncedStore<object>)
    const before = clone(store.$state)
    const baseRevision = sync.revision
    error.value = null
    pending.value = true
    inFlight++
    if (options.optimistic) store.$patch((state) => options.optimistic!(state, input))
    try {
      const ifMatch = options.ifMatch && baseRevision !== null ? baseRevision : undefined
      return (await write(client, sync.topic, input, { timeoutMs: options.timeoutMs ?? 15000, ifMatch })) as Snapshot<S>
    } catch (e) {
      error.value = e
      // Roll back: nothing newer has been applied, so `before` is the
      // server's state; put it back at once, then make sure with a reload.
      if (sync.revision === baseRevision) {
        store.$patch((state) => {
          const s = state as Record<string, unknown>
          for (const key of Object.keys(s)) if (!(key in before)) delete s[key]
          Object.assign(s, clone(before))
        })
      }
      void sync.reload()
      return undefined
    } finally {
      if (--inFlight === 0) pending.value = false
    }
  }

  return { pending, error, run }
}

/** `useWrite` for a named action of the store's topic. */
export function useAction<S extends object, I = Record<string, never>>(
  store: SyncedStore<S>,
  action: string,
  options: OptimisticOptions<S, I> = {},
): WriteState<I, Snapshot<S>> {
  return useWrite(store, (c, topic, input, o) => c.action(topic as never, action as never, input as never, o), options)
}

/** `useWrite` for a merge patch (the optimistic update defaults to merging the patch's members). */
export function usePatch<S extends object>(store: SyncedStore<S>, options: OptimisticOptions<S, MergePatch<S>> = {}) {
  return useWrite<S, MergePatch<S>>(store, (c, topic, patch, o) => c.patch(topic as never, patch as never, o), {
    optimistic: (state, patch) => mergeInto(state as Record<string, unknown>, patch as Record<string, unknown>),
    ...options,
  })
}

/** `useWrite` for a PUT (the optimistic update defaults to the new document). */
export function usePut<S extends object>(store: SyncedStore<S>, options: OptimisticOptions<S, S> = {}) {
  return useWrite<S, S>(store, (c, topic, doc, o) => c.put(topic as never, doc as never, o), {
    optimistic: (state, doc) => Object.assign(state, clone(doc)),
    ...options,
  })
}

/** `useWrite` for a reset to the default document. */
export function useReset<S extends object>(store: SyncedStore<S>, options: OptimisticOptions<S, void> = {}) {
  return useWrite<S, void>(store, (c, topic, _, o) => c.reset(topic as never, o), options)
}

/** RFC 7396 applied in place: null deletes, objects merge, the rest replaces. */
function mergeInto(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key]
    else if (typeof value === 'object' && !Array.isArray(value)) {
      const cur = target[key]
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) target[key] = {}
      mergeInto(target[key] as Record<string, unknown>, value as Record<string, unknown>)
    } else target[key] = clone(value)
  }
}

/** The attributes `bind(field)` returns for an input. */
export interface FieldBinding {
  id: string
  name: string
  'aria-invalid': 'true' | undefined
  'aria-describedby': string | undefined
}

export interface TopicFormOptions<S> {
  /** Prefix of element ids. Default: the topic. */
  idPrefix?: string
  /** Turns a field error into the message shown (i18n from `rule` and `param`). Default: the server's message. */
  format?: (error: FieldError) => string
  /** What a successful submit sends. Default: PUT the draft with If-Match of the revision it was based on. */
  submit?: (client: PinionClient<any>, topic: string, draft: S, options: WriteOptions) => Promise<Snapshot<unknown>>
  /** Where to find an element by id, to focus it (a test may pass its own). Default `document`. */
  document?: { getElementById(id: string): { focus(): void } | null }
  client?: PinionClient<any>
}

/** A 412: the server has a newer document than the one the draft was based on. */
export interface Conflict<S> {
  theirs: S
  theirRevision: string
  mine: S
}

/**
 * A form over a synced store: an editable `draft` that follows the store while
 * untouched; `dirty`; `changedElsewhere` (with the other writer) once the
 * document moves under an edit; the If-Match conflict flow (a 412 shows both
 * sides: `takeTheirs()` or `overwrite()`); `fieldError(nameOrPointer)` and
 * `bind(field)` for `id`, `name`, `aria-invalid` and `aria-describedby`; on a
 * 422 focus moves to the first invalid field.
 */
export function useTopicForm<S extends object>(store: SyncedStore<S>, options: TopicFormOptions<S> = {}) {
  const client = options.client ?? usePinionClient()
  const sync = syncOf(store as SyncedStore<object>)
  const prefix = options.idPrefix ?? sync.topic
  const base = shallowRef<S>(clone(store.$state))
  const baseRevision = ref<string | null>(sync.revision)
  const draft = reactive(clone(store.$state)) as S
  const errors = shallowRef<FieldError[]>([])
  const formError = ref<string | null>(null)
  const conflict = shallowRef<Conflict<S> | null>(null)
  const pending = ref(false)
  const lastWriter = ref<string | null>(null)
  const savedRevision = ref<string | null>(null)

  const dirty: ComputedRef<boolean> = computed(() => !sameJson(draft, base.value))
  const changedElsewhere = computed(() =>
    dirty.value && sync.revision !== null && sync.revision !== baseRevision.value
      ? { revision: sync.revision, writer: lastWriter.value }
      : null,
  )

  const offInvalidation = client.onInvalidation((e) => {
    if (e.topic === sync.topic) lastWriter.value = e.sourceId ?? null
  }, sync.topic as never)
  if (getCurrentScope()) onScopeDispose(offInvalidation)

  function replaceDraft(doc: S): void {
    const d = draft as Record<string, unknown>
    for (const key of Object.keys(d)) if (!(key in doc)) delete d[key]
    Object.assign(d, clone(doc))
  }

  /** Starts over from the store's current state. */
  function reset(): void {
    base.value = clone(store.$state)
    baseRevision.value = sync.revision
    replaceDraft(clone(store.$state))
    errors.value = []
    formError.value = null
    conflict.value = null
  }

  watch(
    () => sync.revision,
    () => {
      if (!dirty.value) reset()
    },
  )

  const format = options.format ?? ((e: FieldError) => e.message)

  /** The first message for a field name (`fontSize`), a pointer (`/items/2/qty`) or anything below it. */
  function fieldError(nameOrPointer: string): string | undefined {
    const pointer = nameOrPointer.startsWith('/') ? nameOrPointer : `/${nameOrPointer}`
    const e =
      errors.value.find((x) => x.pointer === pointer) ??
      errors.value.find((x) => x.pointer.startsWith(pointer + '/')) ??
      errors.value.find((x) => x.field === nameOrPointer)
    return e ? format(e) : undefined
  }

  const fieldId = (field: string) => `${prefix}-${field.replace(/^\//, '').replace(/[^A-Za-z0-9_-]/g, '-')}`
  const errorId = (field: string) => `${fieldId(field)}-error`

  /** `v-bind` it on the input of `field`. */
  function bind(field: string): FieldBinding {
    const invalid = fieldError(field) !== undefined
    return {
      id: fieldId(field),
      name: field,
      'aria-invalid': invalid ? 'true' : undefined,
      'aria-describedby': invalid ? errorId(field) : undefined,
    }
  }

  async function focusFirstInvalid(): Promise<void> {
    await nextTick()
    const doc = options.document ?? (globalThis as { document?: TopicFormOptions<S>['document'] }).document
    for (const e of errors.value) {
      const el = doc?.getElementById(fieldId(e.field || e.pointer))
      if (el) {
        el.focus()
        return
      }
    }
  }

  const send =
    options.submit ??
    ((c: PinionClient<any>, topic: string, doc: S, o: WriteOptions) => c.put(topic as never, doc as never, o))

  async function write(ifMatch: string | undefined): Promise<Snapshot<S> | undefined> {
    errors.value = []
    formError.value = null
    savedRevision.value = null
    pending.value = true
    try {
      const snap = (await send(client, sync.topic, clone(draft), { ifMatch })) as Snapshot<S>
      base.value = clone(snap.data)
      baseRevision.value = snap.revision
      replaceDraft(snap.data)
      conflict.value = null
      savedRevision.value = snap.revision
      return snap
    } catch (e) {
      if (e instanceof ValidationError) {
        errors.value = e.errors
        const whole = e.errors.find((x) => x.pointer === '')
        if (whole || e.errors.length === 0) formError.value = whole ? format(whole) : e.detail
        void focusFirstInvalid()
      } else if (e instanceof PreconditionFailedError) {
        const theirs = await client.get(sync.topic as never, { force: true }).catch(() => null)
        if (theirs) conflict.value = { theirs: theirs.data as S, theirRevision: theirs.revision, mine: clone(draft) }
        formError.value = 'Someone saved a newer version while you were editing.'
      } else if (e instanceof ProblemError) {
        formError.value = e.detail || e.title
      } else {
        formError.value = `Could not reach the server (${e instanceof Error ? e.message : String(e)}).`
      }
      return undefined
    } finally {
      pending.value = false
    }
  }

  /** Saves the draft, conditional on the revision it was based on. */
  const submit = () => write(baseRevision.value ?? undefined)

  /** After a conflict: keep their document, drop the edit. */
  function takeTheirs(): void {
    const c = conflict.value
    if (!c) return
    base.value = clone(c.theirs)
    baseRevision.value = c.theirRevision
    replaceDraft(c.theirs)
    conflict.value = null
    formError.value = null
  }

  /** After a conflict: save the edit over theirs (conditional on their revision). */
  function overwrite(): Promise<Snapshot<S> | undefined> {
    const c = conflict.value
    return write(c ? c.theirRevision : undefined)
  }

  return {
    draft,
    /** The document the draft was based on (for a merge patch of what changed, say). */
    base: base as Readonly<Ref<S>>,
    dirty,
    changedElsewhere,
    conflict,
    errors,
    formError,
    pending,
    savedRevision,
    baseRevision,
    fieldError,
    fieldId,
    errorId,
    bind,
    submit,
    reset,
    takeTheirs,
    overwrite,
    /** Stops listening (also done when the component unmounts, if called in setup). */
    stop: offInvalidation,
  }
}
