/** The article reader's thread (see article-reader.ts): reads one page per message, answers its article or null. */
import { parentPort } from 'node:worker_threads';
import { extractArticle } from './article.js';

parentPort?.on('message', ({ page, url }: { page: string; url: string }) => {
  parentPort?.postMessage(extractArticle(page, url) ?? null);
});
