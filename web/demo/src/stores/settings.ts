import { defineStore } from 'pinia'
import { defaultSettings } from '@/api/topics'

/**
 * The shared `app-settings` document; the state is the document itself. The
 * settings panel writes it with the library's useTopicForm (PUT with
 * If-Match), useAction (toggle-theme) and useReset.
 */
export const useSettingsStore = defineStore('settings', {
  state: defaultSettings,
  sync: { topic: 'app-settings', mode: 'replace' },
})
