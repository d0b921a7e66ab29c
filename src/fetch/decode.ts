import { TextDecoder } from 'node:util';

const BOMS: Array<[number[], string]> = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xfe, 0xff], 'utf-16be'],
  [[0xff, 0xfe], 'utf-16le'],
];

function charsetFromContentType(contentType: string | undefined): string | undefined {
  return /charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
}

function charsetFromXmlDeclaration(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  return /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/.exec(head)?.[1];
}

function decoderFor(label: string | undefined): TextDecoder | undefined {
  if (!label) return undefined;
  try {
    return new TextDecoder(label);
  } catch {
    return undefined;
  }
}

/**
 * Decodes a feed body: a byte-order mark wins, then the HTTP charset, then the XML declaration, else UTF-8.
 * Undecodable bytes become U+FFFD rather than failing the feed.
 */
export function decodeFeedBody(bytes: Uint8Array, contentType?: string): string {
  for (const [bom, label] of BOMS) {
    if (bom.every((byte, index) => bytes[index] === byte)) return new TextDecoder(label).decode(bytes.subarray(bom.length));
  }
  const decoder =
    decoderFor(charsetFromContentType(contentType)) ?? decoderFor(charsetFromXmlDeclaration(bytes)) ?? new TextDecoder('utf-8');
  return decoder.decode(bytes);
}
