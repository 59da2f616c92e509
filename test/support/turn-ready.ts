// Readiness of a TURN relay (coturn) started by the browser tests or the benchmarks.
import { randomFillSync } from 'node:crypto';
import { createSocket } from 'node:dgram';

/** Resolves once a STUN server answers a Binding request on 127.0.0.1:`port` (a loaded machine starts coturn slowly). */
export function turnReady(port: number, ms = 5000): Promise<void> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(0x2112a442, 4);
    randomFillSync(request, 8, 12);
    const done = () => {
      clearInterval(timer);
      clearTimeout(deadline);
      socket.close();
      resolve();
    };
    socket.on('message', done);
    socket.on('error', () => undefined); // ICMP port unreachable while it is not listening yet
    const timer = setInterval(() => socket.send(request, port, '127.0.0.1'), 50);
    const deadline = setTimeout(done, ms);
  });
}
