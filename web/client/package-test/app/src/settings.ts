import { defineStore } from 'pinia'
import { ref } from 'vue'

export interface Settings {
  theme: 'light' | 'dark' | 'system'
  fontSize: number
}

// An options store and a setup store, both synced with the `sync` option.
export const useSettingsStore = defineStore('settings', {
  state: (): Settings => ({ theme: 'system', fontSize: 14 }),
  sync: { topic: 'app-settings', mode: 'replace' },
})

export const useSetupSettingsStore = defineStore(
  'setup-settings',
  () => {
    const theme = ref<Settings['theme']>('system')
    const fontSize = ref(14)
    return { theme, fontSize }
  },
  { sync: { topic: 'app-settings', mode: 'patch' } },
)
