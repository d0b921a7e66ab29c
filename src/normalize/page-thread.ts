/** The page reader's thread (see page-reader.ts): reads one page per message and answers what it found. */
import { parentPort } from 'node:worker_threads';
import { FeedParseError } from '../parse/index.js';
import { extractArticle } from './article.js';
import { readJsonListing } from './json-listing.js';
import { readListing } from './listing.js';
import type { PageAnswer, PageTask } from './page-reader.js';

function answer(task: PageTask): PageAnswer {
  if (task.kind === 'article') return extractArticle(task.page, task.url, task.rules) ?? null;
  try {
    return { feed: task.rules.format === 'json' ? readJsonListing(task.page, task.rules) : readListing(task.page, task.rules) };
  } catch (error) {
    if (error instanceof FeedParseError) return { error: error.message };
    throw error;
  }
}

parentPort?.on('message', (task: PageTask) => {
  parentPort?.postMessage(answer(task));
});
