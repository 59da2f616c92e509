/**
 * Who may send the gateway INVITEs. A SIP port open to the internet gets INVITEs from anyone; a fresh install must not
 * ring app users (or be an open relay for caller-id spoofing) for them. Only sources on the trusted list get through
 * (default: the trunk's and the outbound proxy's addresses, and 127.0.0.1), each at most `perMinute` INVITEs a minute.
 */
import { BlockList, isIP } from 'node:net';

export type InboundVerdict = 'ok' | 'untrusted' | 'rate-limited';

/** Parses `SIP_TRUSTED_SOURCES`-style lists: addresses and CIDRs (IPv4 or IPv6), comma-separated. Throws on a bad entry. */
export function trustedSourceList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    if (!family) throw new Error(`SIP_TRUSTED_SOURCES: "${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) {
      list.addAddress(address!, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d{1,3}$/.test(bits) || prefix > (family === 6 ? 128 : 32)) throw new Error(`SIP_TRUSTED_SOURCES: "${entry}" has a bad prefix length`);
    list.addSubnet(address!, prefix, type);
  }
  return list;
}

export class InboundGuard {
  private readonly recent = new Map<string, number[]>();
  private readonly logged = new Map<string, number>();

  constructor(private readonly trusted: BlockList, private readonly perMinute: number) {}

  /** Counts an INVITE from `address` and says whether to take it. */
  check(address: string, now = Date.now()): InboundVerdict {
    const family = isIP(address);
    const plain = address.replace(/^::ffff:/, '');
    const trusted = family === 6 && plain !== address ? this.trusted.check(plain, 'ipv4') : family ? this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4') : false;
    if (!trusted) return 'untrusted';
    const times = (this.recent.get(plain) ?? []).filter((t) => now - t < 60_000);
    if (times.length >= this.perMinute) {
      this.recent.set(plain, times);
      return 'rate-limited';
    }
    times.push(now);
    this.recent.set(plain, times);
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value!);
    return 'ok';
  }

  /** True once a minute per source and verdict: a flood is logged, not written out line by line. */
  shouldLog(address: string, verdict: InboundVerdict, now = Date.now()): boolean {
    const key = `${verdict} ${address}`;
    const last = this.logged.get(key);
    if (last !== undefined && now - last < 60_000) return false;
    this.logged.set(key, now);
    if (this.logged.size > 10_000) this.logged.delete(this.logged.keys().next().value!);
    return true;
  }
}
