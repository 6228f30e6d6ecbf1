/**
 * topics.gen.ts is what `npm run api:gen` makes of openapi.yaml today, and
 * the generator takes everything from the document's structure.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generate, outPath, specPath } from '../../../scripts/api-gen.mjs'
import { defaultDocuments, topicActions, topicNames } from './topics.gen'

const spec = readFileSync(specPath, 'utf8')

describe('topics.gen.ts', () => {
  it('is fresh: run `npm run api:gen` (or `make openapi`) and commit it', () => {
    expect(readFileSync(outPath, 'utf8')).toBe(generate(spec))
  })

  it('has every topic path of the document, its actions and its default', () => {
    const paths = [...spec.matchAll(/^ {2}\/api\/topics\/([a-z0-9-]+):$/gm)].map((m) => m[1])
    expect([...topicNames]).toEqual([...paths].sort())
    const actions = [...spec.matchAll(/^ {2}\/api\/topics\/cart\/actions\/([a-z0-9-]+):$/gm)].map((m) => m[1])
    expect([...topicActions.cart]).toEqual([...actions].sort())
    expect(defaultDocuments.cart()).toEqual({ items: [], coupon: '' })
    // A fresh copy each call: a store's state never aliases the default.
    expect(defaultDocuments.cart()).not.toBe(defaultDocuments.cart())
  })

  it('follows the document, not names guessed from each other', () => {
    // Rename the cart's document schema and its default: the generator follows the $refs.
    const renamed = spec
      .replaceAll("#/components/schemas/Cart'", "#/components/schemas/Basket'")
      .replace(/^ {4}Cart:$/m, '    Basket:')
      .replace("        items: []\n        coupon: ''", "        items: []\n        coupon: WELCOME")
    const out = generate(renamed)
    expect(out).toContain("data: Schemas['Basket']")
    expect(out).toContain('cart: () => ({"items":[],"coupon":"WELCOME"})')
  })

  it('refuses a document schema without a default', () => {
    expect(() => generate(spec.replace("      default:\n        items: []\n        coupon: ''\n", ''))).toThrow(/Cart.*no default/)
  })
})
