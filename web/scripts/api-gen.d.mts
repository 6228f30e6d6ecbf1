/** The path of openapi.yaml and of the generated demo/src/api/topics.gen.ts (see api-gen.mjs). */
export const specPath: string
export const outPath: string
/** The TypeScript source api-gen.mjs generates from the text of an OpenAPI document. */
export function generate(specText: string): string
