/**
 * The demo's topics, their documents, their actions' inputs and their
 * default documents: all from `openapi.yaml`. openapi-typescript generates
 * the types (`schema.d.ts`); `npm run api:gen` (part of `make openapi`)
 * generates the topic map and the defaults (`topics.gen.ts`) from the
 * document's paths and the schemas' `default`. `make test` fails when
 * either is stale. Only short names for the generated types are written here.
 */
import type { components } from './schema'
import { defaultDocuments, type PinionTopics } from './topics.gen'

export { defaultDocuments, topicActions, topicNames, type PinionTopics } from './topics.gen'

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

export type TopicName = keyof PinionTopics & string

/** The document a topic that was never written answers: the server's default, from its schema. */
export const defaultSettings = defaultDocuments['app-settings']
export const defaultPreferences = defaultDocuments['user-preferences']
export const defaultCart = defaultDocuments.cart
