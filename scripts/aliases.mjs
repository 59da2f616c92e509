// Module aliases shared by every browser bundle we make (dist, tests, bench): they keep PeerJS's and Howler's
// unused parts out of the bundle. See src/vendor/webrtc-adapter-lite.ts.
import { fileURLToPath } from 'node:url';

export const browserAliases = {
  'webrtc-adapter': fileURLToPath(new URL('../src/vendor/webrtc-adapter-lite.ts', import.meta.url)),
  // The npm main of howler includes the spatial-audio plugin; the core is all we use.
  howler: fileURLToPath(new URL('../node_modules/howler/src/howler.core.js', import.meta.url)),
};
