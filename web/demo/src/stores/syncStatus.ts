import type { ConnectionState, InvalidationEvent, PinionClient, StreamRole, TopicInfo, TopicMap } from '@pinion/client'
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

/** What the UI shows about one topic. */
export interface TopicStatus {
  /** Revision applied to this window's store, if the window has one for the topic. */
  applied: string | null
  /** Newest revision announced by the stream or a listing. */
  latest: string | null
  /** `sourceId` of the last write heard of; null when unknown or the write carried none. */
  writer: string | null
  /** Commit time of that write, in ms since the epoch. */
  writtenAt: number | null
  scope: string | null
  /** Message of the last failed sync. */
  error: string | null
}

const blank = (): TopicStatus => ({
  applied: null,
  latest: null,
  writer: null,
  writtenAt: null,
  scope: null,
  error: null,
})

/** Connection state, this window's id and role, and per-topic revisions and writers. */
export const useSyncStatusStore = defineStore('syncStatus', () => {
  const state = ref<ConnectionState>('connecting')
  const role = ref<StreamRole>('standalone')
  const sourceId = ref('')
  const topics = ref<Record<string, TopicStatus>>({})

  function entry(topic: string): TopicStatus {
    return (topics.value[topic] ??= blank())
  }

  function heard(event: InvalidationEvent): void {
    const t = entry(event.topic)
    t.latest = event.revision
    t.writer = event.sourceId ?? null
    t.writtenAt = event.timestampMs ?? null
  }

  /** Follows a client's connection, invalidations and writes. Returns a function that stops. */
  function attach<T extends TopicMap>(client: PinionClient<T>): () => void {
    sourceId.value = client.sourceId
    state.value = client.state
    role.value = client.role
    const offs = [
      client.onStateChange((s) => (state.value = s)),
      client.onRoleChange((r) => (role.value = r)),
      client.onInvalidation(heard),
      client.onWrite((w) => {
        if (!w.snapshot) return
        const t = entry(w.topic)
        t.latest = w.snapshot.revision
        t.writer = client.sourceId
        t.writtenAt = Date.now()
      }),
    ]
    return () => offs.forEach((off) => off())
  }

  function applied(topic: string, revision: string): void {
    const t = entry(topic)
    t.applied = revision
    t.error = null
    if (t.latest === null || BigInt(revision) > BigInt(t.latest)) t.latest = revision
  }

  function failed(topic: string, error: unknown): void {
    entry(topic).error = error instanceof Error ? error.message : String(error)
  }

  function listed(list: TopicInfo[]): void {
    for (const info of list) {
      const t = entry(info.topic)
      t.scope = info.scope
      if (t.latest === null || BigInt(info.revision) > BigInt(t.latest)) t.latest = info.revision
    }
  }

  const isLive = computed(() => state.value === 'live')

  return { state, role, sourceId, topics, isLive, entry, attach, applied, failed, listed }
})
