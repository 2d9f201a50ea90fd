/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// In `npm run dev`, API calls and the SSE stream go to a running dev bridge
// (`tsunagu-devserver --listen 127.0.0.1:34115 ...`). Override with
// TSUNAGU_BRIDGE=http://127.0.0.1:PORT.
const bridge = process.env.TSUNAGU_BRIDGE ?? 'http://127.0.0.1:34115'

export default defineConfig({
  plugins: [vue()],
  define: {
    // vue-i18n feature flags (composition API only, no devtools in production).
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  // Relative asset URLs: the same dist/ is served by Wails (embedded) and by
  // the dev bridge's --static handler.
  base: './',
  build: {
    outDir: 'dist',
    // vite empties dist/ on every build; scripts/postbuild.mjs re-creates the
    // committed dist/.gitkeep afterwards.
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': { target: bridge, changeOrigin: false },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.test.ts'],
    // Speed targets live in benchmarks, not in unit tests: vitest's 5 s
    // default failed mounting whole screens on a loaded 2-core CI machine.
    testTimeout: 30_000,
  },
})
