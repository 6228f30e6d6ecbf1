import { PreconditionFailedError, ProblemError, ValidationError, type FieldError } from '@pinion/client'
import { nextTick, ref } from 'vue'

/**
 * Runs a form's write and turns its failure into what the form shows: the
 * server's per-field messages (from a 422) next to each field, and one
 * form-level message for the rest.
 */
export function useFormErrors(formSelector?: string) {
  const errors = ref<FieldError[]>([])
  const formError = ref<string | null>(null)
  /** Set by a 412: the revision that beat ours. */
  const conflictRevision = ref<string | null>(null)
  const busy = ref(false)

  function clear(): void {
    errors.value = []
    formError.value = null
    conflictRevision.value = null
  }

  /** The first message for a field: at `/<name>` or below it (`/favorites/3`), or named `<name>`. */
  function fieldError(name: string): string | undefined {
    const pointer = `/${name}`
    return (
      errors.value.find((e) => e.pointer === pointer)?.message ??
      errors.value.find((e) => e.pointer.startsWith(pointer + '/'))?.message ??
      errors.value.find((e) => e.field === name)?.message
    )
  }

  /** Runs `write`; resolves to its result, or to undefined when it failed (and the errors are set). */
  async function submit<T>(write: () => Promise<T>): Promise<T | undefined> {
    clear()
    busy.value = true
    try {
      return await write()
    } catch (error) {
      if (error instanceof ValidationError) {
        errors.value = error.errors
        if (formSelector) {
          // Keyboard and screen-reader users land on the first field to fix.
          void nextTick(() =>
            document.querySelector<HTMLElement>(`${formSelector} [aria-invalid="true"]`)?.focus(),
          )
        }
        const whole = error.errors.find((e) => e.pointer === '')
        if (whole || error.errors.length === 0) formError.value = whole?.message ?? error.detail
      } else if (error instanceof PreconditionFailedError) {
        conflictRevision.value = error.currentRevision
        formError.value = 'Someone saved a newer version first. Review the values and save again to overwrite it.'
      } else if (error instanceof ProblemError) {
        formError.value = error.detail || error.title
      } else {
        formError.value = `Could not reach the server (${error instanceof Error ? error.message : String(error)}).`
      }
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { errors, formError, conflictRevision, busy, clear, fieldError, submit }
}
