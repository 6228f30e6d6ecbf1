import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'
import { sourceHash } from './scripts/source-hash.mjs'

const web = fileURLToPath(new URL('.', import.meta.url))

/** Writes dist/build-stamp.json, which `go test ./web` compares with the sources. */
function buildStamp(): Plugin {
  return {
    name: 'pinion-build-stamp',
    apply: 'build',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'build-stamp.json',
        source: JSON.stringify({ sourceHash: sourceHash(web) }, null, 2) + '\n',
      })
    },
  }
}

// The demo app lives in demo/ and builds into dist/, which the Go binary embeds
// and serves at / with the API on the same origin.
export default defineConfig({
  root: fileURLToPath(new URL('./demo', import.meta.url)),
  base: '/',
  plugins: [vue(), buildStamp()],
  resolve: {
    alias: {
      '@pinion/client': fileURLToPath(new URL('./client/src', import.meta.url)),
      '@': fileURLToPath(new URL('./demo/src', import.meta.url)),
    },
  },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
  },
  server: {
    // For `npm run dev` only: Vite's proxy has SSE problems (vitejs/vite#12157),
    // so the real path is the built app served by `go run ./cmd/pinion`.
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080' },
    },
  },
})
