import { TextDecoder } from 'node:util';

export interface DecodedBody {
  text: string;
  /** WHATWG name of the encoding used (utf-32 is decoded by hand, TextDecoder lacks it). */
  encoding: string;
  /** How the encoding was chosen. */
  by: 'bom' | 'http' | 'xml-declaration' | 'byte-pattern' | 'meta' | 'sniff' | 'default';
}

const BOMS: Array<[number[], string]> = [
  [[0x00, 0x00, 0xfe, 0xff], 'utf-32be'],
  [[0xff, 0xfe, 0x00, 0x00], 'utf-32le'],
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xfe, 0xff], 'utf-16be'],
  [[0xff, 0xfe], 'utf-16le'],
];

/** The first bytes of "<?" in each wide encoding, for documents without a BOM (XML 1.0 appendix F). */
const XML_START_PATTERNS: Array<[number[], string]> = [
  [[0x00, 0x00, 0x00, 0x3c], 'utf-32be'],
  [[0x3c, 0x00, 0x00, 0x00], 'utf-32le'],
  [[0x00, 0x3c, 0x00, 0x3f], 'utf-16be'],
  [[0x3c, 0x00, 0x3f, 0x00], 'utf-16le'],
];

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((byte, index) => bytes[index] === byte);

function canonicalLabel(label: string | undefined): string | undefined {
  if (!label) return undefined;
  const cleaned = label
    .trim()
    .replace(/^['"]|['"]$/g, '')
    .toLowerCase();
  if (/^(utf-?32|ucs-?4)(be)?$/.test(cleaned)) return 'utf-32be';
  if (/^(utf-?32|ucs-?4)le$/.test(cleaned)) return 'utf-32le';
  if (/^(utf-?16|ucs-?2)$/.test(cleaned)) return 'utf-16be';
  try {
    return new TextDecoder(cleaned).encoding;
  } catch {
    return undefined;
  }
}

function charsetFromContentType(contentType: string | undefined): string | undefined {
  return canonicalLabel(/;\s*charset\s*=\s*("[^"]*"|'[^']*'|[^;\s]+)/i.exec(contentType ?? '')?.[1]);
}

/** Reads encoding="…" from the XML declaration, decoding the first bytes in the byte pattern's family. */
function charsetFromXmlDeclaration(bytes: Uint8Array, family: string | undefined): string | undefined {
  const head = decodeWith(family ?? 'latin1', bytes.subarray(0, 512));
  const declared = canonicalLabel(/^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/.exec(head)?.[1]);
  // The byte pattern of a wide document is the truth (it also tells the byte order a bare "utf-16" leaves open).
  return family ?? declared;
}

/** A web page's start: a doctype, <html>, <head> or <meta> first (after white space and a comment). */
const HTML_START = /^\s*(?:<!--[^>]*-->\s*)?<(?:!doctype\s+html|html|head|meta)\b/i;
/** <meta charset="…">, or the charset in <meta http-equiv="Content-Type" content="text/html; charset=…">. */
const META_CHARSET = /<meta\b[^>]*?\bcharset\s*=\s*["']?([\w.:-]+)/i;

/**
 * The charset a web page's <meta> declares in its first 1,024 bytes, as browsers prescan for it (WHATWG HTML, "prescan
 * a byte stream"): for article pages and the listing pages of sources with `scrape`, served without an HTTP charset.
 */
function charsetFromMeta(bytes: Uint8Array): string | undefined {
  const head = decodeWith('latin1', bytes.subarray(0, 1024));
  if (!HTML_START.test(head)) return undefined;
  const declared = canonicalLabel(META_CHARSET.exec(head)?.[1]);
  // A page cannot declare a wide encoding in ASCII bytes: it would not be read as ASCII. Browsers take UTF-8.
  return declared?.startsWith('utf-16') || declared?.startsWith('utf-32') ? 'utf-8' : declared;
}

function decodeUtf32(bytes: Uint8Array, littleEndian: boolean): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength - (bytes.byteLength % 4));
  let text = '';
  for (let offset = 0; offset < view.byteLength; offset += 4) {
    const codePoint = view.getUint32(offset, littleEndian);
    text += codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff) ? String.fromCodePoint(codePoint) : '\ufffd';
  }
  return text;
}

/**
 * windows-1252 for bytes 0x80-0x9F. Node 20's TextDecoder decodes "windows-1252" (and so "us-ascii" and "latin1",
 * which WHATWG maps to it) as ISO-8859-1, turning curly quotes into C1 control characters. Feeds also carry those
 * C1 characters UTF-8-encoded (windows-1252 text mislabelled as latin1 upstream); no feed means them literally.
 */
const WINDOWS_1252_HIGH =
  '\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd' +
  '\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178';

function replaceC1Controls(text: string): string {
  return text.replace(/[\u0080-\u009f]/g, (char) => WINDOWS_1252_HIGH[char.charCodeAt(0) - 0x80]!);
}

function decodeWith(encoding: string, bytes: Uint8Array, fatal = false): string {
  if (encoding === 'utf-32be' || encoding === 'utf-32le') return replaceC1Controls(decodeUtf32(bytes, encoding === 'utf-32le'));
  if (encoding === 'windows-1252') return replaceC1Controls(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
  return replaceC1Controls(new TextDecoder(encoding, { fatal }).decode(bytes));
}

/**
 * Legacy encodings tried when nothing declares one and the bytes are not UTF-8. A Japanese or Korean reading must
 * decode cleanly and produce kana or Hangul (real text in those languages always has them); otherwise the stray high
 * bytes are most likely windows-1252 punctuation pasted from a word processor.
 */
const SNIFF_CANDIDATES: Array<[string, RegExp]> = [
  ['euc-jp', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['shift_jis', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['euc-kr', /\p{Script=Hangul}/u],
];

function decodesCleanly(encoding: string, bytes: Uint8Array): string | undefined {
  try {
    return decodeWith(encoding, bytes, true);
  } catch {
    return undefined;
  }
}

function sniff(bytes: Uint8Array): string {
  if (decodesCleanly('utf-8', bytes) !== undefined) return 'utf-8';
  for (const [encoding, evidence] of SNIFF_CANDIDATES) {
    const text = decodesCleanly(encoding, bytes);
    if (text !== undefined && evidence.test(text)) return encoding;
  }
  return 'windows-1252';
}

/**
 * Decodes a feed body: a byte-order mark wins, then the HTTP charset, then the byte pattern of a wide encoding and
 * the XML declaration, then a web page's <meta> charset, then a sniff (UTF-8 if the bytes are valid UTF-8, else the
 * first legacy encoding that fits). Bytes that do not decode become U+FFFD rather than failing the feed.
 */
export function decodeFeedBody(bytes: Uint8Array, contentType?: string): DecodedBody {
  for (const [bom, encoding] of BOMS) {
    if (startsWith(bytes, bom)) return { text: decodeWith(encoding, bytes.subarray(bom.length)), encoding, by: 'bom' };
  }
  const http = charsetFromContentType(contentType);
  if (http) return { text: decodeWith(http, bytes), encoding: http, by: 'http' };
  const family = XML_START_PATTERNS.find(([pattern]) => startsWith(bytes, pattern))?.[1];
  const declared = charsetFromXmlDeclaration(bytes, family);
  if (declared) return { text: decodeWith(declared, bytes), encoding: declared, by: 'xml-declaration' };
  if (family) return { text: decodeWith(family, bytes), encoding: family, by: 'byte-pattern' };
  const meta = charsetFromMeta(bytes);
  if (meta) return { text: decodeWith(meta, bytes), encoding: meta, by: 'meta' };
  const sniffed = sniff(bytes);
  return { text: decodeWith(sniffed, bytes), encoding: sniffed, by: sniffed === 'utf-8' ? 'default' : 'sniff' };
}
