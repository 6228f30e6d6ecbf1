import { describe, expect, it } from 'vitest'
import ConnectionIndicator from './ConnectionIndicator.vue'
import { flush, mountWithPinion } from '@/testing/mountApp'

describe('ConnectionIndicator', () => {
  it('follows the stream: connecting, live, reconnecting', async () => {
    const { wrapper, pinion, stream } = await mountWithPinion(ConnectionIndicator)
    const indicator = () => wrapper.get('[data-testid="connection-indicator"]')
    expect(indicator().attributes('data-state')).toBe('connecting')
    pinion.connect()
    stream().ready('c.1')
    await flush()
    expect(indicator().attributes('data-state')).toBe('live')
    expect(wrapper.get('[data-testid="connection-label"]').text()).toBe('Live')
    expect(wrapper.get('[data-testid="stream-role"]').attributes('data-role')).toBe('standalone')
    stream().fail(false)
    await flush()
    expect(indicator().attributes('data-state')).toBe('reconnecting')
    wrapper.unmount()
  })
})
