/**
 * Reads web pages off the main thread (articles for sources with fullText, listings for sources that scrape a page),
 * one page at a time, in a worker thread started at the first page: a slow page never holds the event loop (the feed
 * server shares it in `wirefeed run`), and one that takes longer than the deadline is abandoned, its thread ended and
 * a new one started for the next page. Created once per process and passed down; closed with the app.
 */
import { Worker } from 'node:worker_threads';
import { log } from '../log.js';
import type { ArticleRules, ScrapeRules } from '../model/source.js';
import { FeedParseError, type ParsedFeed } from '../parse/index.js';
import type { Article } from './article.js';

/** Longer than the slowest page measured within extractArticle's and readListing's bounds (0.4 s, 0.85 s) by far. */
export const PAGE_DEADLINE_MS = 5_000;

/**
 * The thread: the compiled entry next to this file, or, run from TypeScript sources (tests, tsx), the entry loaded
 * through tsx's loader, which Node does not apply to a worker's own entry.
 */
function startThread(): Worker {
  const compiled = import.meta.url.endsWith('.js');
  const entry = new URL(compiled ? './page-thread.js' : './page-thread.ts', import.meta.url);
  const worker = compiled
    ? new Worker(entry)
    : new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true });
  worker.unref();
  return worker;
}

/** A page for the thread: its article, or its list of items. */
export type PageTask = { kind: 'article'; page: string; url: string; rules: ArticleRules } | { kind: 'listing'; page: string; rules: ScrapeRules };
/** The thread's answer: an article (or null: none), a listing's feed, or why the listing could not be read. */
export type PageAnswer = Article | null | { feed: ParsedFeed } | { error: string };

export class PageReader {
  private thread: Worker | undefined;
  private line: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly deadlineMs = PAGE_DEADLINE_MS) {}

  /** The article of the page at `url` (see extractArticle), or undefined: none, too slow, or the thread failed. */
  async read(page: string, url: string, rules: ArticleRules = {}): Promise<Article | undefined> {
    const answer = await this.ask({ kind: 'article', page, url, rules }, url);
    return answer && !('feed' in answer) && !('error' in answer) ? answer : undefined;
  }

  /** The items of a listing page (see readListing); throws FeedParseError saying why it could not be read. */
  async listing(page: string, url: string, rules: ScrapeRules): Promise<ParsedFeed> {
    const answer = await this.ask({ kind: 'listing', page, rules }, url);
    if (answer && 'feed' in answer) return answer.feed;
    throw new FeedParseError(answer && 'error' in answer ? answer.error : 'the page could not be read: it took too long, or the reader failed');
  }

  private ask(task: PageTask, url: string): Promise<PageAnswer> {
    const turn = this.line.then(() => this.askNow(task, url));
    this.line = turn;
    return turn;
  }

  /** The thread's answer, or null when it gave none: closed, past the deadline, or the thread failed. */
  private askNow(task: PageTask, url: string): Promise<PageAnswer> {
    if (this.closed) return Promise.resolve(null);
    this.thread ??= startThread();
    const thread = this.thread;
    return new Promise((resolve) => {
      const settle = (answer: PageAnswer) => {
        clearTimeout(timer);
        thread.off('message', onMessage).off('error', onError).off('exit', onExit);
        resolve(answer);
      };
      // Ended by close(), a deadline, or on its own (out of memory): no answer, the next page starts anew.
      const onExit = () => {
        if (this.thread === thread) this.thread = undefined;
        settle(null);
      };
      const onMessage = (answer: PageAnswer) => settle(answer);
      const onError = (error: Error) => {
        log.warn({ url, error: error.message }, 'page reader failed; starting it again');
        this.end(thread);
        settle(null);
      };
      const timer = setTimeout(() => {
        log.warn({ url, ms: this.deadlineMs }, 'page took too long to read');
        this.end(thread);
        settle(null);
      }, this.deadlineMs);
      thread.on('message', onMessage).on('error', onError).on('exit', onExit);
      thread.postMessage(task);
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
