// The page of `charrnn explain`: one static HTML file, its style, markup and data inline, its
// script in client.ts. Nothing is loaded from anywhere (no network, no fonts: the system's
// monospace), so it opens from disk in any current browser. Light and dark themes follow
// prefers-color-scheme.

import { CLIENT_JS } from './client';
import type { PagePayload } from './payload';

const CSS = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1a1a1a; --muted: #666; --panel: #f5f5f4; --line: #d6d3d1;
  --accent: #1d4ed8; --cursor: #111; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #18181b; --fg: #e4e4e7; --muted: #a1a1aa; --panel: #232327; --line: #3f3f46; --accent: #93c5fd; --cursor: #fafafa; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, sans-serif; }
header { position: sticky; top: 0; z-index: 2; background: var(--bg); border-bottom: 1px solid var(--line); padding: .5rem 1rem; }
h1 { font-size: 1.1rem; margin: 0 0 .35rem; font-weight: 600; }
h1 small { font-weight: 400; color: var(--muted); }
h2 { font-size: .95rem; margin: .9rem 0 .4rem; }
.controls { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .2rem .6rem; margin: 0; display: flex; gap: .6rem; align-items: center; }
fieldset[disabled] { opacity: .45; }
legend { font-size: .8rem; color: var(--muted); padding: 0 .25rem; }
label { white-space: nowrap; }
select, input, button { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: .05rem .3rem; }
input[type=number] { width: 5.5em; }
button { cursor: pointer; }
button:hover { border-color: var(--accent); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
#legend { display: flex; align-items: center; gap: .5rem; margin-top: .4rem; font-size: .8rem; color: var(--muted); min-height: 1.4rem; }
#legend .bar { width: 16rem; height: .8rem; border: 1px solid var(--line); border-radius: 3px; }
#legend .ticks { display: flex; justify-content: space-between; width: 16rem; }
#legend .bucket { display: inline-flex; align-items: center; gap: .25rem; margin-right: .6rem; }
#legend .sw { display: inline-block; width: .9rem; height: .9rem; border: 1px solid var(--line); border-radius: 2px; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 22rem; gap: 1rem; padding: 1rem; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
#text { font: 14px/1.6 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, "Noto Sans Mono CJK SC", monospace, "Noto Color Emoji"; white-space: pre-wrap; overflow-wrap: anywhere;
  tab-size: 4; margin: 0; }
#text .ch { border-radius: 2px; cursor: default; scroll-margin: calc(var(--hdr, 8rem) + 1rem) 0 2rem; }
#text .ch.cur { outline: 2px solid var(--cursor); outline-offset: 0; }
#text .ch:focus { outline: 2px solid var(--accent); }
#text .vis { color: var(--muted); }
#text .code { font-size: .7em; border: 1px solid var(--line); padding: 0 .1em; color: var(--muted); }
#text .none { box-shadow: inset 0 -2px 0 var(--muted); }
aside { position: sticky; top: calc(var(--hdr, 8rem) + .5rem); align-self: start; max-height: calc(100vh - var(--hdr, 8rem) - 1rem); overflow: auto; font-size: .9rem; }
aside section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; margin-bottom: .75rem; }
aside h2:first-child { margin-top: 0; }
#detail .big { font: 1.6rem/1.2 ui-monospace, monospace; }
#guesses { list-style: none; padding: 0; margin: .3rem 0 0; }
#guesses li { display: grid; grid-template-columns: 3.2rem 1fr 4rem; gap: .4rem; align-items: center; font-family: ui-monospace, monospace; }
#guesses li.hit { font-weight: 700; }
#guesses .p { height: .6rem; background: var(--accent); border-radius: 2px; }
#guesses .pct { text-align: right; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .1rem .3rem; border-bottom: 1px solid var(--line); font-weight: 400; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain button { width: 100%; text-align: left; margin: .1rem 0; font-family: ui-monospace, monospace; font-size: .85rem; }
#status { color: var(--muted); }
`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const BODY = `
<header>
  <h1>charrnn explain <small id="title"></small></h1>
  <div class="controls">
    <fieldset><legend>Colour by</legend>
      <label><input type="radio" name="mode" value="surprise" checked> surprise (bits)</label>
      <label><input type="radio" name="mode" value="rank"> rank (GLTR)</label>
      <label><input type="radio" name="mode" value="neuron"> neuron</label>
    </fieldset>
    <fieldset id="neuron" disabled><legend>Neuron</legend>
      <label>layer <select id="layer"></select></label>
      <label>state <select id="state"></select></label>
      <label>unit <input id="unit" type="number" min="0" value="0"></label>
      <button id="prev" type="button" aria-label="previous unit">&#9664;</button>
      <button id="next" type="button" aria-label="next unit">&#9654;</button>
    </fieldset>
  </div>
  <div id="legend" aria-live="polite"></div>
</header>
<main>
  <section aria-label="The text, each character coloured. Arrow keys move between characters.">
    <p id="status">Loading&hellip; (the page needs JavaScript and a browser with DecompressionStream)</p>
    <div id="text"></div>
  </section>
  <aside>
    <section id="detail" aria-live="polite"><h2>Character</h2><p class="muted">Hover a character, or click one and move with the arrow keys.</p></section>
    <section><h2>Suggested units</h2><p class="muted">Units whose activation follows a feature of the text (Pearson's r).</p><div id="units"></div></section>
    <section id="summary"><h2>Summary</h2></section>
  </aside>
</main>`;

/** The whole page for a payload. */
export function renderPage(payload: PagePayload): string {
  // JSON inside <script>: escape "<" so no "</script>" or "<!--" can end or change the block
  const data = JSON.stringify(payload).replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>charrnn explain: ${escapeHtml(payload.source)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    BODY,
    `<script type="application/json" id="data">${data}</script>`,
    `<script>${CLIENT_JS}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
