/**
 * A standalone flame graph SVG: one string that opens by itself in a browser (xmlns, embedded
 * <style> and, unless `interactive: false`, an embedded <script>; no external references). The
 * CLI's `--format svg` and the dashboard's "Export SVG" both call renderFlameSvg, so both files
 * are the same picture.
 *
 * Like flamegraph.pl: frames are rectangles whose width is their share of the samples, each
 * with a <title> tooltip `name (N samples, P%)`; names are truncated to fit with `..`;
 * search matches are magenta and the matched share is printed; flame (root at the bottom) or
 * icicle (root at the top); a zoomed subtree fills the width with its ancestors drawn full width.
 *
 * Interactive (default): opened by itself in a browser, hovering a frame prints its tooltip on
 * the details line at the bottom, clicking a frame zooms into it (its ancestors full width and
 * faded, everything else hidden; "Reset Zoom", the root or Escape go back to the picture as
 * exported), and "Search" (or Ctrl-F) asks for a query with the dashboard's rules
 * (lib/flame/search.ts: case-insensitive text, or /regex/) and prints the matched share. The
 * script works on the frames in the file: frames narrower than `minWidthPx`, and frames outside
 * a `zoomPath` subtree, were never drawn and stay out. Without scripts (e.g. in an <img>) the
 * controls stay hidden and the file looks the same as the static one.
 *
 * Frame data for the script sits on each `<g class="frame">`: `data-name`, `data-samples`
 * (inclusive), `data-parent` (index, in document order, of the parent frame's <g>; -1 for the
 * first, the root) and `data-fill` (the frame's own colour, when a search highlight replaced it).
 */
import type { FlameNode } from '../protocol.ts';
import { frameColor, SEARCH_HIGHLIGHT } from './colors.ts';
import { compileQuery, searchShare } from './search.ts';
import { findPathPrefix, type PathStep } from './tree.ts';
import { formatMicros } from '../profile-units.ts';

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
  /** Embed the script that makes the file interactive in a browser (see above). Default true. */
  interactive?: boolean;
  /** Colour override: the fill of a frame (default frameColor by name and kind). Search highlights still win. */
  frameFill?: (node: FlameNode, depth: number) => string;
  /** Tooltip override: the <title> text of a frame (default `name (N samples, P%)`); `total` = root samples. */
  frameTitle?: (node: FlameNode, total: number) => string;
  /** Unit of the widths: samples (default), or µs of time (off-CPU and wall profiles: shown as µs/ms/s). */
  unit?: 'samples' | 'us';
}

const FONT_SIZE = 12;
/** Average glyph width as a share of the font size (Verdana-ish, as flamegraph.pl assumes). */
const FONT_WIDTH = 0.59;
const X_PAD = 10;
const BOTTOM_PAD = 10;
/** Room for the details line under the frames (interactive files only). */
const DETAILS_HEIGHT = 20;

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
  /** Index in `placed` of the parent frame, -1 for the first. */
  up: number;
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

  const interactive = options.interactive ?? true;
  const placed: Placed[] = [];
  for (let depth = 0; depth < chain.length - 1; depth++) {
    placed.push({ node: chain[depth], depth, x: X_PAD, w: inner, parent: true, up: depth - 1 });
  }
  let deepest = chain.length - 1;
  const place = (node: FlameNode, depth: number, x: number, up: number): void => {
    const w = node.v * scale;
    if (w < minWidthPx || node.v <= 0) return;
    const index = placed.length;
    placed.push({ node, depth, x, w, parent: false, up });
    if (depth > deepest) deepest = depth;
    let childX = x;
    for (const child of node.c ?? []) {
      place(child, depth + 1, childX, index);
      childX += child.v * scale;
    }
  };
  place(focus, chain.length - 1, X_PAD, chain.length - 2);

  const headerHeight = options.subtitle ? 70 : 52;
  const framesHeight = (deepest + 1) * frameHeight;
  const detailsHeight = interactive ? DETAILS_HEIGHT : 0;
  const height = headerHeight + framesHeight + BOTTOM_PAD + detailsHeight;
  const yOf = (depth: number): number =>
    options.icicle ? headerHeight + depth * frameHeight : headerHeight + framesHeight - (depth + 1) * frameHeight;

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8" standalone="no"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
      (interactive ? ` data-total="${total}"${options.search ? ` data-search="${xmlEscape(options.search)}"` : ''}` : '') +
      '>',
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
      (interactive ? '.frame,.ctl{cursor:pointer}.ctl{fill:#225}.ctl:hover{fill:#c00}.hide{display:none}' : '') +
      '</style>',
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#f8f8f8"/>`);
  out.push(`<text class="title" x="${num(width / 2)}" y="24">${xmlEscape(options.title)}</text>`);
  if (options.subtitle) out.push(`<text class="subtitle" x="${num(width / 2)}" y="42">${xmlEscape(options.subtitle)}</text>`);
  const infoY = options.subtitle ? 60 : 42;
  const amount = (v: number) => (options.unit === 'us' ? formatMicros(v) : `${formatSamples(v)} samples`);
  let info = `Total: ${amount(total)}`;
  if (focus !== tree) info += ` · zoomed: ${focus.n} (${amount(focus.v)}, ${formatPercent(focus.v, total)}%)`;
  out.push(`<text class="info" x="${X_PAD}" y="${infoY}">${xmlEscape(info)}</text>`);
  if (options.search || interactive) {
    let text = '';
    if (options.search) {
      const share = searchShare(tree, options.search);
      text = options.unit === 'us'
        ? `Matched “${options.search}”: ${share.percent.toFixed(2)}% (${amount(share.matchedSamples)} of ${amount(share.totalSamples)})`
        : `Matched “${options.search}”: ${share.percent.toFixed(2)}% (${formatSamples(share.matchedSamples)} of ${formatSamples(share.totalSamples)} samples)`;
    }
    out.push(`<text class="info search" x="${width - X_PAD}" y="${infoY}" text-anchor="end" fill="${SEARCH_HIGHLIGHT}">${xmlEscape(text)}</text>`);
  }
  if (interactive) {
    // Hidden until the script runs: a static view shows no dead controls.
    out.push(`<text class="ctl reset-zoom" x="${X_PAD}" y="24" display="none">Reset Zoom</text>`);
    out.push(`<text class="ctl search-ctl" x="${width - X_PAD}" y="24" text-anchor="end" display="none">Search</text>`);
    out.push(`<text class="info details" x="${X_PAD}" y="${headerHeight + framesHeight + BOTTOM_PAD + 8}"> </text>`);
  }

  for (const { node, depth, x, w, parent, up } of placed) {
    const y = yOf(depth);
    const highlighted = match !== undefined && depth > 0 && match(node.n);
    const ownFill = options.frameFill ? options.frameFill(node, depth) : frameColor(node.n, node.k);
    const fill = highlighted ? SEARCH_HIGHLIGHT : ownFill;
    const tooltip = options.frameTitle
      ? options.frameTitle(node, total)
      : `${node.n} (${amount(node.v)}, ${formatPercent(node.v, total)}%)`;
    const label = fitText(node.n, w);
    const data = interactive
      ? ` data-name="${xmlEscape(node.n)}" data-samples="${node.v}" data-parent="${up}"${highlighted ? ` data-fill="${ownFill}"` : ''}`
      : '';
    out.push(
      `<g class="frame${parent ? ' parent' : ''}${highlighted ? ' match' : ''}"${data}>` +
        `<title>${xmlEscape(tooltip)}</title>` +
        `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(frameHeight - 1)}" rx="2" ry="2" fill="${fill}"/>` +
        (label ? `<text x="${num(x + 3)}" y="${num(y + frameHeight - 5)}">${xmlEscape(label)}</text>` : '') +
        '</g>',
    );
  }
  if (interactive) out.push(`<script type="text/ecmascript"><![CDATA[\n${flameScript(inner, minWidthPx, options.unit ?? 'samples')}\n]]></script>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * The script of an interactive SVG (plain ES2015, no dependencies, no network). It reads the
 * frames from their <g> elements (see the module comment) and only changes attributes, so the
 * file still reads as the picture it was exported as. Exported for the tests.
 */
export function flameScript(innerWidth: number, minWidthPx: number, unit: 'samples' | 'us' = 'samples'): string {
  return `(function () {
'use strict';
var XPAD = ${X_PAD}, INNER = ${num(innerWidth)}, MINW = ${minWidthPx}, FONT = ${FONT_SIZE}, FW = ${FONT_WIDTH}, MICROS = ${unit === 'us'};
var HIGHLIGHT = '${SEARCH_HIGHLIGHT}', NS = 'http://www.w3.org/2000/svg';
var script = document.currentScript;
var svg = (script && script.ownerSVGElement) || document.documentElement;
var total = Number(svg.getAttribute('data-total')) || 0;
var details = svg.querySelector('text.details');
var searchText = svg.querySelector('text.search');
var resetCtl = svg.querySelector('text.reset-zoom');
var searchCtl = svg.querySelector('text.search-ctl');
var frames = [];
var groups = svg.querySelectorAll('g.frame');
for (var i = 0; i < groups.length; i++) {
  var g = groups[i], rect = g.querySelector('rect');
  frames.push({
    g: g, rect: rect, text: g.querySelector('text'), title: g.querySelector('title'),
    name: g.getAttribute('data-name') || '', samples: Number(g.getAttribute('data-samples')) || 0,
    parent: Number(g.getAttribute('data-parent')), cls: g.getAttribute('class') || 'frame',
    x: Number(rect.getAttribute('x')), w: Number(rect.getAttribute('width')),
    y: Number(rect.getAttribute('y')), h: Number(rect.getAttribute('height')),
    fill: g.getAttribute('data-fill') || rect.getAttribute('fill')
  });
}
var query = svg.getAttribute('data-search') || '';

function round(v) { return String(Math.round(v * 100) / 100); }
function fit(name, w) {
  var n = Math.floor((w - 6) / (FONT * FW));
  if (n < 3) return '';
  var chars = Array.from(name);
  return chars.length <= n ? name : chars.slice(0, n - 2).join('') + '..';
}
/** A width as text: samples, or µs as µs/ms/s (lib/profile-units.ts formatMicros). */
function amount(v) {
  if (!MICROS) return samples(v) + ' samples';
  if (v < 1000) return Math.round(v) + ' \\u00b5s';
  var d = function (x) { return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2); };
  return v < 1e6 ? d(v / 1000) + ' ms' : d(v / 1e6) + ' s';
}
function samples(v) {
  var s = Number.isInteger(v) ? String(v) : v.toFixed(2);
  var parts = s.split('.');
  return parts[0].replace(/\\B(?=(\\d{3})+(?!\\d))/g, ',') + (parts[1] ? '.' + parts[1] : '');
}
function show(f, x, w, parent) {
  f.g.classList.remove('hide');
  f.g.classList.toggle('parent', parent);
  f.rect.setAttribute('x', round(x));
  f.rect.setAttribute('width', round(w));
  var label = fit(f.name, w);
  if (label && !f.text) {
    f.text = document.createElementNS(NS, 'text');
    f.text.setAttribute('y', round(f.y + f.h - 4));
    f.g.appendChild(f.text);
  }
  if (f.text) {
    f.text.setAttribute('x', round(x + 3));
    f.text.textContent = label;
  }
}
function hide(f) { f.g.classList.add('hide'); }

function reset() {
  for (var j = 0; j < frames.length; j++) {
    var f = frames[j];
    show(f, f.x, f.w, / parent(?: |$)/.test(f.cls));
  }
  resetCtl.setAttribute('display', 'none');
}
function zoom(index) {
  if (index <= 0) { reset(); return; }
  var focus = frames[index], scale = focus.w > 0 ? INNER / focus.w : 0, ancestor = {}, inside = [];
  for (var p = focus.parent; p >= 0; p = frames[p].parent) ancestor[p] = true;
  for (var j = 0; j < frames.length; j++) {
    var f = frames[j];
    inside[j] = j === index || (f.parent >= 0 && inside[f.parent] === true);
    if (ancestor[j]) show(f, XPAD, INNER, true);
    else if (inside[j] && f.w * scale >= MINW) show(f, XPAD + (f.x - focus.x) * scale, f.w * scale, false);
    else { inside[j] = false; hide(f); }
  }
  resetCtl.removeAttribute('display');
}

function compile(q) {
  var m = /^\\/([\\s\\S]+)\\/([a-z]*)$/.exec(q);
  if (m) {
    try {
      var re = new RegExp(m[1], m[2].replace(/[gyi]/g, '') + 'i');
      return function (name) { return re.test(name); };
    } catch (e) { /* not a valid regex: search the text as typed */ }
  }
  var needle = q.toLowerCase();
  return function (name) { return name.toLowerCase().indexOf(needle) >= 0; };
}
function search(q) {
  query = q;
  var match = q ? compile(q) : null, covered = [], matched = 0;
  for (var j = 0; j < frames.length; j++) {
    var f = frames[j];
    var hit = match !== null && j > 0 && match(f.name);
    var under = f.parent >= 0 && covered[f.parent] === true;
    covered[j] = hit || under;
    if (hit && !under) matched += f.samples;
    f.rect.setAttribute('fill', hit ? HIGHLIGHT : f.fill);
    f.g.classList.toggle('match', hit);
  }
  var percent = total > 0 ? (matched / total) * 100 : 0;
  searchText.textContent = q
    ? 'Matched \\u201c' + q + '\\u201d: ' + percent.toFixed(2) + '% (' + (MICROS ? amount(matched) + ' of ' + amount(total) : samples(matched) + ' of ' + samples(total) + ' samples') + ')'
    : '';
  searchCtl.textContent = q ? 'Reset Search' : 'Search';
}
function askSearch() {
  if (query) { search(''); return; }
  var q = window.prompt('Search frames (text, or /regex/):', '');
  if (q) search(q);
}

function frameOf(target) {
  var g = target && target.closest ? target.closest('g.frame') : null;
  return g ? Array.prototype.indexOf.call(groups, g) : -1;
}
svg.addEventListener('click', function (event) {
  if (event.target === resetCtl) { reset(); return; }
  if (event.target === searchCtl) { askSearch(); return; }
  var index = frameOf(event.target);
  if (index >= 0) zoom(index);
});
svg.addEventListener('mouseover', function (event) {
  var index = frameOf(event.target);
  if (index >= 0) details.textContent = frames[index].title.textContent;
});
svg.addEventListener('mouseout', function (event) {
  if (frameOf(event.target) >= 0) details.textContent = ' ';
});
document.addEventListener('keydown', function (event) {
  if ((event.ctrlKey || event.metaKey) && event.key === 'f') { event.preventDefault(); askSearch(); }
  else if (event.key === 'Escape') reset();
});
searchCtl.removeAttribute('display');
if (query) searchCtl.textContent = 'Reset Search';
})();`;
}
