import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { createPinion, installPinion } from './api/pinion'
import './styles/main.css'

const pinion = createPinion()
const pinia = createPinia()
const app = createApp(App)
app.use(pinia)
installPinion(app, pinia, pinion)
app.mount('#app')

// Hand the stream to another tab as the page goes away, rather than when the
// browser gets round to tearing it down. A page restored from the back/forward
// cache starts afresh.
window.addEventListener('pagehide', () => pinion.close())
window.addEventListener('pageshow', (event) => {
  if (event.persisted) window.location.reload()
})
