import { BlockList, isIP } from 'node:net';
import { UserError } from '../model/errors.js';
import type { EnvironmentProxies, ProxyBypass, ProxyRoute, ProxySetting } from '../model/source.js';
import { unmapIpv4 } from './guard.js';
import { proxyRouteOf, proxyUrlProblem } from './proxy.js';

/**
 * The environment's proxy variables, upper case first as Go reads them (curl reads both too). ALL_PROXY (curl's)
 * serves either scheme that has no variable of its own.
 */
export const PROXY_VARIABLES = {
  http: ['HTTP_PROXY', 'http_proxy'],
  https: ['HTTPS_PROXY', 'https_proxy'],
  all: ['ALL_PROXY', 'all_proxy'],
  bypass: ['NO_PROXY', 'no_proxy'],
} as const;

type Environment = Readonly<Record<string, string | undefined>>;

/** The first of these variables set to something, with its name. */
function firstSet(env: Environment, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * A proxy variable's value as a route. As Go and curl take them: without a scheme it is an HTTP proxy
 * (`proxy.example:3128`), and without a port it is on its scheme's (80, or 1080 for SOCKS5). Throws UserError naming
 * the variable, never its password.
 */
function environmentRoute({ name, value }: { name: string; value: string }): ProxyRoute {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  const problem = proxyUrlProblem(text, { portRequired: false });
  if (problem) {
    // As written, but for a user name and password.
    const shown = value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/?#]*@/i, '$1');
    throw new UserError(
      `the environment variable ${name} (${shown}) ${problem}: mend it, or set fetch.proxy in the config (false to fetch without the environment's proxies)`,
    );
  }
  const route = proxyRouteOf(text);
  return { ...route, display: `${route.display} (${name})` };
}

/**
 * One NO_PROXY entry, as Go reads it: `*` (every host), an address or a CIDR range (`10.0.0.0/8`), a domain
 * (`corp.example` and its subdomains; `.corp.example` or `*.corp.example` its subdomains only), an address or a
 * domain with a port (`wire.example:8443`).
 */
export function proxyBypassOf(text: string): ProxyBypass | 'all' | undefined {
  const entry = text.trim().toLowerCase();
  if (entry === '*') return 'all';
  const range = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (range) {
    const address = unmapIpv4(range[1]!);
    const family = isIP(address);
    const prefix = Number(range[2]);
    if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
    return { kind: 'range', address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
  }
  // "[::1]:8080", "::1", "10.1.2.3:8080", "wire.example:8443", "wire.example".
  const [, bracketed, bracketPort] = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? [];
  const [, named, namedPort] = bracketed === undefined && isIP(entry) === 0 ? (/^(.*?)(?::(\d+))?$/.exec(entry) ?? []) : [];
  const host = bracketed ?? named ?? entry;
  const port = bracketPort ?? namedPort;
  const narrowed = port === undefined ? {} : { port: Number(port) };
  const address = unmapIpv4(host);
  const family = isIP(address);
  if (family !== 0) return { kind: 'range', address, prefix: family === 4 ? 32 : 128, family: family === 4 ? 'ipv4' : 'ipv6', ...narrowed };
  const name = host.replace(/^\*\./, '.');
  if (name.replace(/^\./, '') === '') return undefined;
  return { kind: 'domain', name: name.replace(/^\./, ''), subdomainsOnly: name.startsWith('.'), ...narrowed };
}

/**
 * The proxies the environment names, or undefined when it names none: HTTPS_PROXY for https URLs, HTTP_PROXY for
 * http URLs, ALL_PROXY for either without its own, and NO_PROXY's hosts reached straight. Throws UserError for a
 * value that is not a proxy Wirefeed can use.
 */
export function environmentProxies(env: Environment): EnvironmentProxies | undefined {
  const all = firstSet(env, PROXY_VARIABLES.all);
  const http = firstSet(env, PROXY_VARIABLES.http) ?? all;
  const https = firstSet(env, PROXY_VARIABLES.https) ?? all;
  if (!http && !https) return undefined;
  const entries = (firstSet(env, PROXY_VARIABLES.bypass)?.value ?? '').split(',').map(proxyBypassOf);
  const bypass = entries.includes('all') ? 'all' : entries.filter((entry): entry is ProxyBypass => entry !== undefined && entry !== 'all');
  return { kind: 'environment', ...(http ? { http: environmentRoute(http) } : {}), ...(https ? { https: environmentRoute(https) } : {}), bypass };
}

/** Ranges as BlockLists, built once per entry (config is loaded once; the entries live as long as it). */
const rangeLists = new WeakMap<ProxyBypass, BlockList>();

function inRange(entry: Extract<ProxyBypass, { kind: 'range' }>, address: string): boolean {
  let list = rangeLists.get(entry);
  if (!list) {
    list = new BlockList();
    list.addSubnet(entry.address, entry.prefix, entry.family);
    rangeLists.set(entry, list);
  }
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether a NO_PROXY entry covers a host (lower case, an address unbracketed) on a port. */
function bypasses(entry: ProxyBypass, host: string, port: number): boolean {
  if (entry.port !== undefined && entry.port !== port) return false;
  if (entry.kind === 'range') return inRange(entry, host);
  return host.endsWith(`.${entry.name}`) || (!entry.subdomainsOnly && host === entry.name);
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * The proxy one request goes through: a setting's own route, or the environment's for the URL's scheme unless
 * NO_PROXY names its host. As in Go, the environment's proxies never carry a request to localhost or a loopback
 * address (a proxy elsewhere would reach its own).
 */
export function routeFor(setting: ProxySetting | undefined, target: URL): ProxyRoute | undefined {
  if (setting === undefined || !('kind' in setting)) return setting;
  const host = unmapIpv4(target.hostname);
  const family = isIP(host);
  if (host === 'localhost' || (family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6'))) return undefined;
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  if (setting.bypass === 'all' || setting.bypass.some((entry) => bypasses(entry, host, port))) return undefined;
  return target.protocol === 'https:' ? setting.https : setting.http;
}

/**
 * What the environment's proxies do, in a line: which scheme goes through which proxy, and NO_PROXY's hosts.
 * Undefined for a setting that is not the environment's (none, or fetch.proxy's one proxy).
 */
export function describeEnvironmentProxies(setting: ProxySetting | undefined): string | undefined {
  if (setting === undefined || !('kind' in setting)) return undefined;
  const proxies = setting;
  const way = (route: ProxyRoute | undefined) => (route ? `through ${route.display}` : 'straight');
  const straight =
    proxies.bypass === 'all' ? 'every host (NO_PROXY=*)' : proxies.bypass.length === 1 ? '1 NO_PROXY entry' : `${proxies.bypass.length} NO_PROXY entries`;
  return `https ${way(proxies.https)}, http ${way(proxies.http)}; straight: localhost, loopback and ${straight}`;
}
