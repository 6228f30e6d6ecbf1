import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { createPinion, installPinion } from './api/pinion'
import './styles/main.css'

// The API is on the page's origin unless the page names another one (an app
// served from a CDN, say): <meta name="pinion-api" content="https://api.example">.
const api = document.querySelector<HTMLMetaElement>('meta[name="pinion-api"]')?.content ?? ''
const pinion = createPinion({ baseUrl: api })
const pinia = createPinia()
const app = createApp(App)
app.use(pinia)
installPinion(app, pinia, pinion)
app.mount('#app')
// The client itself hands the stream to another tab on `pagehide` and resumes
// (refreshing every synced store) when the page returns from the bfcache.
