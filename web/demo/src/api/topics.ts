/**
 * The demo's topics, their documents and their actions' inputs.
 *
 * Written by hand for now. When openapi-typescript generates the schema, this
 * is the one file to change: re-export the generated component schemas under
 * the same names (e.g. `export type AppSettings = components['schemas']['AppSettings']`)
 * and keep `PinionTopics` as the map that types the client.
 */

export type Theme = 'light' | 'dark' | 'system'

/** `app-settings` (shared by everyone). */
export interface AppSettings {
  theme: Theme
  /** A BCP 47 language tag: `en`, `fr-CA`. */
  language: string
  /** Base font size in pixels, 10 to 32. */
  fontSize: number
  notifications: boolean
  compactMode: boolean
  reducedMotion: boolean
}

export type SidebarState = 'expanded' | 'collapsed'

/** `user-preferences` (one per browser). */
export interface UserPreferences {
  /** At most 40 characters; empty shows no name. */
  displayName: string
  /** A hex colour: `#4f46e5`. */
  accentColor: string
  sidebar: SidebarState
  /** At most 10, each 1 to 40 characters. */
  favorites: string[]
}

export interface CartItem {
  /** At most 32 characters. */
  sku: string
  /** At most 80 characters. */
  name: string
  /** 1 to 99. */
  qty: number
  /** 0 to 10 000 000. */
  priceCents: number
}

/** `cart` (one per browser). */
export interface Cart {
  /** At most 50 lines. */
  items: CartItem[]
  /** Alphanumeric, at most 16 characters; empty when none. */
  coupon: string
}

export interface AddItemInput {
  sku: string
  name: string
  priceCents: number
  qty: number
}

export interface SetQuantityInput {
  sku: string
  /** 0 to 99; 0 removes the line. */
  qty: number
}

export interface RemoveItemInput {
  sku: string
}

/** An action without input. */
export type NoInput = Record<string, never>

/** The topic map that types the client. */
export type PinionTopics = {
  'app-settings': { data: AppSettings; actions: { 'toggle-theme': NoInput } }
  'user-preferences': { data: UserPreferences; actions: Record<never, never> }
  cart: {
    data: Cart
    actions: {
      'add-item': AddItemInput
      'set-quantity': SetQuantityInput
      'remove-item': RemoveItemInput
      clear: NoInput
    }
  }
}

export type TopicName = keyof PinionTopics & string

/** The documents a topic that was never written answers (mirrors the server's defaults). */
export const defaultSettings = (): AppSettings => ({
  theme: 'system',
  language: 'en',
  fontSize: 14,
  notifications: true,
  compactMode: false,
  reducedMotion: false,
})

export const defaultPreferences = (): UserPreferences => ({
  displayName: '',
  accentColor: '#4f46e5',
  sidebar: 'expanded',
  favorites: [],
})

export const defaultCart = (): Cart => ({ items: [], coupon: '' })
