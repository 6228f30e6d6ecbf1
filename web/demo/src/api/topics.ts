/**
 * The demo's topics, their documents and their actions' inputs, taken from
 * the types openapi-typescript generates from `openapi.yaml` into
 * `schema.d.ts` (`make openapi` regenerates both; `make test` fails when
 * they are stale). Only `PinionTopics`, the map that types the client, and
 * the defaults are written here.
 */
import type { components } from './schema'

type Schemas = components['schemas']

export type AppSettings = Schemas['AppSettings']
export type Theme = AppSettings['theme']
export type UserPreferences = Schemas['UserPreferences']
export type SidebarState = UserPreferences['sidebar']
export type Cart = Schemas['Cart']
export type CartItem = Schemas['CartItem']
export type AddItemInput = Schemas['CartAddItemInput']
export type SetQuantityInput = Schemas['CartSetQuantityInput']
export type RemoveItemInput = Schemas['CartRemoveItemInput']
/** An action without input. */
export type NoInput = Schemas['CartClearInput']

/** The topic map that types the client. */
export type PinionTopics = {
  'app-settings': { data: AppSettings; actions: { 'toggle-theme': Schemas['AppSettingsToggleThemeInput'] } }
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
