/**
 * A source's own `keep` and `exclude` queries (Miniflux's keep and block rules, in the topic query language): what
 * they leave out is never stored, searched or filed, is counted as filtered, and is read again when they change.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../src/app.js';
import { rowsOf } from '../src/db/client.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const testDatabase = useTestDatabase();

const ITEMS = [
  { slug: 'forum', title: 'Japan, U.S. to Set Up Forum on Joint Arms Production', category: 'Politics' },
  { slug: 'promo', title: 'Sponsored: Discover Tokyo This Summer', category: 'Travel' },
  { slug: 'bonds', title: 'Japan Bond Yields Climb', category: 'Advertorial' },
  { slug: 'kenya', title: 'Kenya Tea Exports Rise', category: 'Business' },
];

let server: TestServer;
const feed = () => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Asia Newswire</title><link>${server.url}/</link><description>Wire</description>
${ITEMS.map(
  (item, index) => `<item><title>${item.title}</title><link>${server.url}/news/${item.slug}</link><category>${item.category}</category>
<pubDate>Sun, 02 Jun 2024 0${index}:06:19 GMT</pubDate><description>${item.title}, the wire reported on Sunday.</description></item>`,
).join('\n')}
</channel></rss>`;

beforeAll(async () => {
  server = await startTestServer((_request, response) => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed()));
});
afterAll(() => server.close());

async function ingestWith(filterLines: string) {
  const config = writeConfigDir({
    'sources.yml': `sources:\n  - id: newswire\n    url: ${server.url}/feed.xml\n    allowPrivateNetwork: [127.0.0.1]\n${filterLines}`,
  });
  const app = await openApp({ configDir: config, database: testDatabase().handle });
  try {
    const summary = await ingestSources(ingestContext(app), app.config.sources);
    const filtered = (await app.metrics.itemsStored.get()).values.find((value) => value.labels.result === 'filtered')?.value ?? 0;
    return { summary, filtered };
  } finally {
    await app.close();
  }
}

const storedSlugs = async () =>
  (await rowsOf<{ url: string }>(testDatabase().handle.db, sql`select url from items order by url`)).map((row) => row.url.split('/').pop());

describe('source filters', () => {
  it('stores only what keep matches and exclude does not, counts the rest, and reads it again when they change', async () => {
    const filters = `    keep: 'japan OR tokyo'\n    exclude: 'title:sponsored OR category:advertorial'\n`;
    const first = await ingestWith(filters);
    expect(first.summary).toMatchObject({ itemsNew: 1, itemsFiltered: 3 });
    expect(first.summary.outcomes[0]).toMatchObject({ outcome: 'ok', itemsNew: 1, itemsFiltered: 3 });
    expect(first.filtered).toBe(3);
    expect(await storedSlugs()).toEqual(['forum']);

    // The same feed again: what was left out is known from the last document, not matched again.
    const again = await ingestWith(filters);
    expect(again.summary).toMatchObject({ itemsNew: 0, itemsDuplicate: 4, itemsFiltered: 0 });

    // Without the keep rule, the items only it left out come in; the excluded ones still do not.
    const loosened = await ingestWith(`    exclude: 'title:sponsored OR category:advertorial'\n`);
    expect(loosened.summary).toMatchObject({ itemsNew: 1, itemsFiltered: 2 });
    expect(await storedSlugs()).toEqual(['forum', 'kenya']);
  });
});
