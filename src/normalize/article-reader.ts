/**
 * Reads articles off the main thread, one page at a time, in a worker thread started at the first page: a slow page
 * never holds the event loop (the feed server shares it in `wirefeed run`), and one that takes longer than the
 * deadline is abandoned, its thread ended and a new one started for the next page. Created once per process and
 * passed down; closed with the app.
 */
import { Worker } from 'node:worker_threads';
import { log } from '../log.js';
import type { ArticleRules } from '../model/source.js';
import type { Article } from './article.js';

/** Longer than the slowest page measured within extractArticle's bounds (0.4 s) by far. */
export const ARTICLE_DEADLINE_MS = 5_000;

/**
 * The thread: the compiled entry next to this file, or, run from TypeScript sources (tests, tsx), the entry loaded
 * through tsx's loader, which Node does not apply to a worker's own entry.
 */
function startThread(): Worker {
  const compiled = import.meta.url.endsWith('.js');
  const entry = new URL(compiled ? './article-thread.js' : './article-thread.ts', import.meta.url);
  const worker = compiled
    ? new Worker(entry)
    : new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true });
  worker.unref();
  return worker;
}

export class ArticleReader {
  private thread: Worker | undefined;
  private line: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly deadlineMs = ARTICLE_DEADLINE_MS) {}

  /** The article of the page at `url` (see extractArticle), or undefined: none, too slow, or the thread failed. */
  read(page: string, url: string, rules: ArticleRules = {}): Promise<Article | undefined> {
    const turn = this.line.then(() => this.readNow(page, url, rules));
    this.line = turn;
    return turn;
  }

  private readNow(page: string, url: string, rules: ArticleRules): Promise<Article | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.thread ??= startThread();
    const thread = this.thread;
    return new Promise((resolve) => {
      const settle = (article: Article | undefined) => {
        clearTimeout(timer);
        thread.off('message', onMessage).off('error', onError).off('exit', onExit);
        resolve(article);
      };
      // Ended by close(), a deadline, or on its own (out of memory): the page has no article, the next starts anew.
      const onExit = () => {
        if (this.thread === thread) this.thread = undefined;
        settle(undefined);
      };
      const onMessage = (article: Article | null) => settle(article ?? undefined);
      const onError = (error: Error) => {
        log.warn({ url, error: error.message }, 'article reader failed; starting it again');
        this.end(thread);
        settle(undefined);
      };
      const timer = setTimeout(() => {
        log.warn({ url, ms: this.deadlineMs }, 'article page took too long to read; keeping the feed text');
        this.end(thread);
        settle(undefined);
      }, this.deadlineMs);
      thread.on('message', onMessage).on('error', onError).on('exit', onExit);
      thread.postMessage({ page, url, rules });
    });
  }

  private end(thread: Worker): void {
    if (this.thread === thread) this.thread = undefined;
    void thread.terminate();
  }

  /** Ends the thread (the app is closing); a page being read, or asked for later, is answered undefined. */
  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    this.thread = undefined;
    await thread?.terminate();
  }
}
