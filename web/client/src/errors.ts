import { isRevision } from './revision.js'
import type { Revision } from './types.js'

/** One entry of a 422 problem's `errors` member. */
export interface FieldError {
  /** The JSON name of the field, e.g. `fontSize`. */
  field: string
  /** A JSON Pointer into the submitted (or merged) document; `""` is the document itself. */
  pointer: string
  /** The rule that failed: `required`, `max`, `oneof`, `type`, `unknown`, ... */
  rule: string
  /** The rule's parameter; may be empty. */
  param: string
  /** A sentence a form can show next to the field. */
  message: string
}

/** An RFC 9457 `application/problem+json` body, as Pinion sends it. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  errors?: FieldError[]
  currentRevision?: string
  [member: string]: unknown
}

/** Any error answer of the server: the parsed problem and its status. */
export class ProblemError extends Error {
  readonly status: number
  readonly type: string
  readonly title: string
  readonly detail: string
  readonly problem: Problem

  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`)
    this.name = 'ProblemError'
    this.problem = problem
    this.status = problem.status
    this.type = problem.type
    this.title = problem.title
    this.detail = problem.detail
  }
}

/**
 * A 422: well-formed JSON whose content is wrong. `fields` maps both the JSON
 * Pointer (`/fontSize`, `/items/2/qty`) and the field name (`fontSize`, `qty`)
 * to the first message reported there, so a form can look up either.
 */
export class ValidationError extends ProblemError {
  declare readonly status: 422
  readonly errors: FieldError[]
  readonly fields: Record<string, string>

  constructor(problem: Problem) {
    super(problem)
    this.name = 'ValidationError'
    this.errors = Array.isArray(problem.errors) ? problem.errors.filter(isFieldError) : []
    const fields: Record<string, string> = {}
    for (const e of this.errors) {
      fields[e.pointer] ??= e.message
    }
    for (const e of this.errors) {
      if (e.field) fields[e.field] ??= e.message
    }
    this.fields = fields
  }

  /** The first message for a field name or JSON Pointer, if any. */
  messageFor(fieldOrPointer: string): string | undefined {
    return this.fields[fieldOrPointer]
  }
}

/** A 412: the `If-Match` revision is no longer current. */
export class PreconditionFailedError extends ProblemError {
  declare readonly status: 412
  /** The document's current revision, from the problem or the `ETag` header. */
  readonly currentRevision: Revision | null

  constructor(problem: Problem, etagRevision: Revision | null) {
    super(problem)
    this.name = 'PreconditionFailedError'
    this.currentRevision = isRevision(problem.currentRevision) ? problem.currentRevision : etagRevision
  }
}

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.pointer === 'string' && typeof v.message === 'string'
}

/** Reads the revision out of a strong ETag (`"123"`), or null. */
export function revisionFromETag(etag: string | null): Revision | null {
  const m = etag ? /^"([0-9]+)"$/.exec(etag.trim()) : null
  return m && isRevision(m[1]) ? m[1] : null
}

/**
 * Turns a failed response into the matching error class. A body that is not
 * problem+json (a proxy's HTML 502, say) still becomes a {@link ProblemError}.
 */
export async function errorFromResponse(res: Response): Promise<ProblemError> {
  let problem: Problem = {
    type: 'about:blank',
    title: res.statusText || `HTTP ${res.status}`,
    status: res.status,
    detail: '',
  }
  const contentType = res.headers.get('Content-Type') ?? ''
  if (/json/i.test(contentType)) {
    try {
      const body: unknown = await res.json()
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
        problem = { ...problem, ...(body as Partial<Problem>), status: res.status }
      }
    } catch {
      // Keep the synthesised problem: the body was not JSON after all.
    }
  }
  switch (res.status) {
    case 422:
      return new ValidationError(problem)
    case 412:
      return new PreconditionFailedError(problem, revisionFromETag(res.headers.get('ETag')))
    default:
      return new ProblemError(problem)
  }
}

/** A request that got no answer in time; the client aborted it. */
export class TimeoutError extends Error {
  readonly timeoutMs: number
  constructor(what: string, timeoutMs: number) {
    super(`${what} got no answer within ${timeoutMs} ms`)
    this.name = 'TimeoutError'
    this.timeoutMs = timeoutMs
  }
}

/**
 * Where a failure happened. The first seven are `@statesync/core`'s phases;
 * `stream` and `election` are the connection and the tab election.
 */
export type SyncPhase =
  | 'start'
  | 'subscribe'
  | 'invalidation'
  | 'refresh'
  | 'getSnapshot'
  | 'apply'
  | 'protocol'
  | 'stream'
  | 'election'

/** A failure with what the client was doing: `@statesync/core`'s `SyncErrorContext`. */
export interface SyncErrorContext {
  phase: SyncPhase
  topic?: string
  error: unknown
  sourceEvent?: unknown
  localRevision?: string
  eventRevision?: string
  snapshotRevision?: string
  sourceId?: string
  /** 1 for the first try. */
  attempt?: number
  willRetry?: boolean
  nextDelayMs?: number
}

/**
 * Whether a failed read is worth repeating: a network failure, a timeout, a
 * 408, 429 or 5xx. A 4xx other than those will answer the same next time.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ProblemError) return error.status === 408 || error.status === 429 || error.status >= 500
  if (error instanceof TimeoutError) return true
  // fetch rejects with a TypeError when the network fails.
  return error instanceof TypeError && !(error.message.startsWith('pinion:'))
}

/** Reports whether `error` is the rejection of an aborted request. */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
}
