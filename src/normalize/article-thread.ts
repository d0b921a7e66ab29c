/** The article reader's thread (see article-reader.ts): reads one page per message, answers its article or null. */
import { parentPort } from 'node:worker_threads';
import type { ArticleRules } from '../model/source.js';
import { extractArticle } from './article.js';

parentPort?.on('message', ({ page, url, rules }: { page: string; url: string; rules: ArticleRules }) => {
  parentPort?.postMessage(extractArticle(page, url, rules) ?? null);
});
