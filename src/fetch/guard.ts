import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { NetworkPolicy } from '../model/source.js';

/** Ranges no source may reach unless allowed: loopback, private, link-local, shared and reserved addresses. */
const NON_PUBLIC_IPV4 = [
  ['0.0.0.0', 8], // "this" network, unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const;
const NON_PUBLIC_IPV6 = [
  ['::', 128], // unspecified
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96], // NAT64: could reach any IPv4 address, private ones included
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const;

const NON_PUBLIC = new BlockList();
for (const [network, prefix] of NON_PUBLIC_IPV4) NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of NON_PUBLIC_IPV6) NON_PUBLIC.addSubnet(network, prefix, 'ipv6');

/**
 * IPv4-mapped ("::ffff:127.0.0.1", "::ffff:7f00:1") and IPv4-translated (RFC 2765, "::ffff:0:7f00:1") addresses ->
 * "127.0.0.1"; other addresses unchanged.
 */
export function unmapIpv4(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  const dotted = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:(?:0:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare);
  if (hex) {
    const high = parseInt(hex[1]!, 16);
    const low = parseInt(hex[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return bare;
}

export function isPublicAddress(address: string): boolean {
  const ip = unmapIpv4(address);
  const family = isIP(ip);
  if (family === 0) return false;
  return !NON_PUBLIC.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function allowListOf(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const ip = unmapIpv4(address!);
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(prefix), type);
  }
  return list;
}

const allowLists = new WeakMap<string[], BlockList>();

/** Why `address` may not be reached under `policy`, or undefined when it may. */
export function refusalReason(address: string, policy: NetworkPolicy): string | undefined {
  const ip = unmapIpv4(address);
  if (policy.kind === 'any' || isPublicAddress(ip)) return undefined;
  if (policy.kind === 'allow-list') {
    let list = allowLists.get(policy.entries);
    if (!list) {
      list = allowListOf(policy.entries);
      allowLists.set(policy.entries, list);
    }
    if (list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) return undefined;
  }
  // Who may allow it (a source's allowPrivateNetwork, the --allow-private-network flag) is for the caller to say.
  return `address ${ip} is not public (loopback, private, link-local, shared or reserved)`;
}

export class AddressRefusedError extends Error {
  readonly code = 'EADDRREFUSED';
  constructor(hostname: string, reason: string) {
    super(`refused to connect to ${hostname}: ${reason}`);
    this.name = 'AddressRefusedError';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A dns.lookup replacement for the socket: it resolves, drops every address the policy refuses and connects only to
 * what is left. Checking and connecting use the same answer, so DNS rebinding cannot slip a private address in.
 */
export function guardedLookup(policy: NetworkPolicy) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter((entry) => refusalReason(entry.address, policy) === undefined);
      if (allowed.length === 0) {
        const reason = refusalReason(addresses[0]?.address ?? hostname, policy) ?? 'no address';
        return callback(new AddressRefusedError(hostname, reason), []);
      }
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** The narrowest non-public range an address is in, as CIDR ("127.0.0.0/8"), or undefined for a public address. */
export function nonPublicRangeOf(address: string): string | undefined {
  const ip = unmapIpv4(address);
  const family = isIP(ip);
  if (family === 0 || isPublicAddress(ip)) return undefined;
  const ranges = family === 4 ? NON_PUBLIC_IPV4 : NON_PUBLIC_IPV6;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const containing = ranges.filter(([network, prefix]) => {
    const one = new BlockList();
    one.addSubnet(network, prefix, type);
    return one.check(ip, type);
  });
  const [network, prefix] = containing.sort((a, b) => b[1] - a[1])[0] ?? [ip, family === 4 ? 32 : 128];
  return `${network}/${prefix}`;
}

/**
 * The non-public ranges a URL's host resolves into: what a source needs in `allowPrivateNetwork` to reach it, and
 * nothing wider. Empty when every address is public.
 */
export async function nonPublicRangesFor(url: string): Promise<string[]> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await dnsLookupAll(host)).map((entry) => entry.address);
  return [...new Set(addresses.map(nonPublicRangeOf).filter((range): range is string => range !== undefined))];
}

const dnsLookupAll = (host: string) =>
  new Promise<LookupAddress[]>((resolve, reject) => dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));
