import { describe, expect, it } from 'vitest'
import SettingsPanel from './SettingsPanel.vue'
import { fakeServer, flush, json, mountWithPinion } from '@/testing/mountApp'

const tooBig = {
  type: 'https://pinion.dev/problems/validation',
  title: 'Validation failed',
  status: 422,
  detail: '2 fields are invalid',
  errors: [
    { field: 'fontSize', pointer: '/fontSize', rule: 'max', param: '32', message: 'fontSize must be at most 32' },
    { field: 'language', pointer: '/language', rule: 'bcp47_language_tag', param: '', message: 'language must be a BCP 47 tag' },
  ],
}

describe('SettingsPanel', () => {
  it('shows the synced settings and their revision', async () => {
    const { wrapper } = await mountWithPinion(SettingsPanel)
    expect((wrapper.get('[data-testid="settings-fontSize"]').element as HTMLInputElement).value).toBe('14')
    expect(wrapper.get('[data-testid="revision-app-settings"]').text()).toBe('1764000000000001')
    wrapper.unmount()
  })

  it('sends invalid values and shows the server’s 422 messages under each field', async () => {
    const server = fakeServer((req) => (req.method === 'PUT' && (req.body as { fontSize: number }).fontSize > 32 ? json(422, tooBig) : undefined))
    const { wrapper } = await mountWithPinion(SettingsPanel, server)
    await wrapper.get('[data-testid="settings-fontSize"]').setValue('99')
    await wrapper.get('[data-testid="settings-language"]').setValue('not a tag!')
    await wrapper.get('[data-testid="settings-form"]').trigger('submit')
    await flush()

    const put = server.calls.find((c) => c.method === 'PUT')!
    expect(put.body).toMatchObject({ fontSize: 99, language: 'not a tag!' })
    expect(put.headers['x-source-id']).toBe('w-me')
    expect(put.headers['if-match']).toBe('"1764000000000001"')
    expect(wrapper.get('[data-testid="settings-error-fontSize"]').text()).toBe('fontSize must be at most 32')
    expect(wrapper.get('[data-testid="settings-error-language"]').text()).toBe('language must be a BCP 47 tag')
    expect(wrapper.find('[data-testid="settings-error-theme"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="settings-fontSize"]').attributes('aria-invalid')).toBe('true')
    // Tied to its message, and the first invalid field has the focus.
    const described = wrapper.get('[data-testid="settings-fontSize"]').attributes('aria-describedby')!
    expect(document.getElementById(described)?.textContent).toBe('fontSize must be at most 32')
    expect(document.activeElement?.getAttribute('data-testid')).toBe('settings-fontSize')
    // Nothing was stored: the revision did not move.
    expect(wrapper.get('[data-testid="revision-app-settings"]').text()).toBe('1764000000000001')
    wrapper.unmount()
  })

  it('saves, applies the answer at once and names this window as the writer', async () => {
    const { wrapper, stream } = await mountWithPinion(SettingsPanel)
    await wrapper.get('[data-testid="settings-fontSize"]').setValue('20')
    await wrapper.get('[data-testid="settings-form"]').trigger('submit')
    await flush()
    expect(wrapper.get('[data-testid="settings-status"]').text()).toContain('1764000000000002')
    expect(wrapper.get('[data-testid="revision-app-settings"]').text()).toBe('1764000000000002')
    expect(wrapper.get('[data-testid="writer-app-settings"]').text()).toBe('this window')
    expect(document.documentElement.style.fontSize).toBe('')
    // Another window's write arrives as an invalidation.
    stream().invalidation({ topic: 'app-settings', revision: '1764000000000003', sourceId: 'w-other', timestampMs: 1 }, 'c.1')
    await flush()
    expect(wrapper.get('[data-testid="writer-app-settings"]').text()).toBe('w-other')
    expect(wrapper.get('[data-testid="writer-app-settings"]').attributes('data-own')).toBe('false')
    wrapper.unmount()
  })

  it('shows a 412 conflict and keeps the edits', async () => {
    const server = fakeServer((req) =>
      req.method === 'PUT'
        ? json(412, { type: 'about:blank', title: 'Precondition Failed', status: 412, detail: 'stale', currentRevision: '1764000000000009' })
        : undefined,
    )
    const { wrapper } = await mountWithPinion(SettingsPanel, server)
    await wrapper.get('[data-testid="settings-fontSize"]').setValue('21')
    await wrapper.get('[data-testid="settings-form"]').trigger('submit')
    await flush()
    expect(wrapper.get('[data-testid="settings-form-error"]').text()).toMatch(/newer version/)
    expect((wrapper.get('[data-testid="settings-fontSize"]').element as HTMLInputElement).value).toBe('21')
    // Both sides: theirs as the server reads now, mine still in the form.
    expect(wrapper.get('[data-testid="settings-conflict"]').text()).toContain('font size 14')
    await wrapper.get('[data-testid="settings-overwrite"]').trigger('click')
    await flush()
    // Overwriting is conditional on the revision of theirs that was shown.
    const puts = server.calls.filter((c) => c.method === 'PUT')
    expect(puts).toHaveLength(2)
    expect(puts[1]!.body).toMatchObject({ fontSize: 21 })
    expect(puts[1]!.headers['if-match']).toBe('"1764000000000001"')
    wrapper.unmount()
  })
})
