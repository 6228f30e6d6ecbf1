/** Returns the source hash of the web/ directory `root` (see source-hash.mjs). */
export function sourceHash(root: string): string
