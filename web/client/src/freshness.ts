/**
 * Freshness from the browser's side (`@pinion/client/freshness`): a sampled
 * tab reports how long after the commit it applied a revision, so that a
 * server run with `-client-freshness` can export it as the histogram
 * `pinion_client_freshness_seconds{topic}`.
 *
 * Off by default: nothing is recorded or sent unless `sampleRate` is above 0.
 * The tab never sends a wall-clock time. It sends, per sample, the
 * milliseconds between its apply and the sending, on its monotonic clock; the
 * server takes the beacon's arrival minus that as the apply time, and
 * subtracts the revision (the commit time in server microseconds). The
 * beacon's one-way latency is the error, always towards less fresh.
 *
 * ```ts
 * const freshness = reportFreshness({ sampleRate: 0.05 })
 * pinia.use(pinionSync(pinion, { onApply: freshness.onApply }))
 * ```
 */
import { defaultCredentials } from './http.js'
import type { ApplyCause } from './pinia.js'

/** The path of the report route, below the client's base URL. */
export const freshnessPath = '/api/freshness'

/** A sample older than this when sent is dropped: the server refuses it. */
const maxAgeMs = 3_600_000

export interface FreshnessOptions {
  /**
   * Probability in [0, 1] that one apply is reported. Default 0: off, the
   * reporter does nothing at all.
   */
  sampleRate?: number
  /** The server's base URL, as given to the client. Default: the page's origin. */
  baseUrl?: string
  /** Samples in one beacon; a full batch is sent at once. Must not exceed the server's -freshness-max-samples. Default 20. */
  maxSamples?: number
  /** Longest wait between the first sample of a batch and its beacon, in ms. Default 10000. */
  flushMs?: number
  /** Which applies count. Default: only those caused by an invalidation (not the first load, the tab's own writes, or a refresh on wake). */
  causes?: readonly ApplyCause[]
  /** Fetch credentials of the fallback; default as the client's ({@link defaultCredentials}). */
  credentials?: RequestCredentials
  /** The tab's monotonic clock in ms; default `performance.now()`. */
  now?: () => number
  random?: () => number
  /** Sends one report; default `navigator.sendBeacon`, falling back to `fetch` with `keepalive`. */
  send?: (url: string, body: string) => void
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void }
  /** Where to listen for the page being hidden (a final flush). Default: `globalThis`, if it has `addEventListener`. */
  target?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | null
}

/** One sample as it travels. */
export interface FreshnessSample {
  topic: string
  revision: string
  appliedAgoMs: number
}

export interface FreshnessReporter {
  /** Whether anything is reported (`sampleRate` above 0). */
  readonly enabled: boolean
  /** Samples waiting for the next beacon. */
  readonly pending: number
  /** Hook for `pinionSync(client, { onApply })` (and `syncStore`'s `onApply`, with the topic added). */
  onApply(snapshot: { revision: string }, info: { cause: ApplyCause; topic: string }): void
  /** Records one apply of `revision` of `topic`, now, subject to sampling. */
  record(topic: string, revision: string): void
  /** Sends what is waiting, now. */
  flush(): void
  /** Sends what is waiting and stops: later applies are ignored. */
  stop(): void
}

const defaultTimers = {
  setTimeout: (fn: () => void, ms: number): unknown => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * Sends by `navigator.sendBeacon`, which outlives the page and costs the
 * page nothing; when there is none, or its queue is full, by `fetch` with
 * `keepalive`. The answer is not read: a lost report is a lost sample.
 */
function beacon(credentials: RequestCredentials): (url: string, body: string) => void {
  return (url, body) => {
    const nav = (globalThis as { navigator?: { sendBeacon?: (url: string, data: Blob) => boolean } }).navigator
    try {
      if (nav?.sendBeacon && nav.sendBeacon(url, new Blob([body], { type: 'application/json' }))) return
    } catch {
      // Some browsers refuse a beacon of a non-form type: fetch instead.
    }
    if (typeof fetch !== 'function') return
    fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, keepalive: true, credentials }).catch(
      () => {},
    )
  }
}

/** Creates a reporter; see the module's documentation. */
export function reportFreshness(options: FreshnessOptions = {}): FreshnessReporter {
  const rate = Math.min(1, Math.max(0, Number.isFinite(options.sampleRate) ? (options.sampleRate as number) : 0))
  const enabled = rate > 0
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '')
  const url = baseUrl + freshnessPath
  const maxSamples = Math.max(1, Math.floor(options.maxSamples ?? 20))
  const flushMs = Math.max(0, options.flushMs ?? 10_000)
  const causes = new Set<ApplyCause>(options.causes ?? ['invalidation'])
  const now = options.now ?? (() => performance.now())
  const random = options.random ?? Math.random
  const send = options.send ?? beacon(options.credentials ?? defaultCredentials(baseUrl))
  const timers = options.timers ?? defaultTimers
  const target =
    options.target !== undefined
      ? options.target
      : typeof (globalThis as { addEventListener?: unknown }).addEventListener === 'function'
        ? (globalThis as unknown as EventTarget)
        : null

  let batch: { topic: string; revision: string; at: number }[] = []
  let timer: unknown = null
  let stopped = !enabled

  function flush(): void {
    if (timer !== null) {
      timers.clearTimeout(timer)
      timer = null
    }
    if (batch.length === 0) return
    const at = now()
    const samples: FreshnessSample[] = []
    for (const s of batch) {
      const ago = Math.max(0, Math.round((at - s.at) * 10) / 10)
      if (ago <= maxAgeMs) samples.push({ topic: s.topic, revision: s.revision, appliedAgoMs: ago })
    }
    batch = []
    if (samples.length === 0) return
    try {
      send(url, JSON.stringify({ samples }))
    } catch {
      // Telemetry never breaks the page.
    }
  }

  // The last chance to send: the page is going away or out of sight (and
  // may never run a timer again).
  function onHide(event: Event): void {
    const doc = (globalThis as { document?: { visibilityState?: string } }).document
    if (event.type === 'pagehide' || doc?.visibilityState === 'hidden') flush()
  }
  if (enabled && target) {
    target.addEventListener('pagehide', onHide)
    target.addEventListener('visibilitychange', onHide)
  }

  function record(topic: string, revision: string): void {
    if (stopped || random() >= rate) return
    batch.push({ topic, revision, at: now() })
    if (batch.length >= maxSamples) flush()
    else if (timer === null) timer = timers.setTimeout(flush, flushMs)
  }

  return {
    enabled,
    get pending() {
      return batch.length
    },
    onApply(snapshot, info) {
      if (causes.has(info.cause)) record(info.topic, snapshot.revision)
    },
    record,
    flush,
    stop() {
      if (stopped && !enabled) return
      flush()
      stopped = true
      if (enabled && target) {
        target.removeEventListener('pagehide', onHide)
        target.removeEventListener('visibilitychange', onHide)
      }
    },
  }
}
