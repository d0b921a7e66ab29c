import { byCodeUnits } from '../model/text.js';
import { percentDecoded } from '../model/urls.js';

/** Query parameters that only track the reader; they never change what a link points to. */
const TRACKING_PARAMS = new Set([
  'fbclid',
  'gclid',
  'dclid',
  'gbraid',
  'wbraid',
  'msclkid',
  'yclid',
  'twclid',
  'ttclid',
  'li_fat_id',
  'mc_cid',
  'mc_eid',
  '_ga',
  '_gl',
  'igshid',
  'igsh',
  'si',
  'ref_src',
  'ref_url',
  'cmpid',
  'ocid',
  'mkt_tok',
  '_hsenc',
  '_hsmi',
  'hsctatracking',
  'vero_id',
  'oly_enc_id',
  'oly_anon_id',
  'rb_clickid',
  's_cid',
  'ito',
  'wt_mc',
  'wt.mc_id',
  'soc_src',
  'soc_trk',
  'spm',
  'sc_cid',
]);
const TRACKING_PREFIXES = ['utm_', 'pk_', 'mtm_', 'itm_', 'hmb_', 'at_'];

/** Well-known link shorteners; a source adds its own outlet shorteners with shortUrlHosts. */
const KNOWN_SHORTENERS = new Set([
  'bit.ly',
  'bitly.com',
  't.co',
  'tinyurl.com',
  'ow.ly',
  'buff.ly',
  'goo.gl',
  'is.gd',
  'trib.al',
  'dlvr.it',
  'wp.me',
  'youtu.be',
  'nyti.ms',
  'reut.rs',
  'bloom.bg',
  'on.ft.com',
  'wapo.st',
  'cnn.it',
  'apne.ws',
  'arab.news',
  'jpt.news',
  'lnkd.in',
  'fb.me',
  'amzn.to',
  'shorturl.at',
  'rebrand.ly',
  'cutt.ly',
  'tiny.cc',
]);

function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return TRACKING_PARAMS.has(lower) || TRACKING_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/** A query parameter's name as a server reads it: up to "=", "+" a space, percent-escapes decoded (as written if malformed). */
const parameterName = (part: string) => percentDecoded(part.split('=', 1)[0]!.replace(/\+/g, ' '));

/**
 * An absolute http(s) URL without its tracking parameters, the rest as written (the other parameters in their order
 * and encoding, the fragment): for the links in items' content, which readers follow (as Miniflux cleans them).
 */
export function withoutTrackingParams(href: string): string {
  const url = new URL(href);
  if (!url.search) return href;
  const parts = url.search.slice(1).split('&');
  const kept = parts.filter((part) => !isTrackingParam(parameterName(part)));
  if (kept.length === parts.length) return href;
  url.search = kept.join('&');
  return url.href;
}

/** Resolves `href` against `base`; returns undefined for anything that is not an http(s) URL. */
export function resolveHttpUrl(href: string | null | undefined, base?: string): string | undefined {
  if (!href) return undefined;
  try {
    const url = base ? new URL(href.trim(), base) : new URL(href.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The form of a URL used for identity: scheme and host lower-cased (WHATWG URL does this), default port and
 * fragment dropped, tracking parameters removed and the remaining query sorted.
 */
export function canonicalizeUrl(href: string, base?: string): string | undefined {
  const resolved = resolveHttpUrl(href, base);
  if (!resolved) return undefined;
  const url = new URL(resolved);
  url.hash = '';
  if (url.hostname.endsWith('.')) url.hostname = url.hostname.slice(0, -1);
  const kept = [...url.searchParams].filter(([name]) => !isTrackingParam(name));
  kept.sort(([a, av], [b, bv]) => byCodeUnits(a, b) || byCodeUnits(av, bv));
  url.search = kept.length ? new URLSearchParams(kept).toString() : '';
  return url.href;
}

/** True when `href` is on a known shortener or one of the source's own short-link hosts. */
export function isShortUrl(href: string, extraHosts: readonly string[] = []): boolean {
  try {
    const host = new URL(href).hostname.toLowerCase().replace(/^www\./, '');
    return KNOWN_SHORTENERS.has(host) || extraHosts.includes(host);
  } catch {
    return false;
  }
}
