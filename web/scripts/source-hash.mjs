// The fingerprint of every source the build of web/dist depends on. The build
// writes it to dist/build-stamp.json; web/embed_test.go recomputes it in Go
// (keep the two in step) so `go test ./web` fails when dist is stale.
//
// Files: package.json, package-lock.json, vite.config.ts, tsconfig.json and
// everything under client/src/ and demo/, except *.test.ts files and anything
// in a directory named testing (test helpers). Hash: for each file in byte order of its slash path,
// the line "<sha256 hex of content>  <path>\n"; then the sha256 hex of all lines.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

const files = ['package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json']
const trees = ['client/src', 'demo']

function excluded(path) {
  return path.endsWith('.test.ts') || path.split('/').includes('testing')
}

function walk(root, dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) walk(root, full, out)
    else if (entry.isFile()) {
      const path = relative(root, full).split(sep).join('/')
      if (!excluded(path)) out.push(path)
    }
  }
}

/** Returns the source hash of the web/ directory `root`. */
export function sourceHash(root) {
  const paths = [...files]
  for (const tree of trees) walk(root, join(root, tree), paths)
  paths.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))))
  let lines = ''
  for (const path of paths) {
    const digest = createHash('sha256').update(readFileSync(join(root, path))).digest('hex')
    lines += `${digest}  ${path}\n`
  }
  return createHash('sha256').update(lines).digest('hex')
}
