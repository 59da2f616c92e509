// A TURN Allocate over UDP with long-term credentials (RFC 5766 / 8656), to ask coturn itself whether it accepts a
// username and credential: resolves 'allocated', or the error code coturn answered with (401: refused credentials);
// then, optionally, CreatePermission for peer addresses, to ask which peers it would relay to (403: forbidden IP).
import { createHash, createHmac, randomFillSync } from 'node:crypto';
import { createSocket } from 'node:dgram';

const COOKIE = 0x2112a442;

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function message(type: number, attrs: Buffer[], key?: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(COOKIE, 4);
  randomFillSync(header, 8, 12);
  let body = Buffer.concat(attrs);
  if (key) {
    header.writeUInt16BE(body.length + 24, 2); // the length as it will be with MESSAGE-INTEGRITY
    const mac = createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, attr(0x0008, mac)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function parse(m: Buffer): { type: number; attrs: Map<number, Buffer> } {
  const attrs = new Map<number, Buffer>();
  for (let i = 20; i + 4 <= m.length;) {
    const t = m.readUInt16BE(i);
    const len = m.readUInt16BE(i + 2);
    attrs.set(t, m.subarray(i + 4, i + 4 + len));
    i += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type: m.readUInt16BE(0), attrs };
}

/** XOR-PEER-ADDRESS for an IPv4 address (port 9: permissions are per address only). */
function xorPeer(ip: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(0x01, 1);
  b.writeUInt16BE(9 ^ (COOKIE >>> 16), 2);
  b.writeUInt32BE((ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) ^ COOKIE) >>> 0, 4);
  return attr(0x0012, b);
}

function errorCode(answer: ReturnType<typeof parse>): number {
  const err = answer.attrs.get(0x0009);
  return err ? err[2]! * 100 + err[3]! : -1;
}

export function turnAllocate(host: string, port: number, username: string, credential: string, ms = 5000): Promise<'allocated' | number> {
  return turnSession(host, port, username, credential, [], ms).then((r) => r.allocation);
}

/** Allocates, then asks for a permission to each of `peers` (IPv4): 'ok' or coturn's error code for each. */
export async function turnPermissions(host: string, port: number, username: string, credential: string, peers: string[], ms = 5000): Promise<Record<string, 'ok' | number>> {
  const { allocation, permissions } = await turnSession(host, port, username, credential, peers, ms);
  if (allocation !== 'allocated') throw new Error(`coturn refused the allocation: ${allocation}`);
  return permissions;
}

async function turnSession(host: string, port: number, username: string, credential: string, peers: string[], ms: number): Promise<{ allocation: 'allocated' | number; permissions: Record<string, 'ok' | number> }> {
  const socket = createSocket('udp4');
  const exchange = (req: Buffer) => new Promise<ReturnType<typeof parse>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no TURN answer from ${host}:${port}`)), ms);
    const retry = setInterval(() => socket.send(req, port, host), 300);
    socket.once('message', (m) => { clearTimeout(timer); clearInterval(retry); resolve(parse(m)); });
    socket.send(req, port, host);
  });
  const transport = Buffer.from([17, 0, 0, 0]); // REQUESTED-TRANSPORT: UDP
  const permissions: Record<string, 'ok' | number> = {};
  try {
    const challenge = await exchange(message(0x0003, [attr(0x0019, transport)]));
    const realm = challenge.attrs.get(0x0014);
    const nonce = challenge.attrs.get(0x0015);
    if (!realm || !nonce) throw new Error('coturn sent no realm / nonce');
    const key = createHash('md5').update(`${username}:${realm.toString()}:${credential}`).digest();
    const auth = [attr(0x0006, Buffer.from(username)), attr(0x0014, realm), attr(0x0015, nonce)];
    const answer = await exchange(message(0x0003, [attr(0x0019, transport), ...auth], key));
    if (answer.type !== 0x0103) return { allocation: errorCode(answer), permissions };
    for (const peer of peers) {
      const reply = await exchange(message(0x0008, [xorPeer(peer), ...auth], key));
      permissions[peer] = reply.type === 0x0108 ? 'ok' : errorCode(reply);
    }
    return { allocation: 'allocated', permissions };
  } finally {
    socket.close();
  }
}
