import { inject } from 'vue'
import { pinionKey, type Pinion } from '@/api/pinion'

/** The Pinion client the app was installed with. */
export function usePinion(): Pinion {
  const pinion = inject(pinionKey)
  if (!pinion) throw new Error('usePinion: no Pinion client provided (call installPinion)')
  return pinion
}
