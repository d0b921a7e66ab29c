/** Synthetic feed documents of realistic size in RSS 2.0, Atom 1.0 and RSS 1.0, built from the bench corpus. */
import type { NormalizedItem } from '../src/model/item.js';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export type DocumentFormat = 'rss' | 'atom' | 'rdf';

/** `built`: when the publisher built the document (its feed-level date), which changes on every build. */
export function feedDocument(format: DocumentFormat, title: string, items: NormalizedItem[], built = new Date(0)): string {
  if (format === 'atom') {
    const entries = items
      .map(
        (item) =>
          `<entry><title>${escapeXml(item.title)}</title><link rel="alternate" href="${escapeXml(item.url!)}"/><id>${escapeXml(item.url!)}</id>` +
          `<published>${item.publishedAt.toISOString()}</published><updated>${item.publishedAt.toISOString()}</updated><author><name>Bench Wire</name></author>` +
          `<category term="Politics"/><summary>${escapeXml(item.summary ?? '')}</summary><content type="html">${escapeXml(item.contentHtml ?? '')}</content></entry>`,
      )
      .join('\n');
    return `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>${escapeXml(title)}</title><id>urn:bench:${escapeXml(title)}</id><updated>${built.toISOString()}</updated>\n${entries}\n</feed>\n`;
  }
  if (format === 'rdf') {
    const entries = items
      .map(
        (item) =>
          `<item rdf:about="${escapeXml(item.url!)}"><title>${escapeXml(item.title)}</title><link>${escapeXml(item.url!)}</link>` +
          `<dc:date>${item.publishedAt.toISOString()}</dc:date><dc:creator>Bench Wire</dc:creator><dc:subject>Politics</dc:subject><description>${escapeXml(item.contentText ?? '')}</description></item>`,
      )
      .join('\n');
    return `<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="https://bench.example/"><title>${escapeXml(title)}</title><link>https://bench.example/</link><description>bench</description><dc:date>${built.toISOString()}</dc:date></channel>\n${entries}\n</rdf:RDF>\n`;
  }
  const entries = items
    .map(
      (item) =>
        `<item><title>${escapeXml(item.title)}</title><link>${escapeXml(item.url!)}?utm_source=rss</link><guid isPermaLink="true">${escapeXml(item.url!)}</guid>` +
        `<pubDate>${item.publishedAt.toUTCString()}</pubDate><dc:creator>Bench Wire</dc:creator><category>Politics</category><description>${escapeXml(item.summary ?? '')}</description>` +
        `<content:encoded><![CDATA[${item.contentHtml ?? ''}]]></content:encoded></item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>${escapeXml(title)}</title><link>https://bench.example/</link><description>bench</description><lastBuildDate>${built.toUTCString()}</lastBuildDate>\n${entries}\n</channel></rss>\n`;
}
