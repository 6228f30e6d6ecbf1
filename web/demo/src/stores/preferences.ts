import type { MergePatch, Snapshot } from '@pinion/client'
import { defineStore } from 'pinia'
import { defaultPreferences, type UserPreferences } from '@/api/topics'

/**
 * This browser's `user-preferences`. Synced in `patch` mode to show it off:
 * the document's keys are merged into the state (arrays replaced whole).
 */
export const usePreferencesStore = defineStore('preferences', {
  state: defaultPreferences,
  sync: { topic: 'user-preferences', mode: 'patch' },
  actions: {
    /** Merges a patch into the preferences (PATCH, RFC 7396). */
    update(patch: MergePatch<UserPreferences>): Promise<Snapshot<UserPreferences>> {
      return this.$pinion.patch('user-preferences', patch)
    },
    addFavorite(name: string): Promise<Snapshot<UserPreferences>> {
      return this.update({ favorites: [...this.favorites, name] })
    },
    removeFavorite(index: number): Promise<Snapshot<UserPreferences>> {
      return this.update({ favorites: this.favorites.filter((_, i) => i !== index) })
    },
    resetToDefaults(): Promise<Snapshot<UserPreferences>> {
      return this.$pinion.reset('user-preferences')
    },
  },
})
