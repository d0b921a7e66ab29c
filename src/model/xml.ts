/**
 * A small XML writer for what we publish (feeds, OPML). Every string child is escaped as text and every attribute value as
 * an attribute, so no input can end an element, open one, or close a CDATA section: there is no CDATA at all.
 */
import { escapeXmlAttribute, escapeXmlText } from './escape.js';

export interface XmlElement {
  name: string;
  attributes: ReadonlyArray<readonly [string, string]>;
  children: ReadonlyArray<XmlElement | string>;
}

type Child = XmlElement | string | undefined | null | false;

/** An element; attributes whose value is undefined and children that are empty or absent are left out. */
export function el(name: string, attributes: Record<string, string | number | undefined> = {}, ...children: Array<Child | Child[]>): XmlElement {
  return {
    name,
    attributes: Object.entries(attributes).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)] as const])),
    children: children
      .flat()
      .filter((child): child is XmlElement | string => (typeof child === 'object' ? child !== null : typeof child === 'string' && child !== '')),
  };
}

function write(element: XmlElement, depth: number, out: string[]): void {
  const indent = '  '.repeat(depth);
  const attributes = element.attributes.map(([key, value]) => ` ${key}="${escapeXmlAttribute(value)}"`).join('');
  if (element.children.length === 0) {
    out.push(`${indent}<${element.name}${attributes}/>`);
  } else if (element.children.every((child) => typeof child !== 'string')) {
    out.push(`${indent}<${element.name}${attributes}>`);
    for (const child of element.children) write(child as XmlElement, depth + 1, out);
    out.push(`${indent}</${element.name}>`);
  } else {
    // Mixed or text content is written on one line: indentation inside it would change the text.
    const inline: string[] = [];
    for (const child of element.children) {
      if (typeof child === 'string') inline.push(escapeXmlText(child));
      else {
        const nested: string[] = [];
        write(child, 0, nested);
        inline.push(nested.join(''));
      }
    }
    out.push(`${indent}<${element.name}${attributes}>${inline.join('')}</${element.name}>`);
  }
}

/** The document: an XML declaration and the root element, indented two spaces a level. */
export function serializeXml(root: XmlElement): string {
  const out = ['<?xml version="1.0" encoding="utf-8"?>'];
  write(root, 0, out);
  return `${out.join('\n')}\n`;
}
