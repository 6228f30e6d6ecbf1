import type { Snapshot } from '@pinion/client'
import { defineStore } from 'pinia'
import { defaultCart, type AddItemInput, type Cart } from '@/api/topics'

/** This browser's `cart`; every change goes through a server action. */
export const useCartStore = defineStore('cart', {
  state: defaultCart,
  sync: { topic: 'cart', mode: 'replace' },
  getters: {
    count: (state): number => state.items.reduce((n, item) => n + item.qty, 0),
    subtotalCents: (state): number => state.items.reduce((sum, item) => sum + item.qty * item.priceCents, 0),
  },
  actions: {
    addItem(input: AddItemInput): Promise<Snapshot<Cart>> {
      return this.$pinion.action('cart', 'add-item', input)
    },
    /** Sets a line's quantity; 0 removes it. */
    setQuantity(sku: string, qty: number): Promise<Snapshot<Cart>> {
      return this.$pinion.action('cart', 'set-quantity', { sku, qty })
    },
    removeItem(sku: string): Promise<Snapshot<Cart>> {
      return this.$pinion.action('cart', 'remove-item', { sku })
    },
    clear(): Promise<Snapshot<Cart>> {
      return this.$pinion.action('cart', 'clear', {})
    },
    /** Applies (or, with '', removes) a coupon code (PATCH). */
    setCoupon(coupon: string): Promise<Snapshot<Cart>> {
      return this.$pinion.patch('cart', { coupon })
    },
  },
})
