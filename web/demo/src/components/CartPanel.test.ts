import { describe, expect, it } from 'vitest'
import CartPanel from './CartPanel.vue'
import { fakeServer, flush, json, mountWithPinion } from '@/testing/mountApp'

const cartWith = (items: { sku: string; name: string; qty: number; priceCents: number }[]) =>
  json(200, { revision: '1764000000000005', data: { items, coupon: '' } })

describe('CartPanel', () => {
  it('lists the lines with their totals', async () => {
    const server = fakeServer((req) =>
      req.method === 'GET' && req.url.endsWith('/cart')
        ? cartWith([
            { sku: 'A', name: 'Apple', qty: 2, priceCents: 150 },
            { sku: 'B', name: 'Bread', qty: 1, priceCents: 400 },
          ])
        : undefined,
    )
    const { wrapper } = await mountWithPinion(CartPanel, server)
    const rows = wrapper.findAll('[data-testid="cart-row"]')
    expect(rows.map((r) => r.attributes('data-sku'))).toEqual(['A', 'B'])
    expect(rows[0]!.get('[data-testid="cart-row-qty"]').text()).toBe('2')
    expect(wrapper.get('[data-testid="cart-count"]').text()).toBe('3')
    expect(wrapper.get('[data-testid="cart-subtotal"]').text()).toContain('7.00')
    wrapper.unmount()
  })

  it('runs set-quantity from the stepper at once, conditional on the shown revision; a 422 rolls back and shows under the row', async () => {
    const server = fakeServer((req) => {
      if (req.method === 'GET' && req.url.endsWith('/cart')) return cartWith([{ sku: 'A', name: 'Apple', qty: 99, priceCents: 150 }])
      if (req.url.endsWith('/actions/set-quantity')) {
        return json(422, {
          type: 'v',
          title: 'Validation failed',
          status: 422,
          detail: 'qty must be at most 99',
          errors: [{ field: 'qty', pointer: '/qty', rule: 'max', param: '99', message: 'qty must be at most 99' }],
        })
      }
      return undefined
    })
    const { wrapper } = await mountWithPinion(CartPanel, server)
    await wrapper.get('[data-testid="cart-row-inc"]').trigger('click')
    expect(wrapper.get('[data-testid="cart-row-qty"]').text()).toBe('100') // optimistic
    await flush()
    const call = server.calls.find((c) => c.url.endsWith('/api/topics/cart/actions/set-quantity'))!
    expect(call.method).toBe('POST')
    expect(call.body).toEqual({ sku: 'A', qty: 100 })
    expect(call.headers['if-match']).toBe('"1764000000000005"')
    expect(wrapper.get('[data-testid="cart-row-qty"]').text()).toBe('99') // rolled back
    expect(wrapper.get('[data-testid="cart-row-error"]').text()).toBe('qty must be at most 99')
    wrapper.unmount()
  })

  it('adds an item with add-item and shows the empty state before', async () => {
    const { wrapper, server } = await mountWithPinion(CartPanel)
    expect(wrapper.find('[data-testid="cart-empty"]').exists()).toBe(true)
    await wrapper.get('[data-testid="cart-add-sku"]').setValue('MUG')
    await wrapper.get('[data-testid="cart-add-name"]').setValue('Mug')
    await wrapper.get('[data-testid="cart-add-price"]').setValue('12.5')
    await wrapper.get('[data-testid="cart-add-qty"]').setValue('2')
    await wrapper.get('[data-testid="cart-add-form"]').trigger('submit')
    await flush()
    const call = server.calls.find((c) => c.url.endsWith('/actions/add-item'))!
    expect(call.body).toEqual({ sku: 'MUG', name: 'Mug', priceCents: 1250, qty: 2 })
    expect(call.headers['x-source-id']).toBe('w-me')
    wrapper.unmount()
  })
})
