import type { Revision } from './types.js'

const canonical = /^(0|[1-9][0-9]{0,19})$/
const maxU64 = 18446744073709551615n

/** Reports whether `value` is a canonical decimal u64 string. */
export function isRevision(value: unknown): value is Revision {
  return typeof value === 'string' && canonical.test(value) && BigInt(value) <= maxU64
}

/**
 * Compares two revisions: negative when `a` is older, zero when equal,
 * positive when newer. Revisions exceed 2^53, so they are compared as
 * BigInt, never as JavaScript numbers.
 */
export function compareRevisions(a: string, b: string): number {
  const x = BigInt(a)
  const y = BigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Reports whether `candidate` is newer than `current` (anything is newer than nothing). */
export function isNewer(candidate: string, current: string | null | undefined): boolean {
  return current == null || compareRevisions(candidate, current) > 0
}

/** Checks a string and brands it as a {@link Revision}; throws unless it is canonical. */
export function asRevision(value: string): Revision {
  if (!isRevision(value)) throw new TypeError(`pinion: ${JSON.stringify(value)} is not a canonical revision`)
  return value
}
