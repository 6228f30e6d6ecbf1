import { describe, expect, it } from 'vitest'
import { compareRevisions, isNewer, isRevision } from './revision.js'

describe('compareRevisions', () => {
  it.each([
    ['0', '0', 0],
    ['1', '2', -1],
    ['10', '9', 1],
    // Beyond 2^53 the numbers differ by one, which JavaScript numbers cannot tell apart.
    ['9007199254740993', '9007199254740992', 1],
    ['1764000000000017', '1764000000000018', -1],
    ['18446744073709551615', '18446744073709551614', 1],
    ['18446744073709551615', '18446744073709551615', 0],
  ])('compare(%s, %s) = %i', (a, b, want) => {
    expect(Math.sign(compareRevisions(a, b))).toBe(want)
    expect(Number('9007199254740993')).toBe(Number('9007199254740992'))
  })
})

describe('isNewer', () => {
  it('treats anything as newer than nothing', () => {
    expect(isNewer('0', null)).toBe(true)
    expect(isNewer('0', undefined)).toBe(true)
  })
  it('is strict', () => {
    expect(isNewer('5', '5')).toBe(false)
    expect(isNewer('4', '5')).toBe(false)
    expect(isNewer('6', '5')).toBe(true)
    expect(isNewer('100', '99')).toBe(true)
  })
})

describe('isRevision', () => {
  it.each(['0', '42', '1764000000000017', '18446744073709551615'])('accepts %s', (r) => {
    expect(isRevision(r)).toBe(true)
  })
  it.each(['', '01', '-1', '+1', '1.0', ' 1', '18446744073709551616', 'abc', 42, null])('rejects %j', (r) => {
    expect(isRevision(r)).toBe(false)
  })
})
