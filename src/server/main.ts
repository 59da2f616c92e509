/** `npm start`: the calling server and the demo on http://localhost:9000 (PORT and HOST override). */
import { startCallingServer } from './calling-server.js';

const port = Number(process.env.PORT ?? 9000);
const host = process.env.HOST ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a number from 0 to 65535 (got "${process.env.PORT}").`);
  process.exit(1);
}

const server = await startCallingServer({ port, host });
const shown = host === '127.0.0.1' ? `http://localhost:${server.port}` : server.url;
console.log(`calling-elements server: ${shown}  (signalling on /peerjs, demo at /)`);
console.log('Open the demo in two tabs with different user ids and call one from the other.');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
