/**
 * Validates Wirefeed's JSON Feed output against the JSON Feed 1.1 JSON Schema (../shared/schemas, or
 * WIREFEED_JSONFEED_SCHEMA): the demo seeds are ingested into a scratch store and every topic is rendered, as a feed,
 * as its daily digest and as its webhook's delivery, plus a feed of hostile content (CDATA terminators, markup, emoji, Japanese, control characters).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import AjvModule from 'ajv-draft-04';
import formatsModule from 'ajv-formats';
import { openApp } from '../src/app.js';
import { openScratchDatabase } from '../src/db/client.js';
import { digestChannel, digestEntries, digestWindow } from '../src/publish/digest.js';
import { renderFeed, topicChannel } from '../src/publish/render.js';
import { webhookBody } from '../src/publish/webhook.js';
import { topicEntries } from '../src/store/topics.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';

export async function jsonFeedDocuments(): Promise<Array<{ name: string; document: unknown }>> {
  const database = await openScratchDatabase();
  try {
    const app = await openApp({ configDir: join(import.meta.dirname, '../feeds/demo'), database });
    await ingestSources(ingestContext(app), app.config.sources);
    const documents = [];
    for (const topic of app.config.topics) {
      const entries = await topicEntries(database.db, topic.slug, topic.limit);
      const page = {
        self: `http://127.0.0.1/topics/${topic.slug}.json`,
        first: `http://127.0.0.1/topics/${topic.slug}.json`,
        next: `http://127.0.0.1/topics/${topic.slug}.json?before=x`,
      };
      documents.push({
        name: topic.slug,
        document: JSON.parse(renderFeed('json', { channel: topicChannel('http://127.0.0.1', topic), entries, page, hub: 'https://hub.example/' })),
      });
      const hostile = entries.map((entry) => ({
        ...entry,
        title: `${entry.title} ]]> & <b>x</b> 🇯🇵 日米\u0007`,
        summary: null,
        contentHtml: null,
        contentText: 'only text',
        author: null,
        imageUrl: null,
        categories: [],
      }));
      // The topic's daily digest in Tokyo's days, made the day after its newest story (the demo's stories are from 2024).
      const digest = digestChannel('http://127.0.0.1', topic, 'Asia/Tokyo');
      const dayAfter = new Date((entries[0]?.publishedAt.getTime() ?? Date.now()) + 86_400_000);
      const days = digestEntries(digest, topic.slug, { stories: entries, counts: new Map() }, digestWindow(dayAfter, 'Asia/Tokyo'));
      documents.push({ name: `${topic.slug} (daily digest)`, document: JSON.parse(renderFeed('json', { channel: digest, entries: days })) });
      // What a topic's webhook POSTs (format jsonfeed): the feed's items with the delivery's own _wirefeed object.
      const webhookTopic = { ...topic, webhook: { name: '', url: 'http://127.0.0.1/hook' } };
      documents.push({ name: `${topic.slug} (webhook delivery)`, document: JSON.parse(webhookBody('http://127.0.0.1', webhookTopic, entries).body) });
      documents.push({
        name: `${topic.slug} (hostile, text only)`,
        document: JSON.parse(renderFeed('json', { channel: topicChannel('http://127.0.0.1', topic), entries: hostile })),
      });
    }
    return documents;
  } finally {
    await database.close();
  }
}

async function main() {
  const schemaPath = resolve(process.env.WIREFEED_JSONFEED_SCHEMA ?? join(import.meta.dirname, '../../shared/schemas/jsonfeed-1.1.schema.json'));
  // Both packages are CommonJS with a default export; under NodeNext it sits on .default.
  const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
  const addFormats = (formatsModule as unknown as { default: typeof formatsModule }).default ?? formatsModule;
  const ajv = new (Ajv as unknown as new (options: object) => import('ajv').default)({ allErrors: true, strict: false });
  (addFormats as unknown as (ajv: object) => void)(ajv);
  // The 1.1 schema refers to the 1.0 one (feed-1.json) beside it for shared definitions.
  const sibling = join(dirname(schemaPath), 'feed-1.json');
  if (existsSync(sibling)) {
    const feed1 = JSON.parse(readFileSync(sibling, 'utf8')) as { id?: string; $id?: string };
    ajv.addSchema(feed1, feed1.$id ?? feed1.id ?? 'https://json.schemastore.org/feed-1');
  }
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  let failures = 0;
  const documents = await jsonFeedDocuments();
  for (const { name, document } of documents) {
    const items = (document as { items: unknown[] }).items.length;
    if (validate(document)) {
      console.log(`json feed ${name}: valid (${items} items)`);
    } else {
      failures++;
      console.error(`json feed ${name}: INVALID\n${ajv.errorsText(validate.errors, { separator: '\n  ' })}`);
    }
  }
  if (failures) {
    console.error(`${failures} of ${documents.length} JSON feeds fail the JSON Feed 1.1 schema`);
    process.exitCode = 1;
  } else {
    console.log(`all ${documents.length} JSON feeds valid against ${schemaPath}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
