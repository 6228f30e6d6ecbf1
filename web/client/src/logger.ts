/**
 * The logger every part of the client traces its decisions to. Its shape is
 * `@statesync/core`'s `Logger`, so one object (for example that library's
 * `createConsoleLogger({ debug: true })`) serves both.
 */
export interface Logger {
  debug(msg: string, extra?: unknown): void
  warn(msg: string, extra?: unknown): void
  error(msg: string, extra?: unknown): void
}

/** Drops everything. */
export const noopLogger: Logger = {
  debug() {},
  warn() {},
  error() {},
}

export interface ConsoleLoggerOptions {
  /** Put before every line. Default `[pinion]`. */
  prefix?: string
  /** Emit `debug` lines too (every decision). Default false. */
  debug?: boolean
}

/** A logger on `console`; `debug` lines only when asked for. */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const prefix = options.prefix ?? '[pinion]'
  const verbose = options.debug ?? false
  const line = (msg: string, extra: unknown) => (extra === undefined ? [prefix, msg] : [prefix, msg, extra])
  return {
    debug: (msg, extra) => {
      if (verbose) console.debug(...line(msg, extra))
    },
    warn: (msg, extra) => console.warn(...line(msg, extra)),
    error: (msg, extra) => console.error(...line(msg, extra)),
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]'
}

/** Adds fixed fields (a window id, a topic) to the `extra` of every line. */
export function tagLogger(base: Logger, tags: Record<string, unknown>): Logger {
  const merge = (extra: unknown) =>
    extra === undefined ? { ...tags } : isPlainObject(extra) ? { ...tags, ...extra } : { ...tags, extra }
  return {
    debug: (msg, extra) => base.debug(msg, merge(extra)),
    warn: (msg, extra) => base.warn(msg, merge(extra)),
    error: (msg, extra) => base.error(msg, merge(extra)),
  }
}
