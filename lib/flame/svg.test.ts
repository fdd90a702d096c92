import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { renderFlameSvg, fitText, flameScript, formatSamples, xmlEscape } from './svg.ts';
import { SEARCH_HIGHLIGHT } from './colors.ts';
import { treeFromFolded } from './tree.ts';
import { checkXml } from './xml-check.ts';
import { assertIncludes, assertExcludes } from '../../test/assert-text.ts';

const tree = treeFromFolded(`app;main;std::vector<int, std::allocator<int> >::push_back(int const&);memcpy 30
app;main;parse "quoted" & 'single' 20
app;main;do_syscall_64_[k];ksys_read_[k] 10
node;LazyCompile:*fib_[j] 15
swapper/0;[lost stack: fault];cpu_idle_[k] 1000
tiny;rare 1
`);

/** Strict parse with Python's expat too, when python3 is here (extra check, not required). */
function expatCheck(svg: string): string | null | undefined {
  const run = spawnSync('python3', ['-c', 'import sys,xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())'], { input: svg });
  if (run.error) return undefined; // no python3
  return run.status === 0 ? null : run.stderr.toString();
}

function wellFormed(svg: string): void {
  assert.equal(checkXml(svg), null);
  const expat = expatCheck(svg);
  if (expat !== undefined) assert.equal(expat, null);
}

test('standalone, well-formed, title and total inside', () => {
  const svg = renderFlameSvg(tree, { title: 'CPU <flame> & graph', subtitle: 'host "x"' });
  wellFormed(svg);
  assert.match(svg, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<style>/);
  assert.doesNotMatch(svg, /href=|url\(/);
  assert.doesNotMatch(renderFlameSvg(tree, { title: 't', interactive: false }), /href=|<script|url\(|data-/);
  assertIncludes(svg, 'CPU &lt;flame&gt; &amp; graph');
  assertIncludes(svg, 'host &quot;x&quot;');
  assertIncludes(svg, 'Total: 1,076 samples');
});

test('each frame has a tooltip with samples and percent; names escaped', () => {
  const svg = renderFlameSvg(tree, { title: 't' });
  wellFormed(svg);
  assertIncludes(svg, '<title>all (1,076 samples, 100.00%)</title>');
  assertIncludes(svg, '<title>std::vector&lt;int, std::allocator&lt;int&gt; &gt;::push_back(int const&amp;) (30 samples, 2.79%)</title>');
  assertIncludes(svg, '<title>parse &quot;quoted&quot; &amp; &apos;single&apos; (20 samples, 1.86%)</title>');
  assertIncludes(svg, '<title>cpu_idle (1,000 samples, 92.94%)</title>');
  // Wide frames print their name.
  assertIncludes(svg, '>cpu_idle</text>');
  const frames = svg.match(/<g class="frame/g)!.length;
  assert.equal(frames, 15);
});

test('narrow frames are not drawn; labels are truncated with ..', () => {
  const svg = renderFlameSvg(tree, { title: 't', width: 400, minWidthPx: 1 });
  wellFormed(svg);
  assertExcludes(svg, '<title>rare ', 'a 1-sample frame is 0.35 px wide here');
  assert.equal(fitText('a_very_long_function_name', 60), 'a_ver..');
  assert.equal(fitText('abc', 4), '');
  assert.equal(fitText('short', 200), 'short');
});

test('search highlights matches in magenta and prints the matched share', () => {
  const svg = renderFlameSvg(tree, { title: 't', search: 'MAIN' });
  wellFormed(svg);
  assert.ok(svg.includes(`fill="${SEARCH_HIGHLIGHT}"/><text x="`) || svg.includes(`class="frame match"`), `a matching frame is highlighted (fills used: ${JSON.stringify([...new Set(svg.match(/fill="[^"]*"/g))].slice(0, 20))})`);
  assert.equal(svg.match(/class="frame match"/g)!.length, 1);
  assertIncludes(svg, 'Matched “MAIN”: 5.58% (60 of 1,076 samples)');
  const regex = renderFlameSvg(tree, { title: 't', search: '/<int/' });
  wellFormed(regex);
  assertIncludes(regex, 'Matched “/&lt;int/”');
});

test('flame puts the root at the bottom, icicle at the top', () => {
  const rootY = (svg: string) => Number(/<title>all [^<]*<\/title><rect x="[^"]*" y="([^"]*)"/.exec(svg)![1]);
  const flame = renderFlameSvg(tree, { title: 't' });
  const icicle = renderFlameSvg(tree, { title: 't', icicle: true });
  wellFormed(icicle);
  const frameYs = (svg: string) => [...svg.matchAll(/<g class="frame[^>]*><title>[^<]*<\/title><rect x="[^"]*" y="([^"]*)"/g)].map((m) => Number(m[1]));
  assert.equal(rootY(flame), Math.max(...frameYs(flame)));
  assert.equal(rootY(icicle), Math.min(...frameYs(icicle)));
  assert.ok(rootY(icicle) < rootY(flame), `the icicle's root is at the top (y ${rootY(icicle)}), the flame graph's at the bottom (y ${rootY(flame)})`);
});

test('zoom: the subtree fills the width, ancestors full width and faded', () => {
  const svg = renderFlameSvg(tree, { title: 't', width: 1000, zoomPath: ['app', 'main'] });
  wellFormed(svg);
  assertIncludes(svg, 'zoomed: main (60 samples, 5.58%)');
  const rectOf = (name: string) => /<rect x="([^"]*)" y="[^"]*" width="([^"]*)"/.exec(svg.slice(svg.indexOf(`<title>${name} `)))!;
  assert.equal(rectOf('main')[2], '980');
  assert.equal(rectOf('app')[2], '980');
  assert.match(svg, /<g class="frame parent"[^>]*><title>app /, 'the zoomed frame\'s parents are drawn as parents');
  assertExcludes(svg, '<title>cpu_idle', 'frames outside the zoomed subtree are not drawn');
  // Percentages stay relative to the whole profile.
  assertIncludes(svg, '<title>memcpy (30 samples, 2.79%)</title>');
  // An unknown path zooms to the deepest frame that exists; none -> not zoomed.
  assertIncludes(renderFlameSvg(tree, { title: 't', zoomPath: ['nope'] }), '<title>cpu_idle');
  const partial = renderFlameSvg(tree, { title: 't', zoomPath: ['app', { name: 'main', kind: 'u' }, 'gone'] });
  assertIncludes(partial, 'zoomed: main (60 samples');
  assertIncludes(renderFlameSvg(tree, { title: 't', zoomPath: [{ name: 'app', kind: 'k' }] }), '<title>cpu_idle');
});

test('empty tree and hostile names still give well-formed XML', () => {
  wellFormed(renderFlameSvg({ n: 'all', v: 0 }, { title: '' }));
  const nasty = { n: 'all', v: 2, c: [{ n: 'a\u0001b\uD800]]>--<!--', v: 2, k: 'u' as const }] };
  const svg = renderFlameSvg(nasty, { title: 'x', search: '\u0002' });
  wellFormed(svg);
  assert.equal(xmlEscape('<&>"\''), '&lt;&amp;&gt;&quot;&apos;');
  assert.equal(formatSamples(1234567), '1,234,567');
  assert.equal(formatSamples(1.5), '1.50');
});

test('checkXml rejects what is not well formed', () => {
  assert.notEqual(checkXml('<a><b></a></b>'), null);
  assert.notEqual(checkXml('<a>x & y</a>'), null);
  assert.notEqual(checkXml('<a b=c/>'), null);
  assert.notEqual(checkXml('<a b="1" b="2"/>'), null);
  assert.notEqual(checkXml('<a/><b/>'), null);
  assert.notEqual(checkXml('<a>'), null);
  assert.equal(checkXml('<?xml version="1.0"?>\n<a x="1"><b>&amp;&#60;</b><!-- c --></a>\n'), null);
});

/** The <script> text inside the CDATA section, or undefined. */
function scriptOf(svg: string): string | undefined {
  return /<script type="text\/ecmascript"><!\[CDATA\[([\s\S]*?)\]\]><\/script>/.exec(svg)?.[1];
}

test('interactive by default: frame data, hidden controls, details line and a script that compiles', () => {
  const svg = renderFlameSvg(tree, { title: 't', search: 'main' });
  wellFormed(svg);
  const script = scriptOf(svg);
  assert.ok(script, 'a CDATA script');
  assert.doesNotThrow(() => new Function(script!), 'the script is valid JavaScript');
  assertExcludes(script!, ']]>');
  assert.ok(svg.indexOf('<script') > svg.lastIndexOf('<g class="frame'), `the script runs after the frames are parsed (script at ${svg.indexOf('<script')}, last frame at ${svg.lastIndexOf('<g class="frame')})`);
  assert.match(svg, /<svg [^>]*data-total="1076" data-search="main">/);
  // Controls hidden until the script shows them; a details line for hover.
  assert.match(svg, /<text class="ctl reset-zoom"[^>]*display="none">Reset Zoom<\/text>/);
  assert.match(svg, /<text class="ctl search-ctl"[^>]*display="none">Search<\/text>/);
  assert.match(svg, /<text class="info details"/);
  // Every frame carries its name, samples and parent index; parents come before children.
  const frames = [...svg.matchAll(/<g class="(frame[^"]*)" data-name="([^"]*)" data-samples="([^"]*)" data-parent="([^"]*)"(?: data-fill="([^"]*)")?><title>([^<]*)<\/title>/g)];
  assert.equal(frames.length, 15);
  frames.forEach((m, i) => {
    const parent = Number(m[4]);
    assert.ok(parent < i && (i === 0) === (parent === -1), `frame ${i} parent ${parent}`);
    assert.ok(m[6].startsWith(`${m[2]} (`), 'title starts with the name');
  });
  const byName = (name: string) => frames.find((m) => m[2] === name)!;
  assert.equal(byName('ksys_read')[3], '10');
  assert.equal(frames[Number(byName('ksys_read')[4])][2], 'do_syscall_64');
  // A search highlight keeps the frame's own colour for the script to restore.
  const main = byName('main');
  assert.match(main[1], /match/);
  assert.match(main[5] ?? '', /^rgb\(/);
  assertIncludes(svg, '<title>parse &quot;quoted&quot; &amp; &apos;single&apos; (20 samples, 1.86%)</title>');
});

test('interactive zoomed export: parents of the zoomed subtree link to each other', () => {
  const svg = renderFlameSvg(tree, { title: 't', zoomPath: ['app', 'main'] });
  wellFormed(svg);
  const parents = [...svg.matchAll(/data-name="([^"]*)" data-samples="[^"]*" data-parent="([^"]*)"/g)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(parents.slice(0, 3), [
    ['all', -1],
    ['app', 0],
    ['main', 1],
  ]);
  assert.deepEqual(parents.slice(3).filter(([, p]) => (p as number) < 2), [], 'every frame below main has a parent at main or deeper');
});

test('the script embeds the layout constants', () => {
  const text = flameScript(980, 0.5);
  assert.match(text, /INNER = 980, MINW = 0\.5/);
  assert.doesNotThrow(() => new Function(text));
});

test('colour and tooltip hooks', () => {
  const svg = renderFlameSvg(tree, {
    title: 't',
    frameFill: (node) => (node.n === 'memcpy' ? 'rgb(1,2,3)' : 'rgb(9,9,9)'),
    frameTitle: (node, total) => `${node.n}: ${node.v}/${total}`,
  });
  wellFormed(svg);
  assertIncludes(svg, '<title>memcpy: 30/1076</title><rect x="');
  assert.match(svg, /<title>memcpy: 30\/1076<\/title><rect [^>]*fill="rgb\(1,2,3\)"/);
  assert.equal(svg.match(/fill="rgb\(9,9,9\)"/g)!.length, 14);
});

test('unit us: totals, tooltips and the search share read as time; the script formats µs too', () => {
  // an off-CPU tree: widths are µs of blocked time
  const tree = treeFromFolded('app;main;wait_for_data 1500000\napp;main;poll 250\napp;main;read_[o] 42000\n');
  const svg = renderFlameSvg(tree, { title: 'off-CPU', unit: 'us', search: 'wait' });
  assert.equal(checkXml(svg), null);
  assertIncludes(svg, 'Total: 1.54 s', `total as time: ${svg.match(/Total:[^<]*/)?.[0]}`);
  assertIncludes(svg, '<title>wait_for_data (1.50 s, 97.26%)</title>', `a tooltip in seconds: ${svg.match(/<title>wait[^<]*/)?.[0]}`);
  assertIncludes(svg, '<title>poll (250 µs, 0.02%)</title>', `a tooltip in µs: ${svg.match(/<title>poll[^<]*/)?.[0]}`);
  assertIncludes(svg, '(1.50 s of 1.54 s)', `search share in time: ${svg.match(/Matched[^<]*/)?.[0]}`);
  assert.doesNotMatch(svg.replace(/<script[\s\S]*<\/script>/, ''), /\d samples/, 'no "samples" outside the script');
  assert.match(flameScript(100, 0.1, 'us'), /MICROS = true/);
  assert.match(flameScript(100, 0.1), /MICROS = false/);
});
