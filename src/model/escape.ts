/**
 * Escaping for every place an outside string can land: XML text, XML attributes, HTML, a terminal. One module, so the
 * rules cannot drift apart between the feeds, the pages, the OPML writers and the log.
 */

/** Characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR, U+FFFE/U+FFFF, lone surrogates). */
const XML_FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Drops what XML cannot carry; one such character would make a whole document not well-formed. */
export const stripXmlForbidden = (text: string): string => text.replace(XML_FORBIDDEN, '');

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const ATTRIBUTE_ESCAPES: Record<string, string> = {
  ...TEXT_ESCAPES,
  '"': '&quot;',
  "'": '&apos;',
  // Attribute-value normalization would turn these into spaces: keep them as written.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Character data of an XML element. `>` is escaped too, so `]]>` never appears. */
export const escapeXmlText = (text: string): string => stripXmlForbidden(text).replace(/[&<>]/g, (char) => TEXT_ESCAPES[char]!);

/** A double- or single-quoted XML attribute value. */
export const escapeXmlAttribute = (text: string): string => stripXmlForbidden(text).replace(/[&<>"'\t\n\r]/g, (char) => ATTRIBUTE_ESCAPES[char]!);

/** HTML text or a quoted HTML attribute value. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);

// `&` starting a character reference, a named one, or one of the names HTML also decodes without a semicolon.
const ENTITY_LIKE = /<|>|&(?=#|[a-z][a-z0-9]*;|amp|lt|gt|quot|nbsp|copy|reg)/gi;

/**
 * Plain text for a field that some readers show as text and others parse as HTML (an RSS title, author or
 * category). Angle brackets and anything that reads as an entity are escaped as HTML, a lone `&` is left alone:
 * both kinds of reader then show the same words, and neither can find markup in them.
 */
export const escapeHtmlAmbiguous = (text: string): string => text.replace(ENTITY_LIKE, (char) => (char === '<' ? '&lt;' : char === '>' ? '&gt;' : '&amp;'));

/** Characters JSON leaves as they are but a terminal acts on: C1 controls, bidirectional and zero-width marks. */
const TERMINAL_INVISIBLE = /[\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/**
 * A value as JSON for a terminal: control characters escaped by JSON, and those JSON leaves alone but a terminal
 * acts on written as \uXXXX too, so no outside string can move the cursor, recolour or reorder what is shown.
 */
export const terminalJson = (value: unknown, indent?: number): string =>
  (JSON.stringify(value, null, indent) ?? String(value)).replace(TERMINAL_INVISIBLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Text from outside shown on a terminal: its lines and tabs kept, every character a terminal would act on dropped. */
export const terminalText = (text: string): string => stripXmlForbidden(text).replace(/\r/g, '').replace(TERMINAL_INVISIBLE, '');
