import type { Snapshot } from '@pinion/client'
import { defineStore } from 'pinia'
import { defaultCart, type AddItemInput, type Cart } from '@/api/topics'

/**
 * This browser's `cart`; every change goes through a server action. The
 * cart panel changes lines with the library's `useAction`/`usePatch`
 * (optimistic, with rollback); adding an item is a form.
 */
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
  },
})
