/**
 * Gateway configuration from environment variables (documented in the README, "Phone and SIP calls").
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `GATEWAY` | `on` | `off`: no gateway (phone and SIP calls end as unavailable) |
 * | `SIP_HOST` | `127.0.0.1` | UDP address SIP and RTP bind to (`0.0.0.0` for other machines) |
 * | `SIP_PORT` | `5060` | SIP UDP port (`0`: any) |
 * | `SIP_PUBLIC_HOST` | `SIP_HOST` | the address written into Via/Contact/SDP (needed with `0.0.0.0`) |
 * | `RTP_PORT_MIN` / `RTP_PORT_MAX` | any free port | RTP port range (even ports) |
 * | `SIP_OUTBOUND_PROXY` | none | `host[:port][;transport=tcp]`: every SIP request goes there |
 * | `SIP_USERNAME` / `SIP_PASSWORD` | none | digest credentials for SIP calls (401/407) |
 * | `SIP_TRUNK` | none | `host[:port][;transport=tcp]` of the PSTN trunk: numbers go to `sip:+number@trunk;user=phone` |
 * | `SIP_TRUNK_DOMAIN` | the trunk host | domain in the trunk Request-URI |
 * | `SIP_TRUNK_USERNAME` / `SIP_TRUNK_PASSWORD` | none | the trunk's digest credentials |
 * | `SIP_RING_TIMEOUT` | `60` | seconds an unanswered call rings before CANCEL (`noAnswer`) |
 * | `SIP_DNS_SERVERS` | the system's | comma-separated `ip[:port]` DNS servers for SIP NAPTR/SRV/A lookups |
 * | `SIP_RTP_TIMEOUT` | `30` | seconds without RTP from an answered call's far end before it ends as `failure` (`0`: off) |
 * | `SIP_ALLOWED_PREFIXES` | all | comma-separated E.164 prefixes phone calls may go to, e.g. `+46,+47` |
 * | `SIP_CALLS_PER_MINUTE` | `10` | calls per user per minute (toll-fraud guard) |
 * | `SIP_TRUSTED_SOURCES` | trunk + proxy + 127.0.0.1 | comma-separated addresses/CIDRs incoming INVITEs may come from (others: 403) |
 * | `SIP_BLOCK_NUMBER_TYPES` | `PREMIUM_RATE` | number types refused before dialing (libphonenumber-js names, comma-separated; `none`) |
 * | `SIP_INVITES_PER_MINUTE` | `60` | incoming INVITEs per source address per minute (more: 503) |
 * | `GATEWAY_BROWSER_CODEC` | `pcmu` | codec of the browser ↔ gateway leg: `pcmu` (G.711, no Opus or resampling on the gateway) or `opus` |
 * | `GATEWAY_HELPER_THREADS` | batch | `keep`: leave WebRTC's thread scheduling (read by `launcher.ts` and `gateway.ts`) |
 *
 * Tests also set `GATEWAY_LOOPBACK_ONLY=1` (read by `process.ts`): the WebRTC leg announces 127.0.0.1 candidates only.
 */
import type { GatewayOptions } from './gateway.js';
import type { Endpoint } from './sip/stack.js';
import { trustedSourceList } from './inbound-guard.js';
import { blockedNumberTypes } from '../phone-numbers.js';

export type GatewayEnvConfig = Omit<GatewayOptions, 'server' | 'token' | 'mayPlaceCall' | 'onCallRecord' | 'log'>;

function hostPort(value: string, name: string): Endpoint {
  const m = /^(\[[^\]]+\]|[^:;]+)(?::(\d{1,5}))?(?:;transport=(udp|tcp))?$/i.exec(value.trim());
  if (!m) throw new Error(`${name} must be host[:port][;transport=tcp] (got "${value}")`);
  const port = m[2] ? Number(m[2]) : 5060;
  if (port < 1 || port > 65535) throw new Error(`${name}: port out of range`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port, ...(m[3] ? { transport: m[3].toLowerCase() as 'udp' | 'tcp' } : {}) };
}

function int(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${value}")`);
  return n;
}

/** Reads the gateway's configuration; throws a readable error for bad values. */
export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnvConfig {
  const sipHost = env.SIP_HOST || '127.0.0.1';
  const cfg: GatewayEnvConfig = {
    sipHost,
    sipPort: int(env.SIP_PORT, 'SIP_PORT', 5060, 0, 65535),
    ringTimeout: int(env.SIP_RING_TIMEOUT, 'SIP_RING_TIMEOUT', 60, 1, 3600) * 1000,
    maxCallsPerMinute: int(env.SIP_CALLS_PER_MINUTE, 'SIP_CALLS_PER_MINUTE', 10, 1, 100_000),
    invitesPerMinute: int(env.SIP_INVITES_PER_MINUTE, 'SIP_INVITES_PER_MINUTE', 60, 1, 100_000),
    blockedNumberTypes: blockedNumberTypes(env.SIP_BLOCK_NUMBER_TYPES),
  };
  if (env.SIP_DNS_SERVERS) {
    const servers = env.SIP_DNS_SERVERS.split(',').map((v) => v.trim()).filter(Boolean);
    for (const v of servers) if (!/^[\d.]+(?::\d{1,5})?$|^\[[\da-f:]+\](?::\d{1,5})?$|^[\da-f:]+$/i.test(v)) throw new Error(`SIP_DNS_SERVERS: "${v}" is not an ip[:port]`);
    cfg.dnsServers = servers;
  }
  if (env.SIP_RTP_TIMEOUT) cfg.rtpTimeout = int(env.SIP_RTP_TIMEOUT, 'SIP_RTP_TIMEOUT', 30, 0, 3600) * 1000;
  if (env.SIP_TRUSTED_SOURCES) {
    const sources = env.SIP_TRUSTED_SOURCES.split(',').map((x) => x.trim()).filter(Boolean);
    trustedSourceList(sources); // throws a readable error for a bad entry
    cfg.trustedSources = sources;
  }
  const browserCodec = (env.GATEWAY_BROWSER_CODEC || 'pcmu').toLowerCase();
  if (browserCodec !== 'pcmu' && browserCodec !== 'opus') throw new Error(`GATEWAY_BROWSER_CODEC must be pcmu or opus (got "${env.GATEWAY_BROWSER_CODEC}")`);
  cfg.browserCodec = browserCodec;
  if (env.SIP_PUBLIC_HOST) cfg.publicHost = env.SIP_PUBLIC_HOST;
  else if (sipHost === '0.0.0.0') throw new Error('SIP_HOST=0.0.0.0 needs SIP_PUBLIC_HOST (the address SIP peers reach this machine at)');
  if (env.RTP_PORT_MIN || env.RTP_PORT_MAX) {
    const min = int(env.RTP_PORT_MIN, 'RTP_PORT_MIN', 0, 1024, 65534);
    const max = int(env.RTP_PORT_MAX, 'RTP_PORT_MAX', 0, 1026, 65535);
    if (max - min < 2) throw new Error('RTP_PORT_MAX must be at least RTP_PORT_MIN + 2');
    cfg.rtpPorts = { min, max };
  }
  if (env.SIP_OUTBOUND_PROXY) cfg.outboundProxy = hostPort(env.SIP_OUTBOUND_PROXY, 'SIP_OUTBOUND_PROXY');
  if (env.SIP_USERNAME) cfg.credentials = { username: env.SIP_USERNAME, password: env.SIP_PASSWORD ?? '' };
  if (env.SIP_TRUNK) {
    const trunk = hostPort(env.SIP_TRUNK, 'SIP_TRUNK');
    cfg.trunk = {
      ...trunk,
      ...(env.SIP_TRUNK_DOMAIN ? { domain: env.SIP_TRUNK_DOMAIN } : {}),
      ...(env.SIP_TRUNK_USERNAME ? { credentials: { username: env.SIP_TRUNK_USERNAME, password: env.SIP_TRUNK_PASSWORD ?? '' } } : {}),
    };
  }
  if (env.SIP_ALLOWED_PREFIXES) {
    const prefixes = env.SIP_ALLOWED_PREFIXES.split(',').map((p) => p.trim()).filter(Boolean);
    for (const p of prefixes) if (!/^\+[1-9]\d{0,14}$/.test(p)) throw new Error(`SIP_ALLOWED_PREFIXES: "${p}" is not an E.164 prefix like +46`);
    cfg.allowedPrefixes = prefixes;
  }
  return cfg;
}
