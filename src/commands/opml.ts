import type { NewSource } from '../config/edit.js';
import { addSourcesToConfig } from '../config/edit.js';
import { loadConfig } from '../config/load.js';
import { type OpmlFeed, parseOpml, renderSourcesOpml, sourceFromOutline } from '../config/opml.js';
import { UserError } from '../model/errors.js';
import type { Source } from '../model/source.js';
import { CONFIG_OPTION, defineCommand, displayPath, readUserFile, UsageError } from './command.js';

/** What an export leaves out, on stderr: sources not written (without --all), and settings never written. */
function exportNotes(sources: readonly Source[], all: boolean): string[] {
  const ids = (keep: (source: Source) => boolean) => sources.filter(keep).map((source) => source.id);
  const pages = all ? [] : ids((source) => source.scrape !== undefined);
  const credentials = ids((source) => source.credentials !== undefined);
  const network = ids((source) => source.network.kind !== 'public-only');
  return [
    pages.length > 0 &&
      `left out ${pages.join(', ')}: web pages read by scrape rules, not feeds another reader can read (--all writes them too, with their rules)`,
    credentials.length > 0 && `credentials of ${credentials.join(', ')} are not written: give them again after an import`,
    network.length > 0 && `allowPrivateNetwork of ${network.join(', ')} is not written: an import never grants it`,
  ].filter((note): note is string => typeof note === 'string');
}

export const opml = defineCommand({
  summary: 'export the sources as OPML 2.0, or import an OPML file (from Miniflux, FreshRSS, any reader) as sources',
  usage: 'opml export [--all] | opml import FILE [--into YAML] [--json] [--config DIR]',
  options: { ...CONFIG_OPTION, into: { type: 'string' }, json: { type: 'boolean' }, all: { type: 'boolean' } },
  positionals: true,
  async run(values, positionals) {
    const [action, file] = positionals;
    const config = loadConfig(values.config);
    if (action === 'export') {
      process.stdout.write(renderSourcesOpml(config.sources, new Date(), { all: values.all, retention: config.retention.sources }));
      for (const note of exportNotes(config.sources, values.all ?? false)) console.error(note);
      return 0;
    }
    if (action !== 'import' || !file) throw new UsageError('use "opml export" or "opml import FILE"');
    let feeds: OpmlFeed[];
    try {
      feeds = parseOpml(readUserFile(file));
    } catch (error) {
      if (error instanceof UserError) throw new UsageError(`${file}: ${error.message}`);
      throw error;
    }
    const sources: NewSource[] = [];
    const unreadable: Array<{ url: string; reason: string }> = [];
    const notes: Array<{ url: string; note: string }> = [];
    for (const feed of feeds) {
      const read = sourceFromOutline(feed);
      if ('skipped' in read) unreadable.push({ url: feed.xmlUrl, reason: read.skipped });
      else {
        sources.push(read.source);
        notes.push(...read.notes.map((note) => ({ url: feed.xmlUrl, note })));
      }
    }
    const result = addSourcesToConfig(values.config, sources, values.into);
    const added = new Set(result.added.map(({ url }) => url));
    const addedNotes = notes.filter(({ url }) => added.has(url));
    const skipped = [...unreadable, ...result.skipped];
    if (values.json) {
      console.log(JSON.stringify({ file: result.file, feeds: feeds.length, added: result.added, skipped, notes: addedNotes }, null, 2));
      return 0;
    }
    for (const source of result.added) {
      console.log(`added ${source.id}: ${source.url}`);
      for (const { note } of addedNotes.filter(({ url }) => url === source.url)) console.log(`  ${note}`);
    }
    for (const source of skipped) console.log(`skipped ${source.url}: ${source.reason}`);
    console.log(`${result.added.length} added to ${displayPath(result.file)}, ${skipped.length} skipped, of ${feeds.length} feeds in ${file}`);
    return 0;
  },
});
