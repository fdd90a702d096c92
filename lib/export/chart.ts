/**
 * Small helpers shared by the standalone chart SVGs of lib/export (histogram bars, heatmap):
 * axis ticks, the heatmap colour ramp, the SVG frame. Isomorphic, pure.
 */
import { xmlEscape } from '../flame/svg.ts';

export { xmlEscape };

/** A number rounded to 2 decimals, as SVG attribute text. */
export function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Ticks 0, step, 2·step… up to the first >= max, with step 1, 2 or 5 × 10^k (about 5 ticks). */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [0];
  while (ticks[ticks.length - 1] < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

/** An integer with thousands separators. */
export function groupDigits(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Stops of the heatmap ramp (after matplotlib's "inferno", as the dashboard's heatmap uses). */
const RAMP: readonly (readonly [number, number, number])[] = [
  [0, 0, 4],
  [66, 10, 104],
  [147, 38, 103],
  [221, 81, 58],
  [252, 165, 10],
  [252, 255, 164],
];

/** Colour of a value t in [0, 1] on the ramp (dark = few, light yellow = many). */
export function rampColor(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const c = [0, 1, 2].map((k) => Math.round(RAMP[i][k] + (RAMP[i + 1][k] - RAMP[i][k]) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * Colour of a heatmap cell: log scale over [1, max] like the dashboard (a count of 1 is the
 * darkest, `max` the lightest).
 */
export function countColor(count: number, max: number): string {
  const t = max > 1 ? Math.log(Math.max(1, count)) / Math.log(max) : 1;
  return rampColor(t);
}

/** Opening of a standalone chart SVG: XML declaration, root element, style, background, title. */
export function chartHeader(width: number, height: number, title: string, subtitle?: string): string[] {
  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    '<style>' +
      'text{font-family:Verdana,"DejaVu Sans",sans-serif;font-size:11px;fill:#222}' +
      '.title{font-size:16px;text-anchor:middle}.subtitle{font-size:12px;fill:#555;text-anchor:middle}' +
      '.axis line,.axis path{stroke:#444;stroke-width:1;fill:none}.grid{stroke:#ddd;stroke-width:1}' +
      '.axis-title{font-size:12px;text-anchor:middle}.empty{font-size:13px;fill:#777;text-anchor:middle}' +
      '</style>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="${num(width / 2)}" y="22">${xmlEscape(title)}</text>`,
    ...(subtitle ? [`<text class="subtitle" x="${num(width / 2)}" y="40">${xmlEscape(subtitle)}</text>`] : []),
  ];
}
