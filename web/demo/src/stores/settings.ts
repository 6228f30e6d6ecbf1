import type { Snapshot } from '@pinion/client'
import { defineStore } from 'pinia'
import { defaultSettings, type AppSettings } from '@/api/topics'

/** The shared `app-settings` document; the state is the document itself. */
export const useSettingsStore = defineStore('settings', {
  state: defaultSettings,
  sync: { topic: 'app-settings', mode: 'replace' },
  actions: {
    /** Replaces the settings (PUT). With `baseRevision`, fails with a 412 if someone saved since. */
    save(settings: AppSettings, baseRevision?: string | null): Promise<Snapshot<AppSettings>> {
      return this.$pinion.put('app-settings', settings, baseRevision ? { ifMatch: baseRevision } : undefined)
    },
    /** Runs the server's `toggle-theme` action: light → dark → system → light. */
    toggleTheme(): Promise<Snapshot<AppSettings>> {
      return this.$pinion.action('app-settings', 'toggle-theme', {})
    },
    /** Resets the settings to the server's defaults (DELETE). */
    resetToDefaults(): Promise<Snapshot<AppSettings>> {
      return this.$pinion.reset('app-settings')
    },
  },
})
