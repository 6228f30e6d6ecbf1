// Server-side rendering: the package loads in plain Node (no EventSource, no
// window), a synced store is created and rendered, and nothing connects.
import { createClient } from '@pinion/client'
import { pinionSync } from '@pinion/client/pinia'
import { createPinia, defineStore } from 'pinia'
import { createSSRApp, h } from 'vue'
import { renderToString } from 'vue/server-renderer'

let requests = 0
const client = createClient({
  baseUrl: 'http://127.0.0.1:1',
  fetch: async () => {
    requests++
    throw new Error('no fetch during SSR')
  },
})
const pinia = createPinia()
pinia.use(pinionSync(client))
const useStore = defineStore('s', { state: () => ({ n: 1 }), sync: { topic: 'app-settings' } })
const app = createSSRApp({
  setup() {
    const store = useStore()
    return () => h('p', `n=${store.n} status=${store.$sync?.status}`)
  },
})
app.use(pinia)
const html = await renderToString(app)
await new Promise((r) => setTimeout(r, 50))
console.log(JSON.stringify({ html, requests, state: client.state }))
