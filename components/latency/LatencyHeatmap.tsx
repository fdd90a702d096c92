'use client';
/**
 * Latency heatmap: one column per interval (newest at the right, scrolling), one row per
 * log-linear sub-bucket (log2 bucket when the data spans too many; lib/latency-view.ts
 * heatmapRows), short latencies at the bottom, colour = count on a log scale (d3 interpolateInferno).
 * As wide as its container (measured), so the newest columns at the right edge are never cut off.
 */
import { useEffect, useRef, useState } from 'react';
import * as d3 from 'd3';
import { formatBound, type TimeUnit } from '../../lib/histogram.ts';
import { HEATMAP_COLUMNS, heatmapMax, heatmapRows, type HeatmapColumn } from '../../lib/latency-view.ts';
import { LATENCY_TEST_IDS } from '../../lib/test-ids.ts';

const HEIGHT = 160;
const LEFT = 64;
const BOTTOM = 18;
const TOP = 6;

export function LatencyHeatmap({ columns, unit, width: fixedWidth }: { columns: readonly HeatmapColumn[]; unit: TimeUnit; width?: number }) {
  const ref = useRef<SVGSVGElement | null>(null);
  const box = useRef<HTMLDivElement | null>(null);
  const [measured, setMeasured] = useState(560);
  const width = fixedWidth ?? measured;

  useEffect(() => {
    const element = box.current;
    if (fixedWidth !== undefined || !element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const w = Math.floor(entry.contentRect.width);
      if (w > LEFT + 40) setMeasured(w);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [fixedWidth]);

  useEffect(() => {
    const svg = d3.select(ref.current);
    svg.selectAll('*').remove();
    const scheme = heatmapRows(columns);
    if (!scheme) return;
    const rows = scheme.rows;
    const x = d3
      .scaleBand<number>()
      .domain(d3.range(HEATMAP_COLUMNS))
      .range([LEFT, width])
      .paddingInner(0.05);
    const y = d3
      .scaleBand<number>()
      .domain(rows)
      .range([HEIGHT - BOTTOM, TOP])
      .paddingInner(0.05);
    const max = heatmapMax(columns, scheme);
    const colour = d3.scaleSequentialLog(d3.interpolateInferno).domain([1, Math.max(2, max)]);
    const offset = HEATMAP_COLUMNS - columns.length; // newest at the right edge
    const cells = columns.flatMap((c, ci) => rows.map((r) => ({ ci, r, n: scheme.count(c, r), endMs: c.endMs })).filter((d) => d.n > 0));
    svg
      .append('g')
      .selectAll('rect')
      .data(cells)
      .join('rect')
      .attr('data-testid', LATENCY_TEST_IDS.heatmapCell)
      .attr('data-count', (d) => d.n)
      .attr('x', (d) => x(d.ci + offset) ?? 0)
      .attr('y', (d) => y(d.r) ?? 0)
      .attr('width', x.bandwidth())
      .attr('height', y.bandwidth())
      .attr('fill', (d) => colour(d.n))
      .append('title')
      .text((d) => `${new Date(d.endMs).toLocaleTimeString()}  ${formatBound(scheme.low(d.r), unit)}–${formatBound(scheme.high(d.r), unit)} ${unit}: ${d.n}`);
    const every = Math.max(1, Math.ceil(rows.length / 6));
    svg
      .append('g')
      .attr('transform', `translate(${LEFT - 2},0)`)
      .call(
        d3
          .axisLeft(y)
          .tickValues(rows.filter((_, i) => i % every === 0))
          .tickFormat((r) => `${formatBound(scheme.low(r as number), unit)} ${unit === 'us' ? 'µs' : unit}`)
          .tickSizeOuter(0),
      )
      .attr('class', 'text-slate-400');
    svg
      .append('text')
      .attr('x', width)
      .attr('y', HEIGHT - 4)
      .attr('text-anchor', 'end')
      .attr('class', 'fill-slate-500 text-[10px]')
      .text(`last ${columns.length} s → now`);
  }, [columns, unit, width]);

  return (
    <div ref={box} className="min-w-0">
      <svg ref={ref} width={width} height={HEIGHT} role="img" aria-label="Latency heatmap" data-testid={LATENCY_TEST_IDS.heatmap} data-columns={columns.length} className="block" />
    </div>
  );
}
