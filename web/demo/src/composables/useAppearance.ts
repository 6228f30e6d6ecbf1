import { watchEffect } from 'vue'
import { usePreferencesStore } from '@/stores/preferences'
import { useSettingsStore } from '@/stores/settings'

const hexColor = /^#(?:[0-9a-fA-F]{3}){1,2}$/

/**
 * Applies the synced settings and preferences to the page: theme, base font
 * size, compact mode, reduced motion and the accent colour. Every window
 * changes look together, because they share the documents.
 */
export function useAppearance(root: HTMLElement = document.documentElement): void {
  const settings = useSettingsStore()
  const preferences = usePreferencesStore()
  watchEffect(() => {
    root.dataset.theme = settings.theme
    root.dataset.compact = String(settings.compactMode)
    root.dataset.motion = settings.reducedMotion ? 'reduced' : 'full'
    const size = Number(settings.fontSize)
    root.style.fontSize = Number.isFinite(size) && size >= 10 && size <= 32 ? `${size}px` : ''
    if (hexColor.test(preferences.accentColor)) root.style.setProperty('--accent', preferences.accentColor)
    else root.style.removeProperty('--accent')
    root.lang = settings.language || 'en'
  })
}
