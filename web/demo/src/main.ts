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
// The client itself hands the stream to another tab on `pagehide` and resumes
// (refreshing every synced store) when the page returns from the bfcache.
