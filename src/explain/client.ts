// The page's script (browser JavaScript, kept as a string: the project compiles for Node).
// It inflates the data (DecompressionStream), draws one span per code point, colours them by
// surprise, GLTR rank or one unit's activation, and shows the guesses of the character under
// the mouse or the keyboard cursor. No template literals inside: this is a String.raw.
//
// Shape legend: N characters, K guesses, H hidden, S state traces (layers x h|c).

export const CLIENT_JS = String.raw`
'use strict';
(async function () {
  var D = JSON.parse(document.getElementById('data').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var N = D.N, K = D.K, H = D.H;

  async function inflate(b64) {
    var bin = atob(b64), u = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    var s = new Blob([u]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return new Response(s).arrayBuffer();
  }
  var ids = new Int32Array(await inflate(D.ids));        // (N)
  var loss = new Float32Array(await inflate(D.loss));    // (N) nats, NaN at 0
  var rank = new Int32Array(await inflate(D.rank));      // (N)
  var topIds = new Int32Array(await inflate(D.topIds));  // (N, K)
  var topP = new Uint16Array(await inflate(D.topP));     // (N, K) p * 65535
  var scales = new Float32Array(await inflate(D.scales)); // (S, H)
  var acts = new Int8Array(await inflate(D.acts));       // (S, H, N) q in [-Q, Q]
  var Q = D.levels;

  // ---- characters, shown visibly whatever they are ----
  function hex(cp) { var h = cp.toString(16).toUpperCase(); while (h.length < 4) h = '0' + h; return 'U+' + h; }
  function shown(cp) {
    var ch = String.fromCodePoint(cp);
    if (cp === 10) return { t: '\u21b5', cls: 'vis', after: '\n' };
    if (cp === 9) return { t: '\u21e5   ', cls: 'vis' };
    // other control characters in caret notation (^M for CR, ^? for DEL): plain ASCII, so any
    // font shows them, where the Control Pictures block (U+2400) is often missing
    if (cp < 32) return { t: '^' + String.fromCharCode(64 + cp), cls: 'code' };
    if (cp === 127) return { t: '^?', cls: 'code' };
    if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u.test(ch)) return { t: hex(cp), cls: 'code' };
    if (/\p{M}/u.test(ch)) return { t: '\u25cc' + ch, cls: '' };
    if (cp !== 32 && /\p{Zs}/u.test(ch)) return { t: '\u2423', cls: 'vis' };
    return { t: ch, cls: '' };
  }
  function glyph(cp) { var t = shown(cp).t; return "'" + (cp === 9 ? t.trim() : t) + "'"; }
  function label(cp) { return glyph(cp) + ' ' + hex(cp); }

  var text = $('text'), spans = new Array(N), frag = document.createDocumentFragment();
  for (var i = 0; i < N; i++) {
    var cp = D.vocab[ids[i]], v = shown(cp), sp = document.createElement('span');
    sp.className = 'ch' + (v.cls ? ' ' + v.cls : '') + (i === 0 ? ' none' : '');
    sp.textContent = v.t;
    sp.tabIndex = -1;
    sp.ci = i;
    spans[i] = sp;
    frag.appendChild(sp);
    if (v.after) frag.appendChild(document.createTextNode(v.after));
  }
  text.appendChild(frag);
  spans[0].tabIndex = 0;
  $('status').textContent = N + ' characters of ' + D.source + ' through ' + D.checkpoint +
    ' (' + D.model.model.toUpperCase() + ', ' + D.model.layers + ' \u00d7 ' + D.model.hidden + ')';
  $('title').textContent = D.source;

  // ---- colours: palettes of 255 steps for the theme in use ----
  var dark = window.matchMedia('(prefers-color-scheme: dark)');
  function ramp(stops) {
    var out = [];
    for (var k = 0; k < 255; k++) {
      var x = k / 254 * (stops.length - 1), a = Math.min(Math.floor(x), stops.length - 2), f = x - a, c = [];
      for (var m = 0; m < 3; m++) c.push(Math.round(stops[a][m] + (stops[a + 1][m] - stops[a][m]) * f));
      out.push('rgb(' + c.join(',') + ')');
    }
    return out;
  }
  var PAL = {};
  function palettes() {
    var d = dark.matches;
    PAL.heat = ramp(d ? [[24, 24, 27], [92, 72, 20], [150, 70, 25], [160, 30, 40]]
                      : [[255, 255, 255], [255, 236, 150], [253, 160, 80], [240, 85, 85]]);
    PAL.div = ramp(d ? [[40, 80, 160], [24, 24, 27], [160, 35, 45]]
                     : [[90, 150, 220], [255, 255, 255], [235, 90, 90]]);
    PAL.rank = d ? ['#1f5f2f', '#6b5b12', '#7a2a1f', '#5b2a7a'] : ['#b7efc5', '#fff1a8', '#ffb199', '#dcc4f5'];
  }
  var MAXBITS = 10;
  var RANKS = [[0, 'top guess'], [2, 'top 3'], [9, 'top 10'], [Infinity, 'beyond']];
  function rankBucket(r) { for (var b = 0; b < RANKS.length; b++) if (r <= RANKS[b][0]) return b; return 3; }

  var mode = 'surprise', trace = 0, unit = 0;
  function unitValue(i) { return acts[(trace * H + unit) * N + i] / Q * scales[trace * H + unit]; }
  function colour() {
    var i, base = (trace * H + unit) * N;
    if (mode === 'surprise') {
      for (i = 1; i < N; i++) spans[i].style.backgroundColor = PAL.heat[Math.min(254, Math.round(loss[i] / Math.LN2 / MAXBITS * 254))];
    } else if (mode === 'rank') {
      for (i = 1; i < N; i++) spans[i].style.backgroundColor = PAL.rank[rankBucket(rank[i])];
    }
    if (mode === 'neuron') for (i = 0; i < N; i++) spans[i].style.backgroundColor = PAL.div[Math.round(acts[base + i] / Q * 127) + 127];
    else spans[0].style.backgroundColor = '';
    legend();
  }
  function bar(pal, ticks) {
    var g = [], k;
    for (k = 0; k < 255; k += 32) g.push(pal[k]);
    g.push(pal[254]);
    return '<div><div class="bar" style="background:linear-gradient(to right,' + g.join(',') + ')"></div>' +
      '<div class="ticks">' + ticks.map(function (t) { return '<span>' + t + '</span>'; }).join('') + '</div></div>';
  }
  function legend() {
    var L = $('legend');
    if (mode === 'surprise') L.innerHTML = '<span>\u2212log\u2082 p of each character:</span>' + bar(PAL.heat, ['0', '2', '4', '6', '8', '\u2265 10 bits']);
    else if (mode === 'rank') L.innerHTML = '<span>Rank of the true character among the guesses:</span>' + RANKS.map(function (r, b) {
      return '<span class="bucket"><span class="sw" style="background:' + PAL.rank[b] + '"></span>' + r[1] + '</span>'; }).join('');
    else {
      var t = D.traces[trace], sc = scales[trace * H + unit], f = function (x) { return (x * sc).toFixed(t.state === 'h' ? 0 : 2); };
      L.innerHTML = '<span>Layer ' + t.layer + ' ' + t.state + ' unit ' + unit + ':</span>' + bar(PAL.div, [f(-1), f(-0.5), '0', '+' + f(0.5), '+' + f(1)]);
    }
    headerHeight();
  }

  // ---- the current character and its guesses ----
  var cur = -1;
  function pct(q) { return (q / 65535 * 100).toFixed(1) + '%'; }
  function select(i, focus) {
    if (i < 0 || i >= N) return;
    if (cur >= 0) { spans[cur].classList.remove('cur'); spans[cur].tabIndex = -1; }
    cur = i;
    spans[i].classList.add('cur');
    spans[i].tabIndex = 0;
    if (focus) spans[i].focus();
    var cp = D.vocab[ids[i]], h = '<h2>Character ' + (i + 1) + ' of ' + N + '</h2><div class="big">' + esc(label(cp)) + '</div>';
    if (i === 0) h += '<p class="muted">The first character: nothing before it to predict it from.</p>';
    else {
      h += '<p>p = ' + (Math.exp(-loss[i]) * 100).toPrecision(3) + '% \u00b7 ' + (loss[i] / Math.LN2).toFixed(2) + ' bits \u00b7 rank ' + (rank[i] + 1) + ' of ' + D.vocab.length + '</p>';
      h += '<div>The model\u2019s guesses here:</div><ol id="guesses">';
      for (var k = 0; k < K; k++) {
        var id = topIds[i * K + k], q = topP[i * K + k];
        h += '<li' + (id === ids[i] ? ' class="hit"' : '') + '><span>' + esc(glyph(D.vocab[id])) + '</span>' +
          '<span><span class="p" style="display:block;width:' + (q / 655.35).toFixed(1) + '%"></span></span><span class="pct">' + pct(q) + '</span></li>';
      }
      h += '</ol>';
    }
    if (mode === 'neuron') h += '<p>Layer ' + D.traces[trace].layer + ' ' + D.traces[trace].state + ' unit ' + unit + ' after this character: ' + unitValue(i).toFixed(3) + '</p>';
    $('detail').innerHTML = h;
  }
  function esc(s) { return s.replace(/[&<>"]/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }

  text.addEventListener('mouseover', function (e) { if (e.target.ci !== undefined) select(e.target.ci, false); });
  text.addEventListener('click', function (e) { if (e.target.ci !== undefined) select(e.target.ci, true); });
  text.addEventListener('focusin', function (e) { if (e.target.ci !== undefined && e.target.ci !== cur) select(e.target.ci, false); });
  function lineStart(i) { while (i > 0 && ids[i - 1] !== undefined && D.vocab[ids[i - 1]] !== 10) i--; return i; }
  text.addEventListener('keydown', function (e) {
    if (cur < 0) return;
    var to = -1, s = lineStart(cur), col = cur - s, e2;
    if (e.key === 'ArrowRight') to = cur + 1;
    else if (e.key === 'ArrowLeft') to = cur - 1;
    else if (e.key === 'Home') to = s;
    else if (e.key === 'End') { to = cur; while (to < N - 1 && D.vocab[ids[to]] !== 10) to++; }
    else if (e.key === 'ArrowDown') { e2 = cur; while (e2 < N - 1 && D.vocab[ids[e2]] !== 10) e2++; to = e2 + 1; var end = to; while (end < N - 1 && D.vocab[ids[end]] !== 10) end++; to = Math.min(to + col, end); }
    else if (e.key === 'ArrowUp') { if (s === 0) to = 0; else { var ps = lineStart(s - 1); to = Math.min(ps + col, s - 1); } }
    else return;
    e.preventDefault();
    select(Math.max(0, Math.min(N - 1, to)), true);
  });

  // ---- neuron controls ----
  var layers = [], states = {};
  D.traces.forEach(function (t) { if (layers.indexOf(t.layer) < 0) layers.push(t.layer); states[t.state] = 1; });
  $('layer').innerHTML = layers.map(function (l) { return '<option value="' + l + '">' + l + '</option>'; }).join('');
  $('state').innerHTML = Object.keys(states).map(function (s) { return '<option value="' + s + '">' + s + '</option>'; }).join('');
  $('unit').max = H - 1;
  function setNeuron(layer, state, u) {
    var k = D.traces.findIndex(function (t) { return t.layer === layer && t.state === state; });
    if (k < 0) return;
    trace = k; unit = Math.max(0, Math.min(H - 1, u | 0));
    $('layer').value = String(layer); $('state').value = state; $('unit').value = String(unit);
    setMode('neuron');
  }
  function readNeuron() { setNeuron(+$('layer').value, $('state').value, +$('unit').value); }
  $('layer').addEventListener('change', readNeuron);
  $('state').addEventListener('change', readNeuron);
  $('unit').addEventListener('change', readNeuron);
  $('prev').addEventListener('click', function () { $('unit').value = String((unit + H - 1) % H); readNeuron(); });
  $('next').addEventListener('click', function () { $('unit').value = String((unit + 1) % H); readNeuron(); });
  function setMode(m) {
    mode = m;
    document.querySelector('input[name=mode][value=' + m + ']').checked = true;
    $('neuron').disabled = m !== 'neuron';
    colour();
    if (cur >= 0) select(cur, false);
  }
  document.querySelectorAll('input[name=mode]').forEach(function (r) { r.addEventListener('change', function () { setMode(r.value); }); });

  // ---- suggested units and summary ----
  var u = '';
  D.features.forEach(function (f) {
    var list = D.units.filter(function (x) { return x.feature === f.name; });
    u += '<h2>' + esc(f.label) + '</h2>';
    if (!list.length) { u += '<p class="muted">Constant in this text.</p>'; return; }
    u += '<ul class="plain">' + list.map(function (x) {
      return '<li><button type="button" data-l="' + x.layer + '" data-s="' + x.state + '" data-u="' + x.unit + '">layer ' + x.layer + ' ' + x.state +
        ' unit ' + x.unit + ' \u00b7 r = ' + (x.correlation >= 0 ? '+' : '\u2212') + Math.abs(x.correlation).toFixed(2) + '</button></li>'; }).join('') + '</ul>';
  });
  $('units').innerHTML = u;
  $('units').addEventListener('click', function (e) {
    var b = e.target.closest('button'); if (b) setNeuron(+b.dataset.l, b.dataset.s, +b.dataset.u);
  });

  var S = D.summary, sm = '<h2>Summary</h2><table>' +
    '<tr><th>characters predicted</th><td class="num">' + S.predicted + '</td></tr>' +
    '<tr><th>loss, nats/char</th><td class="num" id="nats">' + S.natsPerChar.toFixed(4) + '</td></tr>' +
    '<tr><th>bits/char</th><td class="num">' + S.bitsPerChar.toFixed(4) + '</td></tr>' +
    '<tr><th>perplexity</th><td class="num">' + S.perplexity.toFixed(3) + '</td></tr></table>';
  if (S.textChars > S.chars) sm += '<p class="muted">The first ' + S.chars + ' of ' + S.textChars + ' characters (--chars).</p>';
  if (S.unknown.length) sm += '<p class="muted">Left out, not in the vocabulary: ' + S.unknown.map(function (x) { return esc(label(x.codePoint)) + ' \u00d7' + x.count; }).join(', ') + '</p>';
  sm += '<h2>Hardest characters</h2><ul class="plain" id="hardest">' + D.hardest.map(function (x) {
    var a = Math.max(0, x.index - 12), ctx = '';
    for (var j = a; j <= x.index; j++) ctx += shown(D.vocab[ids[j]]).t;
    return '<li><button type="button" data-i="' + x.index + '">' + (x.loss / Math.LN2).toFixed(1) + ' bits \u00b7 \u2026' + esc(ctx) + '</button></li>'; }).join('') + '</ul>';
  if (D.saturation.length) {
    sm += '<h2>Gate saturation</h2><p class="muted">Fraction of the time each gate is &lt; 0.1 (closed) or &gt; 0.9 (open), over all units.</p>' +
      '<table><tr><th>layer</th><th>gate</th><th class="num">&lt; 0.1</th><th class="num">&gt; 0.9</th></tr>' +
      D.saturation.map(function (g) { return '<tr><td>' + g.layer + '</td><td>' + g.gate + '</td><td class="num">' + (g.low * 100).toFixed(1) +
        '%</td><td class="num">' + (g.high * 100).toFixed(1) + '%</td></tr>'; }).join('') + '</table>';
  }
  $('summary').innerHTML = sm;
  $('hardest').addEventListener('click', function (e) { var b = e.target.closest('button'); if (b) select(+b.dataset.i, true); });

  // the sticky header's height, for the sticky side panel and for scrolling to a character
  function headerHeight() { document.documentElement.style.setProperty('--hdr', document.querySelector('header').offsetHeight + 'px'); }
  headerHeight();
  window.addEventListener('resize', headerHeight);
  palettes();
  dark.addEventListener('change', function () { palettes(); colour(); });
  colour();
  document.body.dataset.ready = '1';
})().catch(function (e) { document.getElementById('status').textContent = 'This page could not be drawn: ' + e; });
`;
