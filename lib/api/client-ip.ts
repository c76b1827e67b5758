import { isIP } from 'node:net';

/** Set by our node:http entry (scripts/start.ts) to the socket's address, after dropping any sent one. */
export const PEER_HEADER = 'x-skylight-peer';
const g = globalThis as { __skylightPeerHeader?: boolean };

/** Called by the entry that sets PEER_HEADER; without it the header is ignored (a client could send it). */
export function markPeerHeaderTrusted(): void {
  g.__skylightPeerHeader = true;
}

/** `false`: forwarded headers are ignored; `true`: the first X-Forwarded-For hop; n: n proxies in front. */
export type TrustProxy = boolean | number;

/**
 * The client's address. Without TRUST_PROXY only the socket counts, because any client can send
 * X-Forwarded-For; behind n proxies the address is the one the outermost of them saw (the n-th hop
 * from the right), as in Express's `trust proxy` setting.
 */
export function clientAddress(headers: Headers, trust: TrustProxy, peer = peerOf(headers)): string {
  if (trust === false || trust === 0) return peer;
  const hops = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length === 0) {
    const real = headers.get('x-real-ip')?.trim();
    return real && isIP(real) ? real : peer;
  }
  const chain = [...hops, peer];
  const pick = withoutPort(trust === true ? chain[0]! : chain[Math.max(0, chain.length - 1 - trust)]!);
  return isIP(pick) ? pick : peer;
}

/**
 * Some proxies (Azure's, IIS) write a hop with its port: `203.0.113.7:51234`, `[2001:db8::1]:443`.
 * Read as not an address, every client would fall back to the proxy's, and share one login limit.
 */
function withoutPort(hop: string): string {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(hop);
  if (v6) return v6[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4 ? v4[1]! : hop;
}

function peerOf(headers: Headers): string {
  const peer = g.__skylightPeerHeader ? headers.get(PEER_HEADER)?.trim() : undefined;
  // Served by `next dev` or `next start`, a route handler cannot see the socket.
  return peer && isIP(peer) ? peer.replace(/^::ffff:/, '') : 'unknown';
}

/**
 * The key a per-client limit counts under: an IPv4 address itself, an IPv6 address by its /64
 * prefix, because one subscriber commonly holds a whole /64 and could otherwise rotate through it.
 */
export function clientKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) takes two groups.
  const groups = [
    ...left,
    ...Array(Math.max(0, 8 - left.length - right.length - (right.at(-1)?.includes('.') ? 1 : 0))).fill('0'),
    ...right,
  ];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
