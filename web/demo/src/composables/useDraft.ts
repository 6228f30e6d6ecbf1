import { computed, reactive, ref, watch, type Ref, type UnwrapRef } from 'vue'

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

/** Deep equality of JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/**
 * An editable copy of a synced document for a form. While the form holds no
 * unsaved edit, the copy follows the document as other windows change it;
 * once edited, it stays, and `changedElsewhere` says the document moved on.
 */
export function useDraft<T extends object>(read: () => T, revision: () => string | null) {
  const baseDoc = ref(clone(read())) as Ref<T>
  const baseRevision = ref<string | null>(revision())
  const draft = reactive(clone(read())) as UnwrapRef<T> & T

  const dirty = computed(() => !sameJson(draft, baseDoc.value))
  const changedElsewhere = computed(() => {
    const current = revision()
    return dirty.value && current !== null && current !== baseRevision.value
  })

  /** Starts over from the document as it is now. */
  function rebase(): void {
    const doc = clone(read())
    baseDoc.value = doc
    baseRevision.value = revision()
    Object.assign(draft, clone(doc))
  }

  /** Records a successful save: its snapshot is the new base. */
  function saved(snapshot: { revision: string; data: T }): void {
    baseDoc.value = clone(snapshot.data)
    baseRevision.value = snapshot.revision
    Object.assign(draft, clone(snapshot.data))
  }

  /** The members of the draft that differ from the base: a merge patch of the edit. */
  function changes(): Partial<T> {
    const out: Partial<T> = {}
    for (const key of Object.keys(draft) as (keyof T)[]) {
      if (!sameJson(draft[key], baseDoc.value[key])) out[key] = clone(draft[key])
    }
    return out
  }

  watch(revision, () => {
    if (!dirty.value) rebase()
  })

  return { draft, dirty, changedElsewhere, baseRevision, rebase, saved, changes }
}
