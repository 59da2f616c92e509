/**
 * Locating SIP servers (RFC 3263 §4): for `user@domain` without a port, NAPTR picks the transport (SIP+D2U → UDP,
 * SIP+D2T → TCP), SRV gives the servers in priority order (weighted within a priority, RFC 2782), A records their
 * addresses. Without NAPTR, SRV for `_sip._udp` then `_sip._tcp`; without SRV, the domain's A record on 5060. An IP
 * address or an explicit port skips NAPTR and SRV. The caller tries the targets in order (see `OutgoingSipCall`).
 */
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Endpoint, Transport } from './stack.js';

export interface LocateOptions {
  /** DNS servers (`ip` or `ip:port`) instead of the system's; also used for A records then. */
  dnsServers?: string[];
  /** Per-query timeout (ms). Default 2000. */
  timeout?: number;
}

export interface SipTarget { host: string; port?: number; transport?: Transport }

const SERVICES: Record<string, Transport> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp' };

interface Srv { name: string; port: number; priority: number; weight: number }

/** RFC 2782 order: by priority, and within one priority a weighted random draw. */
export function orderSrv(records: Srv[], random = Math.random): Srv[] {
  const out: Srv[] = [];
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  for (const p of priorities) {
    // Zero-weight records first, so they get a (small) chance as RFC 2782 describes.
    const left = records.filter((r) => r.priority === p).sort((a, b) => a.weight - b.weight);
    while (left.length) {
      const total = left.reduce((sum, r) => sum + r.weight, 0);
      const pick = random() * (total + 1);
      let run = 0;
      let i = left.findIndex((r) => (run += r.weight) >= pick);
      if (i < 0) i = left.length - 1;
      out.push(left.splice(i, 1)[0]);
    }
  }
  return out;
}

export class SipLocator {
  private readonly resolver: Resolver;

  constructor(private readonly options: LocateOptions = {}) {
    this.resolver = new Resolver({ timeout: options.timeout ?? 2000, tries: 2 });
    if (options.dnsServers?.length) this.resolver.setServers(options.dnsServers);
  }

  /** The targets to try in order; throws when the domain has no usable record at all. */
  async locate(target: SipTarget): Promise<Endpoint[]> {
    const { host, port, transport } = target;
    const withTransport = (e: Endpoint): Endpoint => (transport ? { ...e, transport } : e);
    if (isIP(host)) return [withTransport({ host, port: port ?? 5060 })];
    if (port !== undefined) return (await this.addresses(host)).map((a) => withTransport({ host: a, port }));
    let services: Array<{ name: string; transport: Transport }> = [];
    if (transport) services = [{ name: `_sip._${transport}.${host}`, transport }];
    else {
      const naptr = (await this.query(() => this.resolver.resolveNaptr(host)))
        .filter((r) => r.flags.toLowerCase() === 's' && SERVICES[r.service.toUpperCase()] && r.replacement)
        .sort((a, b) => a.order - b.order || a.preference - b.preference);
      services = naptr.map((r) => ({ name: r.replacement, transport: SERVICES[r.service.toUpperCase()] }));
      if (!services.length) services = [{ name: `_sip._udp.${host}`, transport: 'udp' }, { name: `_sip._tcp.${host}`, transport: 'tcp' }];
    }
    const out: Endpoint[] = [];
    for (const s of services) {
      const srv = orderSrv((await this.query(() => this.resolver.resolveSrv(s.name))).filter((r) => r.name && r.name !== '.'));
      for (const r of srv) for (const a of await this.addresses(r.name)) out.push({ host: a, port: r.port, transport: s.transport });
    }
    if (out.length) return out;
    const fallback = (await this.addresses(host)).map((a) => withTransport({ host: a, port: 5060 }));
    if (!fallback.length) throw new Error(`no DNS record for ${host}`);
    return fallback;
  }

  private async addresses(name: string): Promise<string[]> {
    if (isIP(name)) return [name];
    if (this.options.dnsServers?.length) return this.query(() => this.resolver.resolve4(name));
    try {
      return [(await lookup(name, { family: 4 })).address];
    } catch {
      return [];
    }
  }

  /** No such record (or the server failed to answer) is an empty list: the next step of RFC 3263 takes over. */
  private async query<T>(fn: () => Promise<T[]>): Promise<T[]> {
    try {
      return await fn();
    } catch {
      return [];
    }
  }
}
