// The smallest STUN exchange: a Binding request, to know that a TURN server answers (startup, /healthz).
import { randomFillSync } from 'node:crypto';
import { createSocket } from 'node:dgram';

/** Resolves true once a STUN server answers a Binding request on `host`:`port` over UDP, false after `ms`. */
export function stunAnswers(host: string, port: number, ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt32BE(0x2112a442, 4);
    randomFillSync(request, 8, 12);
    const done = (ok: boolean) => {
      clearInterval(timer);
      clearTimeout(deadline);
      socket.close();
      resolve(ok);
    };
    socket.on('message', (m) => { if (m.length >= 20 && m.subarray(8, 20).equals(request.subarray(8, 20))) done(true); });
    socket.on('error', () => undefined); // port unreachable while it is not listening yet
    const send = () => socket.send(request, port, host);
    const timer = setInterval(send, 100);
    const deadline = setTimeout(() => done(false), ms);
    send();
  });
}
