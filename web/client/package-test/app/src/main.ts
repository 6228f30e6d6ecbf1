import { createClient, ValidationError, type Snapshot } from '@pinion/client'
import { pinionSync } from '@pinion/client/pinia'
import { createPinia } from 'pinia'
import { providePinion } from '@pinion/client/vue'
import { createApp } from 'vue'
import App from './App.vue'
import type { Settings } from './settings'

type Topics = { 'app-settings': { data: Settings; actions: { 'toggle-theme': Record<string, never> } } }

const pinion = createClient<Topics>({ baseUrl: 'https://api.example.test', headers: () => ({ Authorization: 'Bearer t' }) })
const pinia = createPinia()
pinia.use(pinionSync(pinion))
const app = createApp(App).use(pinia)
providePinion(app, pinion)
app.mount('#app')

export async function save(next: Settings): Promise<Snapshot<Settings> | string> {
  try {
    return await pinion.put('app-settings', next)
  } catch (e) {
    if (e instanceof ValidationError) return e.fields.fontSize ?? ''
    throw e
  }
}
