import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../model/errors.js';

const SCHEMA = fileURLToPath(new URL('../../schema/config.schema.json', import.meta.url));

const SOURCES = `# Wirefeed sources. Every *.yml file in this folder is merged; see README.md and docs/queries.md.
sources:
  # One entry per feed: RSS 0.9x/1.0/2.0, Atom or JSON Feed.
  - id: japantoday                 # lower-case letters, digits and "-"; unique
    url: https://japantoday.com/feed
    title: Japan Today             # optional
    every: 15m                     # optional poll interval (default 15m, at least worker.minInterval: 1m); auto: as often as its items come
    # tags: [japan]                # optional labels, for source:japan in queries
    # priority: 10                 # optional: this outlet's version represents a story it shares with others
    # shortUrlHosts: [jpt.news]    # optional: the outlet's own short-link host
    # allowPrivateNetwork: true    # only for feeds on your own network
    # fullText: true               # optional: read short items' articles from their pages
    # exclude: 'title:sponsored'   # optional: items matching this query are not stored (keep: only those matching)
    # username: newsroom           # optional: for a feed behind a login, sent to its own site only
    # password: \${WIRE_PASSWORD}   # \${NAME} reads an environment variable
    # paused: true                 # optional: not fetched for now; its stories stay
    # quietAfter: 2d               # optional: "quiet" after 2 days without a new item (default: judged by its own pace)
  # A web page that lists news without a feed, read by CSS selectors (wirefeed scrape URL --items CSS tries them):
  # - id: jiji-politics
  #   url: https://jen.jiji.com/jc/eng?g=pol
  #   scrape: { items: 'ul.news-list > li', date: .date, summary: .lead, timeZone: Asia/Tokyo }
  # Or the JSON behind such a page, read by dot paths (wirefeed scrape URL --format json --items PATH):
  # - id: broadcaster-latest
  #   url: https://news.example.jp/api/latest.json
  #   scrape: { format: json, items: channel.item, summary: description, timeZone: Asia/Tokyo }

# Optional settings (defaults shown):
# fetch:
#   timeout: 20s
#   maxSize: 15MiB
#   perHost: 2
#   concurrency: 8
#   every: 15m                     # the sources' poll interval; auto: each as often as its items come
#   proxy: http://proxy.example:3128   # default: the environment's HTTPS_PROXY and the rest; socks5://, socks5h:// (Tor) too
#   websub: true                   # feeds whose hub pushes are fetched at once (needs publish.publicUrl)
# publish:
#   publicUrl: https://feeds.example.org
#   maxAge: 5m
#   token: \${WIREFEED_TOKEN}     # on a public address: readers give it (?token=, or as a password)
#   timeZone: Asia/Tokyo           # the days of the daily digests (default UTC)
# worker:
#   lease: 20s
#   minInterval: 1m
#   alerts:                        # told when a source fails, goes quiet or goes, and when it is back (needs publish.publicUrl)
#     url: https://ntfy.sh/your-private-topic
#     format: ntfy                 # or jsonfeed (the default), slack, discord, apprise
# retention:
#   fetchLog: 30d
#   clustering: 30d
#   items: 180d
# Every key and its default: docs/configuration.md
`;

const TOPICS = `# Topic feeds, served as /topics/<slug>.rss, .atom and .json. Query language: docs/queries.md.
topics:
  - slug: japan-us-security
    title: Japan–US security
    description: The Japan–US alliance, defense talks and the US military in Japan.
    query: 'japan AND ("united states" OR u.s. OR pentagon) AND (defen* OR security OR military)'
    # exclude: 'category:sports'   # optional: leave out what matches this
    # language: en                 # optional
    # limit: 50                    # optional: entries per feed
    # timeZone: Asia/Tokyo         # optional: the days of its daily digest
    # webhook:                     # optional: POST each new story here (needs publish.publicUrl)
    #   url: https://automation.example.org/hooks/security
    #   secret: \${WIREFEED_WEBHOOK_SECRET}
`;

/** Writes a starter config folder with commented examples; refuses to touch a folder that already has YAML files. */
export function initConfig(dir: string): string[] {
  const present = existsSync(dir) ? readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)) : [];
  if (present.length > 0) {
    throw new UserError(`${dir} already holds ${present.join(', ')}; not overwriting: edit those files, or choose a new folder with --config`);
  }
  mkdirSync(dir, { recursive: true });
  const header = `# yaml-language-server: $schema=${relative(dir, SCHEMA)}\n`;
  const files = { 'sources.yml': SOURCES, 'topics.yml': TOPICS };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), header + text);
  return Object.keys(files).map((name) => join(dir, name));
}
