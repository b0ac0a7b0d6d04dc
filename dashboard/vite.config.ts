import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

const backend = "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    port: 5173,
    proxy: {
      "/api": { target: backend, ws: true, changeOrigin: false },
      "/health": backend,
    },
  },
  // Preview serves the build for the mocked browser tests: no backend behind it.
  preview: { port: 4173, strictPort: true, proxy: {} },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 1200 },
});
