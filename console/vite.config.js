// The console is served under /console/ by the local runtime (and later by S3 + CloudFront), on the
// API's own origin: every asset is bundled, nothing is fetched from a CDN at run time.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: true,
  },
});
