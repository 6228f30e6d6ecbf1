import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: {
      '@pinion/client': fileURLToPath(new URL('./client/src', import.meta.url)),
      '@': fileURLToPath(new URL('./demo/src', import.meta.url)),
    },
  },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'client', include: ['client/src/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: { name: 'demo', include: ['demo/src/**/*.test.ts'], environment: 'happy-dom' },
      },
      {
        // npm pack → a fresh app installed offline → type-check, build, SSR.
        extends: true,
        test: {
          name: 'package',
          include: ['client/package-test/*.test.ts'],
          environment: 'node',
          testTimeout: 240_000,
          hookTimeout: 360_000,
        },
      },
    ],
  },
})
