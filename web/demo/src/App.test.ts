import { describe, expect, it } from 'vitest'
import App from './App.vue'
import { fakeServer, flush, json, mountWithPinion } from '@/testing/mountApp'

describe('App', () => {
  it('renders every card, lists the topics and applies the synced appearance', async () => {
    const server = fakeServer((req) =>
      req.method === 'GET' && req.url.endsWith('/app-settings')
        ? json(200, {
            revision: '1764000000000007',
            data: { theme: 'dark', language: 'fr-CA', fontSize: 18, notifications: true, compactMode: true, reducedMotion: true },
          })
        : undefined,
    )
    const { wrapper, stream } = await mountWithPinion(App, server)
    for (const id of ['settings-panel', 'preferences-panel', 'cart-panel', 'connection-indicator', 'open-window', 'sidebar']) {
      expect(wrapper.find(`[data-testid="${id}"]`).exists(), id).toBe(true)
    }
    expect(wrapper.findAll('[data-testid^="topic-list-item-"]').map((w) => w.attributes('data-testid'))).toEqual([
      'topic-list-item-app-settings',
      'topic-list-item-cart',
      'topic-list-item-user-preferences',
    ])
    expect(wrapper.get('[data-testid="app"]').attributes('data-synced')).toBe('true')
    const root = document.documentElement
    expect(root.dataset.theme).toBe('dark')
    expect(root.dataset.compact).toBe('true')
    expect(root.dataset.motion).toBe('reduced')
    expect(root.style.fontSize).toBe('18px')
    expect(root.lang).toBe('fr-CA')
    expect(root.style.getPropertyValue('--accent')).toBe('#4f46e5')

    // Another window switches to light: this one follows.
    server.calls.length = 0
    stream().invalidation({ topic: 'app-settings', revision: '1764000000000008', sourceId: 'w-other' }, 'c.1')
    await flush()
    expect(server.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /api/topics/app-settings'])
    wrapper.unmount()
  })
})
