import { addSourcesToConfig, tagsFor } from '../config/edit.js';
import { loadConfig } from '../config/load.js';
import { type OpmlFeed, parseOpml, renderSourcesOpml } from '../config/opml.js';
import { UserError } from '../model/errors.js';
import { CONFIG_OPTION, defineCommand, displayPath, readUserFile, UsageError } from './command.js';

export const opml = defineCommand({
  summary: 'export the sources as OPML 2.0, or import an OPML file (from Miniflux, FreshRSS, any reader) as sources',
  usage: 'opml export | opml import FILE [--into YAML] [--json] [--config DIR]',
  options: { ...CONFIG_OPTION, into: { type: 'string' }, json: { type: 'boolean' } },
  positionals: true,
  async run(values, positionals) {
    const [action, file] = positionals;
    const config = loadConfig(values.config);
    if (action === 'export') {
      process.stdout.write(renderSourcesOpml(config.sources, new Date()));
      const pages = config.sources.filter((source) => source.scrape).map((source) => source.id);
      if (pages.length > 0) console.error(`left out ${pages.join(', ')}: web pages read by scrape rules, not feeds another reader can read`);
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
    const result = addSourcesToConfig(
      values.config,
      feeds.map((feed) => ({ url: feed.xmlUrl, title: feed.title, tags: tagsFor(feed.categories) })),
      values.into,
    );
    if (values.json) {
      console.log(JSON.stringify({ file: result.file, feeds: feeds.length, added: result.added, skipped: result.skipped }, null, 2));
      return 0;
    }
    for (const added of result.added) console.log(`added ${added.id}: ${added.url}`);
    for (const skipped of result.skipped) console.log(`skipped ${skipped.url}: ${skipped.reason}`);
    console.log(`${result.added.length} added to ${displayPath(result.file)}, ${result.skipped.length} skipped, of ${feeds.length} feeds in ${file}`);
    return 0;
  },
});
