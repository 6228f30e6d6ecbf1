/** useWrite/useAction (optimistic + rollback) and useTopicForm (issue 14). */
import { createPinia, defineStore, type Pinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp, nextTick } from 'vue'
import { PinionClient } from './client.js'
import { pinionSync } from './pinia.js'
import { eventSourceFactory, fakeFetch, flush, json, type Recorded } from './testing/fakes.js'
import { PreconditionFailedError } from './errors.js'
import { useAction, usePatch, usePut, useTopicForm } from './vue.js'

interface Cart {
  items: { sku: string; qty: number }[]
  coupon: string
}

/** A server with one cart: add-item adds, qty > 9 is a 422, `fail` makes the next write fail as told. */
function server() {
  let current = { revision: '10', data: { items: [], coupon: '' } as Cart }
  let next: 'network' | 'hang' | 412 | null = null
  const { fetch, calls } = fakeFetch(async (req: Recorded) => {
    if (req.method === 'GET') return json(200, current)
    const mode = next
    next = null
    if (mode === 'network') throw new TypeError('Failed to fetch')
    if (mode === 'hang') {
      return new Promise<Response>((_, reject) =>
        req.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
      )
    }
    if (mode === 412) return json(412, { type: 'about:blank', title: 'Precondition Failed', status: 412, detail: 'stale', currentRevision: current.revision })
    const body = req.body as Record<string, unknown>
    if (req.url.endsWith('/actions/add-item')) {
      if ((body.qty as number) > 9) {
        return json(422, {
          type: 'about:blank', title: 'Unprocessable', status: 422, detail: 'invalid',
          errors: [{ field: 'qty', pointer: '/qty', rule: 'max', param: '9', message: 'qty must be at most 9' }],
        })
      }
      current = { revision: String(+current.revision + 1), data: { ...current.data, items: [...current.data.items, body as never] } }
    } else if (req.method === 'PUT') {
      if (req.headers['if-match'] && req.headers['if-match'] !== `"${current.revision}"`) {
        return json(412, { type: 'about:blank', title: 'Precondition Failed', status: 412, detail: 'stale', currentRevision: current.revision })
      }
      const doc = body as unknown as Cart
      if (doc.coupon.length > 5) {
        return json(422, {
          type: 'about:blank', title: 'Unprocessable', status: 422, detail: 'invalid',
          errors: [{ field: 'coupon', pointer: '/coupon', rule: 'max', param: '5', message: 'coupon must be at most 5 characters' }],
        })
      }
      current = { revision: String(+current.revision + 1), data: doc }
    }
    return json(200, current)
  })
  return {
    fetch,
    calls,
    fail: (m: typeof next) => (next = m),
    get current() {
      return current
    },
    set: (c: typeof current) => (current = c),
  }
}

const useCart = defineStore('cart', { state: (): Cart => ({ items: [], coupon: '' }), sync: { topic: 'cart' } })

let pinia: Pinia
let srv: ReturnType<typeof server>
let client: PinionClient
let sources: ReturnType<typeof eventSourceFactory>

beforeEach(() => {
  srv = server()
  sources = eventSourceFactory()
  client = new PinionClient({ sourceId: 'w-me', fetch: srv.fetch, sharing: 'off', createEventSource: sources.create, lifecycle: false })
  pinia = createPinia()
  pinia.use(pinionSync(client, { ssr: false }))
  createApp({}).use(pinia)
})

async function syncedCart() {
  const cart = useCart(pinia)
  await cart.$sync!.ready
  return cart
}

describe('useAction with an optimistic update', () => {
  const optimistic = (s: Cart, input: { sku: string; qty: number }) => {
    s.items.push(input)
  }

  it('shows the change at once and then the server’s snapshot', async () => {
    const cart = await syncedCart()
    const add = useAction(cart, 'add-item', { client, optimistic })
    const done = add.run({ sku: 'MUG', qty: 1 })
    expect(cart.items).toEqual([{ sku: 'MUG', qty: 1 }])
    expect(add.pending.value).toBe(true)
    const snap = await done
    expect(snap?.revision).toBe('11')
    expect(cart.$sync!.revision).toBe('11')
    expect(add.pending.value).toBe(false)
    expect(add.error.value).toBeNull()
  })

  for (const [name, arrange] of [
    ['a 422', (add: { run: (i: { sku: string; qty: number }) => unknown }) => add.run({ sku: 'MUG', qty: 99 })],
    ['a network error', (add: { run: (i: { sku: string; qty: number }) => unknown }) => (srv.fail('network'), add.run({ sku: 'MUG', qty: 1 }))],
    ['a 412', (add: { run: (i: { sku: string; qty: number }) => unknown }) => (srv.fail(412), add.run({ sku: 'MUG', qty: 1 }))],
  ] as const) {
    it(`rolls back exactly to the server’s state on ${name}`, async () => {
      const cart = await syncedCart()
      const before = JSON.parse(JSON.stringify(cart.$state))
      const add = useAction(cart, 'add-item', { client, optimistic })
      const result = await (arrange(add) as Promise<unknown>)
      expect(result).toBeUndefined()
      expect(add.error.value).toBeTruthy()
      expect({ ...cart.$state }).toEqual(before)
      await flush()
      expect({ ...cart.$state }).toEqual(srv.current.data)
      expect(cart.$sync!.revision).toBe(srv.current.revision)
    })
  }

  it('rolls back on a timeout', async () => {
    const cart = await syncedCart()
    const add = useAction(cart, 'add-item', { client, optimistic, timeoutMs: 20 })
    srv.fail('hang')
    await add.run({ sku: 'MUG', qty: 1 })
    expect((add.error.value as Error).name).toBe('TimeoutError')
    expect(cart.items).toEqual([])
  })

  it('ifMatch: the write is conditional on the revision the store held; a 412 ends at the server’s newer state', async () => {
    const cart = await syncedCart()
    const put = usePut(cart, { client, ifMatch: true })
    // Another window saved meanwhile; this store has not heard of it yet.
    srv.set({ revision: '12', data: { items: [{ sku: 'THEIRS', qty: 2 }], coupon: '' } })
    const result = await put.run({ items: [{ sku: 'MINE', qty: 1 }], coupon: '' })
    expect(srv.calls.filter((c) => c.method === 'PUT').map((c) => c.headers['if-match'])).toEqual(['"10"'])
    expect(result).toBeUndefined()
    expect(put.error.value).toBeInstanceOf(PreconditionFailedError)
    await flush()
    expect({ ...cart.$state }).toEqual(srv.current.data)
    expect(cart.$sync!.revision).toBe('12')
  })

  it('usePatch merges optimistically and rolls back', async () => {
    const cart = await syncedCart()
    const patch = usePatch(cart, { client })
    srv.fail('network')
    const pending = patch.run({ coupon: 'SAVE' })
    expect(cart.coupon).toBe('SAVE')
    await pending
    expect(cart.coupon).toBe('')
  })
})

describe('useTopicForm', () => {
  it('binds fields to the server’s errors and focuses the first invalid one', async () => {
    const cart = await syncedCart()
    const focused: string[] = []
    const form = useTopicForm(cart, { client, document: { getElementById: (id) => ({ focus: () => focused.push(id) }) } })
    expect(form.bind('coupon')).toEqual({ id: 'cart-coupon', name: 'coupon', 'aria-invalid': undefined, 'aria-describedby': undefined })
    form.draft.coupon = 'TOOLONG'
    expect(form.dirty.value).toBe(true)
    expect(await form.submit()).toBeUndefined()
    expect(form.fieldError('coupon')).toBe('coupon must be at most 5 characters')
    expect(form.fieldError('/coupon')).toBe('coupon must be at most 5 characters')
    expect(form.bind('coupon')).toEqual({ id: 'cart-coupon', name: 'coupon', 'aria-invalid': 'true', 'aria-describedby': 'cart-coupon-error' })
    await nextTick()
    await flush()
    expect(focused).toEqual(['cart-coupon'])
    expect(cart.coupon).toBe('') // nothing changed
  })

  it('formats messages from rule and param', async () => {
    const cart = await syncedCart()
    const form = useTopicForm(cart, { client, format: (e) => `${e.field}:${e.rule}:${e.param}`, document: { getElementById: () => null } })
    form.draft.coupon = 'TOOLONG'
    await form.submit()
    expect(form.fieldError('coupon')).toBe('coupon:max:5')
  })

  it('follows the store while untouched, and says when it changed elsewhere under an edit, with the writer', async () => {
    const cart = await syncedCart()
    const form = useTopicForm(cart, { client })
    client.connect()
    srv.set({ revision: '20', data: { items: [], coupon: 'A' } })
    sources.instances[0]!.invalidation({ topic: 'cart', revision: '20', sourceId: 'w-other' }, 'c20')
    await flush()
    expect(form.draft.coupon).toBe('A')
    expect(form.changedElsewhere.value).toBeNull()
    form.draft.coupon = 'MINE'
    srv.set({ revision: '21', data: { items: [], coupon: 'B' } })
    sources.instances[0]!.invalidation({ topic: 'cart', revision: '21', sourceId: 'w-other' }, 'c21')
    await flush()
    expect(form.draft.coupon).toBe('MINE')
    expect(form.changedElsewhere.value).toEqual({ revision: '21', writer: 'w-other' })
  })

  it('412: shows both sides; take theirs or overwrite', async () => {
    const cart = await syncedCart()
    const form = useTopicForm(cart, { client })
    form.draft.coupon = 'MINE'
    srv.set({ revision: '30', data: { items: [], coupon: 'THEIR' } }) // someone saved meanwhile (no event yet)
    expect(await form.submit()).toBeUndefined()
    expect(srv.calls.find((c) => c.method === 'PUT')!.headers['if-match']).toBe('"10"')
    expect(form.conflict.value).toEqual({ theirs: { items: [], coupon: 'THEIR' }, theirRevision: '30', mine: { items: [], coupon: 'MINE' } })
    const saved = await form.overwrite()
    expect(saved?.data.coupon).toBe('MINE')
    expect(srv.current.data.coupon).toBe('MINE')
    expect(form.conflict.value).toBeNull()
    expect(form.dirty.value).toBe(false)

    form.draft.coupon = 'AGAIN'
    srv.set({ revision: '40', data: { items: [], coupon: 'X' } })
    await form.submit()
    form.takeTheirs()
    expect(form.draft.coupon).toBe('X')
    expect(form.dirty.value).toBe(false)
  })
})
