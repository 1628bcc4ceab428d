// The page of `charrnn explain` in a real browser: Debian's chromium driven by playwright-core
// (headless, no sandbox, no GPU, no background networking). The page opens from disk and asks
// for nothing else; every code point is one span (Czech, emoji, CJK, tabs and newlines shown
// visibly); hovering a character shows the guesses --json has for it; the keyboard moves the
// cursor; the neuron view recolours the text when the unit changes; the dark theme changes the
// colours. Screenshots are kept in test/artifacts/ (ignored by git).
// Without /usr/bin/chromium (.ci/run installs it) these tests are reported skipped, by name.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CZECH_LINE, makeTmp, ok, removeTmp, ROOT, shakespeare, trainTiny } from './cli-helpers';
import { pageData, unpack } from './explain-helpers';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`explain browser tests SKIPPED: ${CHROMIUM} is missing (apt-get install chromium)`);
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const EXTRA = '"quoted words" (and (nested) parens)\tafter a tab 漢字かな 😀🦀\n';
const TEXT = shakespeare(600) + CZECH_LINE + EXTRA + shakespeare(1400).slice(600);

let dir: string;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const errors: string[] = [];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let doc: any;

describe.skipIf(!HAVE_CHROMIUM)('the explain page in chromium', () => {
  beforeAll(async () => {
    dir = makeTmp();
    writeFileSync(join(dir, 'train.txt'), shakespeare(8000) + (CZECH_LINE + EXTRA).repeat(40));
    writeFileSync(join(dir, 'text.txt'), TEXT);
    trainTiny(dir, 'train.txt', 'ck');
    doc = JSON.parse(ok(['explain', 'text.txt', '--checkpoint', 'ck/latest.json', '-o', 'page.html', '--json'], dir).stdout);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('file://' + join(dir, 'page.html'));
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  });
  afterAll(async () => {
    await browser?.close();
    removeTmp(dir);
  });

  const spanText = (i: number) => page.locator('#text .ch').nth(i).textContent();
  // browser-side code as strings: the project type-checks for Node, without the DOM library
  const backgrounds = (from: number, n: number) =>
    page.evaluate<string[]>(`[...document.querySelectorAll('#text .ch')].slice(${from}, ${from + n}).map((e) => getComputedStyle(e).backgroundColor)`);
  const bodyBackground = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
  const cursor = () => page.evaluate<number>('document.activeElement.ci');
  const shot = async (name: string) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    await page.screenshot({ path });
    console.log(`screenshot: ${path}`);
  };

  it('opens from disk with no other request and no script error; one span per code point, shown visibly', async () => {
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    const cps = [...TEXT];
    expect(await page.locator('#text .ch').count()).toBe(cps.length);
    const at = (ch: string) => cps.indexOf(ch);
    expect(await spanText(at('😀'))).toBe('😀'); // an astral code point stays whole
    expect(await spanText(at('🦀'))).toBe('🦀');
    expect(await spanText(at('漢'))).toBe('漢');
    expect(await spanText(at('ř'))).toBe('ř');
    expect(await spanText(at('\t'))).toMatch(/^⇥/);
    expect(await spanText(at('\n'))).toBe('↵');
    // newlines break the lines: the character after one starts further down
    const [a, b] = await page.$$eval('#text .ch', (els, i) => [els[i].getBoundingClientRect().top, els[i + 1].getBoundingClientRect().top], at('\n'));
    expect(b).toBeGreaterThan(a);
    expect(await page.locator('#nats').textContent()).toBe(doc.natsPerChar.toFixed(4));
  });

  it('hovering a character shows the guesses --json has for it', async () => {
    const i = 700;
    await page.locator('#text .ch').nth(i).hover();
    await expect.poll(() => page.locator('#detail h2').textContent()).toBe(`Character ${i + 1} of ${doc.chars}`);
    const rows = await page.locator('#guesses li').allTextContents();
    expect(rows).toHaveLength(doc.top);
    // the page shows a newline as U+21B5 and a tab as U+21E5 (client.ts, shown())
    const visible = (c: string) => (c === '\n' ? '\u21b5' : c === '\t' ? '\u21e5' : c);
    const want = doc.characters[i].top.map((g: { char: string; p: number }) => `'${visible(g.char)}'${(g.p * 100).toFixed(1)}%`);
    expect(rows.map((r) => r.replace(/\s+(?=\d)/, ''))).toEqual(want);
    await shot('explain-surprise.png');
  });

  it('the arrow keys move the cursor along the text and between lines', async () => {
    await page.locator('#text .ch').nth(10).click();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('#detail h2').textContent()).toBe(`Character 12 of ${doc.chars}`);
    expect(await cursor()).toBe(11);
    await page.keyboard.press('ArrowDown');
    const line2 = [...TEXT].indexOf('\n') + 1;
    expect(await cursor()).toBe(line2 + 11); // the same column of the next line
    await page.keyboard.press('ArrowUp');
    expect(await cursor()).toBe(11);
    await page.keyboard.press('End');
    expect(await cursor()).toBe(line2 - 1); // the newline ends the line
  });

  it('the neuron view colours by the unit chosen, and another unit recolours the text', async () => {
    const surprise = await backgrounds(0, 400);
    await page.locator('#units button').first().click();
    expect(await page.locator('input[name=mode][value=neuron]').isChecked()).toBe(true);
    const first = await backgrounds(0, 400);
    expect(first).not.toEqual(surprise);
    // the value shown is --json's for that unit, within the quantisation step and 3 decimals
    const u = doc.units[0];
    await page.locator('#text .ch').nth(120).hover();
    const shown = Number(/after this character: (-?\d+\.\d+)/.exec((await page.locator('#detail').textContent())!)![1]);
    const data = pageData(join(dir, 'page.html'));
    const k = data.traces.findIndex((t: { layer: number; state: string }) => t.layer === u.layer && t.state === u.state);
    const scale = unpack(data.scales, Float32Array)[k * data.H + u.unit];
    expect(Math.abs(shown - doc.characters[120].units[0])).toBeLessThanOrEqual(scale / (2 * data.levels) + 5e-4 + 1e-6);
    const u0 = await page.locator('#unit').inputValue();
    await page.locator('#next').click();
    expect(await page.locator('#unit').inputValue()).toBe(String((Number(u0) + 1) % doc.model.hidden));
    const second = await backgrounds(0, 400);
    expect(second).not.toEqual(first);
    expect(new Set(second).size).toBeGreaterThan(3); // a scale, not one colour
    await page.locator('#text .ch').nth(120).hover();
    await expect.poll(() => page.locator('#detail').textContent()).toMatch(/unit \d+ after this character: -?\d\.\d{3}/);
    await shot('explain-neuron.png');
  });

  it('follows the dark theme', async () => {
    const light = await backgrounds(0, 50);
    const bodyLight = await bodyBackground();
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(bodyBackground).not.toBe(bodyLight);
    expect(await backgrounds(0, 50)).not.toEqual(light);
    await shot('explain-dark.png');
  });
});
