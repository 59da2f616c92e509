// Module aliases shared by every browser bundle we make (dist, tests, bench): they keep PeerJS's and Howler's
// unused parts out of the bundle. See src/vendor/webrtc-adapter-lite.ts.
import { fileURLToPath } from 'node:url';

export const browserAliases = {
  'webrtc-adapter': fileURLToPath(new URL('../src/vendor/webrtc-adapter-lite.ts', import.meta.url)),
  // PeerJS's `binary` serialization; all our DataConnections are `raw` (see the stand-in).
  'peerjs-js-binarypack': fileURLToPath(new URL('../src/vendor/binarypack-lite.ts', import.meta.url)),
  // The npm main of howler includes the spatial-audio plugin; the core is all we use.
  howler: fileURLToPath(new URL('../node_modules/howler/src/howler.core.js', import.meta.url)),
};

/**
 * esbuild plugin: two one-word fixes to PeerJS 1.5.5's negotiator. A data channel or track that arrives after its
 * connection was closed (a call hung up while it was being set up) makes `provider.getConnection()` return null, and
 * PeerJS then throws an uncaught TypeError in the page. The patch fails the build if PeerJS changes under it.
 */
export const peerjsFixPlugin = {
  name: 'peerjs-fix',
  setup(b) {
    b.onLoad({ filter: /peerjs[\\/]dist[\\/]bundler\.mjs$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      let code = await readFile(args.path, 'utf8');
      const fixes = [
        ['connection._initializeDataChannel(dataChannel);\n        };', 'connection?._initializeDataChannel(dataChannel);\n        };'],
        ['if (connection.type === (0, $78455e22dea96b8c$export$3157d57b4135e3bc).Media) {', 'if (connection?.type === (0, $78455e22dea96b8c$export$3157d57b4135e3bc).Media) {'],
      ];
      for (const [from, to] of fixes) {
        if (!code.includes(from)) throw new Error(`peerjs-fix: PeerJS changed, patch no longer applies: ${from}`);
        code = code.replace(from, to);
      }
      return { contents: code, loader: 'js' };
    });
  },
};
