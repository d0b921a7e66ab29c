/** Builders for small fixture feeds in the spirit of the seed story. */
export interface FixtureItem {
  title: string;
  link?: string;
  guid?: string;
  pubDate?: string;
  description?: string;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function rss2(title: string, items: FixtureItem[]): string {
  const entries = items
    .map(
      (item) => `    <item>
      <title>${escapeXml(item.title)}</title>
${item.link ? `      <link>${escapeXml(item.link)}</link>\n` : ''}${item.guid ? `      <guid>${escapeXml(item.guid)}</guid>\n` : ''}${item.pubDate ? `      <pubDate>${item.pubDate}</pubDate>\n` : ''}${item.description ? `      <description>${escapeXml(item.description)}</description>\n` : ''}    </item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>${escapeXml(title)}</title>
    <link>https://outlet.example/</link>
    <description>fixture</description>
${entries}
  </channel>
</rss>
`;
}

export function atom(title: string, entries: Array<{ title: string; link: string; id: string; updated: string }>): string {
  const body = entries
    .map(
      (entry) =>
        `  <entry>\n    <title>${escapeXml(entry.title)}</title>\n    <link href="${escapeXml(entry.link)}"/>\n    <id>${escapeXml(entry.id)}</id>\n    <updated>${entry.updated}</updated>\n  </entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>${escapeXml(title)}</title>
  <id>urn:fixture:${escapeXml(title)}</id>
  <updated>2024-06-02T00:00:00Z</updated>
${body}
</feed>
`;
}
