/**
 * The packaging test: `npm pack` the client, install the tarball into a fresh
 * Vite + Vue + Pinia app with one offline `npm install`, then type-check and
 * build that app and render it in plain Node (SSR). The app's other packages
 * come from the npm cache that `npm ci` in web/ filled (its lockfile is
 * reused), so this runs without a network.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const clientDir = resolve(here, '..')
const webDir = resolve(clientDir, '..')
const minutes = 60_000

let work = ''
let app = ''
let installed = ''

async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, maxBuffer: 64 << 20 })
    return stdout
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

function version(pkg: string): string {
  return JSON.parse(readFileSync(join(webDir, 'node_modules', pkg, 'package.json'), 'utf8')).version
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pinion-pack-'))
  const packed = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', work], clientDir)) as { filename: string }[]
  const tarball = packed[0]!.filename
  app = join(work, 'app')
  cpSync(join(here, 'app'), app, { recursive: true })
  const manifest = {
    name: 'fresh-app',
    private: true,
    type: 'module',
    dependencies: {
      '@pinion/client': `file:../${tarball}`,
      vue: version('vue'),
      pinia: version('pinia'),
      '@vue/devtools-api': version('@vue/devtools-api'),
    },
    devDependencies: {
      vite: version('vite'),
      '@vitejs/plugin-vue': version('@vitejs/plugin-vue'),
      typescript: version('typescript'),
      'vue-tsc': version('vue-tsc'),
    },
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2))
  // The web project's lockfile pins every version the app needs, so npm
  // takes them from its cache and never asks the registry.
  cpSync(join(webDir, 'package-lock.json'), join(app, 'package-lock.json'))
  await sh('npm', ['install', '--offline', '--no-audit', '--no-fund'], app)
  installed = join(app, 'node_modules', '@pinion', 'client')
}, 6 * minutes)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('the packed @pinion/client', () => {
  test('has built ESM, declarations and source maps behind every export', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    expect(pkg.private).toBeUndefined()
    expect(pkg.sideEffects).toBe(false)
    // Every peer is optional: the root entry needs none of them.
    expect(pkg.peerDependenciesMeta).toEqual({
      pinia: { optional: true },
      vue: { optional: true },
      '@vue/devtools-api': { optional: true },
      '@pinia/colada': { optional: true },
      '@tanstack/vue-query': { optional: true },
    })
    expect(Object.keys(pkg.peerDependenciesMeta).sort()).toEqual(Object.keys(pkg.peerDependencies).sort())
    expect(pkg.dependencies ?? {}).toEqual({})
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './transport', './pinia', './vue', './tanstack', './colada', './devtools']))
    for (const [entry, target] of Object.entries(pkg.exports as Record<string, unknown>)) {
      if (typeof target === 'string') continue
      const { types, import: js } = target as { types: string; import: string }
      expect(existsSync(join(installed, js)), `${entry} → ${js}`).toBe(true)
      expect(existsSync(join(installed, types)), `${entry} → ${types}`).toBe(true)
      expect(existsSync(join(installed, js + '.map')), `${js}.map`).toBe(true)
      expect(existsSync(join(installed, types + '.map')), `${types}.map`).toBe(true)
    }
    expect(existsSync(join(installed, 'README.md'))).toBe(true)
    expect(readdirSync(join(installed, 'src')).some((f) => f.endsWith('.test.ts'))).toBe(false)
  })

  test('its root entry imports nothing from Vue or Pinia, in code or in types', () => {
    for (const start of ['index.js', 'index.d.ts']) {
      const seen = new Set<string>()
      const bare = new Set<string>()
      const walk = (file: string) => {
        if (seen.has(file)) return
        seen.add(file)
        const text = readFileSync(join(installed, 'dist', file), 'utf8')
        for (const m of text.matchAll(/(?:from\s+|import\s*\(?\s*|declare module\s+)['"]([^'"]+)['"]/g)) {
          const spec = m[1]!
          if (spec.startsWith('.')) walk(join(dirname(file), start.endsWith('.d.ts') ? spec.replace(/\.js$/, '.d.ts') : spec))
          else bare.add(spec)
        }
      }
      walk(start)
      expect([...bare], start).toEqual([])
      expect(seen.size, start).toBeGreaterThan(3)
    }
  })

  test('a fresh Vite + Vue + Pinia app type-checks against it', async () => {
    await sh(join(app, 'node_modules', '.bin', 'vue-tsc'), ['--noEmit', '-p', 'tsconfig.json'], app)
  }, 4 * minutes)

  test('the app builds with Vite', async () => {
    await sh(join(app, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], app)
    const assets = readdirSync(join(app, 'dist', 'assets')).filter((f) => f.endsWith('.js'))
    expect(assets.length).toBeGreaterThan(0)
    const bundle = assets.map((f) => readFileSync(join(app, 'dist', 'assets', f), 'utf8')).join('\n')
    expect(bundle).toContain('/api/topics/')
  }, 4 * minutes)

  test('Node imports it and renders a synced store on the server without connecting', async () => {
    const out = JSON.parse(await sh(process.execPath, ['ssr.mjs'], app)) as { html: string; requests: number; state: string }
    expect(out.html).toContain('n=1')
    expect(out.html).toContain('status=idle')
    expect(out.requests).toBe(0)
  }, 2 * minutes)
})
