/**
 * A standalone flame graph SVG: one string that opens by itself in a browser (xmlns, embedded
 * <style>, no scripts, no external references). The CLI's `--format svg` and the dashboard's
 * "Export SVG" both call renderFlameSvg, so both files are the same picture.
 *
 * Like flamegraph.pl: frames are rectangles whose width is their share of the samples, each
 * with a <title> tooltip `name (N samples, P%)`; names are truncated to fit with `..`;
 * search matches are magenta and the matched share is printed; flame (root at the bottom) or
 * icicle (root at the top); a zoomed subtree fills the width with its ancestors drawn full width.
 */
import type { FlameNode } from '../protocol.ts';
import { frameColor, SEARCH_HIGHLIGHT } from './colors.ts';
import { compileQuery, searchShare } from './search.ts';
import { findPathPrefix, type PathStep } from './tree.ts';

export interface FlameSvgOptions {
  /** Printed at the top, e.g. 'CPU flame graph'. */
  title: string;
  /** Second line, e.g. the host, the window and the view. */
  subtitle?: string;
  /** Image width in px. Default 1200. */
  width?: number;
  /** Height of one frame in px. Default 16. */
  frameHeight?: number;
  /** Root at the top instead of the bottom. Default false. */
  icicle?: boolean;
  /** Highlight frames matching this query (see lib/flame/search.ts) and print their share. */
  search?: string;
  /** Frames narrower than this (px) are not drawn. Default 0.1. */
  minWidthPx?: number;
  /**
   * Frames below the root down to the zoomed frame, as names (e.g. ['node', 'main']) or
   * {name, kind} steps. That subtree fills the width; its ancestors are drawn full width
   * (faded). When the path is only partly in the tree, the deepest frame found is zoomed.
   */
  zoomPath?: readonly PathStep[];
}

const FONT_SIZE = 12;
/** Average glyph width as a share of the font size (Verdana-ish, as flamegraph.pl assumes). */
const FONT_WIDTH = 0.59;
const X_PAD = 10;
const BOTTOM_PAD = 10;

/** Replaces characters XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/F) with U+FFFD. */
export function xmlSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  return xmlSafe(text).replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/** An integer with thousands separators (locale independent); fractions keep 2 decimals. */
export function formatSamples(value: number): string {
  const rounded = Number.isInteger(value) ? String(value) : value.toFixed(2);
  const [int, frac] = rounded.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac ? `${grouped}.${frac}` : grouped;
}

export function formatPercent(part: number, whole: number): string {
  return whole > 0 ? ((part / whole) * 100).toFixed(2) : '0.00';
}

/** The name cut to fit `widthPx`, ending in `..` when cut; '' when not even 3 characters fit. */
export function fitText(name: string, widthPx: number, fontSize = FONT_SIZE): string {
  const fit = Math.floor((widthPx - 6) / (fontSize * FONT_WIDTH));
  if (fit < 3) return '';
  const chars = Array.from(name);
  if (chars.length <= fit) return name;
  return chars.slice(0, fit - 2).join('') + '..';
}

interface Placed {
  node: FlameNode;
  depth: number;
  x: number;
  w: number;
  /** An ancestor of the zoomed frame, drawn full width. */
  parent: boolean;
}

function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export function renderFlameSvg(tree: FlameNode, options: FlameSvgOptions): string {
  const width = Math.max(200, options.width ?? 1200);
  const frameHeight = Math.max(8, options.frameHeight ?? 16);
  const minWidthPx = options.minWidthPx ?? 0.1;
  const total = tree.v;
  const match = options.search ? compileQuery(options.search) : undefined;

  // Zoom: the chain from the root to the zoomed node.
  const chain = findPathPrefix(tree, options.zoomPath ?? []);
  const focus = chain[chain.length - 1];
  const inner = width - 2 * X_PAD;
  const scale = focus.v > 0 ? inner / focus.v : 0;

  const placed: Placed[] = [];
  for (let depth = 0; depth < chain.length - 1; depth++) {
    placed.push({ node: chain[depth], depth, x: X_PAD, w: inner, parent: true });
  }
  let deepest = chain.length - 1;
  const place = (node: FlameNode, depth: number, x: number): void => {
    const w = node.v * scale;
    if (w < minWidthPx || node.v <= 0) return;
    placed.push({ node, depth, x, w, parent: false });
    if (depth > deepest) deepest = depth;
    let childX = x;
    for (const child of node.c ?? []) {
      place(child, depth + 1, childX);
      childX += child.v * scale;
    }
  };
  place(focus, chain.length - 1, X_PAD);

  const headerHeight = options.subtitle ? 70 : 52;
  const framesHeight = (deepest + 1) * frameHeight;
  const height = headerHeight + framesHeight + BOTTOM_PAD;
  const yOf = (depth: number): number =>
    options.icicle ? headerHeight + depth * frameHeight : headerHeight + framesHeight - (depth + 1) * frameHeight;

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8" standalone="no"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  out.push(
    '<style>' +
      'text{font-family:Verdana,"DejaVu Sans",sans-serif;font-size:' + FONT_SIZE + 'px;fill:#000}' +
      '.title{font-size:17px;text-anchor:middle}' +
      '.subtitle{font-size:12px;fill:#555;text-anchor:middle}' +
      '.info{font-size:12px;fill:#333}' +
      '.frame rect{stroke:#fff;stroke-width:0.5}' +
      '.frame:hover rect{stroke:#000;stroke-width:1}' +
      '.parent rect{opacity:0.6}' +
      '</style>',
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#f8f8f8"/>`);
  out.push(`<text class="title" x="${num(width / 2)}" y="24">${xmlEscape(options.title)}</text>`);
  if (options.subtitle) out.push(`<text class="subtitle" x="${num(width / 2)}" y="42">${xmlEscape(options.subtitle)}</text>`);
  const infoY = options.subtitle ? 60 : 42;
  let info = `Total: ${formatSamples(total)} samples`;
  if (focus !== tree) info += ` · zoomed: ${focus.n} (${formatSamples(focus.v)} samples, ${formatPercent(focus.v, total)}%)`;
  out.push(`<text class="info" x="${X_PAD}" y="${infoY}">${xmlEscape(info)}</text>`);
  if (options.search) {
    const share = searchShare(tree, options.search);
    const text = `Matched “${options.search}”: ${share.percent.toFixed(2)}% (${formatSamples(share.matchedSamples)} of ${formatSamples(share.totalSamples)} samples)`;
    out.push(`<text class="info search" x="${width - X_PAD}" y="${infoY}" text-anchor="end" fill="${SEARCH_HIGHLIGHT}">${xmlEscape(text)}</text>`);
  }

  for (const { node, depth, x, w, parent } of placed) {
    const y = yOf(depth);
    const highlighted = match !== undefined && depth > 0 && match(node.n);
    const fill = highlighted ? SEARCH_HIGHLIGHT : frameColor(node.n, node.k);
    const tooltip = `${node.n} (${formatSamples(node.v)} samples, ${formatPercent(node.v, total)}%)`;
    const label = fitText(node.n, w);
    out.push(
      `<g class="frame${parent ? ' parent' : ''}${highlighted ? ' match' : ''}">` +
        `<title>${xmlEscape(tooltip)}</title>` +
        `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(frameHeight - 1)}" rx="2" ry="2" fill="${fill}"/>` +
        (label ? `<text x="${num(x + 3)}" y="${num(y + frameHeight - 5)}">${xmlEscape(label)}</text>` : '') +
        '</g>',
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
