import { describe, expect, it } from 'vitest'
import SyncActivity from './SyncActivity.vue'
import { flush, mountWithPinion } from '@/testing/mountApp'

describe('SyncActivity', () => {
  it("draws the devtools plugin's timeline and topic inspector", async () => {
    const { wrapper, stream } = await mountWithPinion(SyncActivity)
    stream().invalidation({ topic: 'cart', revision: '1764000000000007', sourceId: 'w-other', timestampMs: 1 }, 'c.7')
    await flush()
    const events = wrapper.findAll('[data-testid="activity-event"]').map((e) => e.text())
    expect(events.some((t) => t.includes('invalidation') && t.includes('cart @1764000000000007'))).toBe(true)
    expect(wrapper.find('[data-testid="activity-topic-cart"]').exists()).toBe(true)
    const state = wrapper.get('[data-testid="activity-state"]').text()
    expect(state).toContain('revision (latest heard)')
    expect(state).toContain('1764000000000007')
    expect(state).toContain('w-other')
    wrapper.unmount()
  })
})
