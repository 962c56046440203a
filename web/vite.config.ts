import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * Builds the web chat into `web/dist` (served by the API at `/`, its hashed files under
 * `/assets/`). `vite web` serves it for development, sending API calls to a local orchestrator.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: { "/api": { target: process.env.ORCHESTRATOR_API_URL ?? "http://127.0.0.1:8080" } },
  },
});
