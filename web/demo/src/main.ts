import { createPinia } from 'pinia'
import { createApp } from 'vue'
import { reportFreshness } from '@pinion/client/freshness'
import App from './App.vue'
import { createPinion, installPinion } from './api/pinion'
import './styles/main.css'

// The API is on the page's origin unless the page names another one (an app
// served from a CDN, say): <meta name="pinion-api" content="https://api.example">.
const api = document.querySelector<HTMLMetaElement>('meta[name="pinion-api"]')?.content ?? ''
const pinion = createPinion({ baseUrl: api })
// Browser-side freshness reports are off unless the page asks for them with a
// sample rate: <meta name="pinion-freshness" content="0.05"> (the server needs
// -client-freshness).
const sampleRate = Number(document.querySelector<HTMLMetaElement>('meta[name="pinion-freshness"]')?.content ?? 0)
const freshness = sampleRate > 0 ? reportFreshness({ sampleRate, baseUrl: api }) : undefined
const pinia = createPinia()
const app = createApp(App)
app.use(pinia)
installPinion(app, pinia, pinion, freshness)
app.mount('#app')
// The client itself hands the stream to another tab on `pagehide` and resumes
// (refreshing every synced store) when the page returns from the bfcache.
