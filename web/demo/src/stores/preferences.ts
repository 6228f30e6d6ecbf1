import { defineStore } from 'pinia'
import { defaultPreferences } from '@/api/topics'

/**
 * This browser's `user-preferences`. Synced in `patch` mode to show it off:
 * the document's keys are merged into the state (arrays replaced whole).
 * The preferences card and the sidebar write it with the library's
 * useTopicForm, usePatch and useReset.
 */
export const usePreferencesStore = defineStore('preferences', {
  state: defaultPreferences,
  sync: { topic: 'user-preferences', mode: 'patch' },
})
