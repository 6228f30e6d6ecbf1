/**
 * @pinion/client: the browser client of a Pinion server.
 *
 * The transport (client, http, eventStream, sharedStream) imports nothing from
 * Vue or Pinia; `./pinia` is the Pinia binding and imports only Pinia's types.
 */
export * from './types'
export * from './revision'
export * from './errors'
export * from './http'
export * from './eventStream'
export * from './sharedStream'
export * from './client'
export * from './pinia'
