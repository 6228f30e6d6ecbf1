/**
 * @pinion/client: the browser client of a Pinion server.
 *
 * The transport (client, http, eventStream, sharedStream) imports nothing from
 * Vue or Pinia; `./pinia` is the Pinia binding and imports only Pinia's types.
 */
export * from './types.js'
export * from './revision.js'
export * from './errors.js'
export * from './http.js'
export * from './eventStream.js'
export * from './sharedStream.js'
export * from './client.js'
