// The recurrent cells' element-wise steps (LSTM i,f,o,g; GRU r,z,n, PyTorch form), forward
// and backward, split by batch rows between the threads (threads.ts).
//
// Shape legend: B batch, H hidden, G gate width (4H lstm, 3H gru).

import { oneMinusSq, sigmoid4, tanh4 } from './math';
import { ld, st } from './simd';
import { GRU_B, GRU_F, LSTM_B, LSTM_F, cellParts, runJob, setArg, setPtr } from './threads';

// LSTM: gates(B,4H) = [i f o g] per row; c, h, cPrev (B,H).

@inline export function lstmForwardStep(hp: usize, cp: usize, gp: usize, cpp: usize, gh: usize, one: bool): void {
  const i = sigmoid4(ld(gp, one));
  const f = sigmoid4(ld(gp + gh, one));
  const o = sigmoid4(ld(gp + 2 * gh, one));
  const g = tanh4(ld(gp + 3 * gh, one));
  const ct = f32x4.add(f32x4.mul(f, ld(cpp, one)), f32x4.mul(i, g));
  st(gp, i, one);
  st(gp + gh, f, one);
  st(gp + 2 * gh, o, one);
  st(gp + 3 * gh, g, one);
  st(cp, ct, one);
  st(hp, f32x4.mul(o, tanh4(ct)), one);
}

/** gates in place to activations; c = f*cPrev + i*g; h = o*tanh(c). */
export function lstmForward(h: usize, c: usize, gates: usize, cPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    lstmForwardRows(h, c, gates, cPrev, 0, B, H);
    return;
  }
  setPtr(1, h); setPtr(2, c); setPtr(3, gates); setPtr(4, cPrev); setArg(5, B); setArg(6, H);
  runJob(LSTM_F, parts);
}

export function lstmForwardRows(h: usize, c: usize, gates: usize, cPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = gates + <usize>b * 4 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      lstmForwardStep(h + hb + off, c + hb + off, gb + off, cPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      lstmForwardStep(h + hb + off, c + hb + off, gb + off, cPrev + hb + off, gh, true);
    }
  }
}

@inline export function lstmBackwardStep(dgp: usize, dcp: usize, dhp: usize, gp: usize, cp: usize, cpp: usize, gh: usize, one: bool): void {
  const one4 = f32x4.splat(1);
  const i = ld(gp, one);
  const f = ld(gp + gh, one);
  const o = ld(gp + 2 * gh, one);
  const g = ld(gp + 3 * gh, one);
  const tc = tanh4(ld(cp, one));
  const dh = ld(dhp, one);
  const cprev = ld(cpp, one);
  // forward: h = o * tanh(c)
  const dc = f32x4.add(ld(dcp, one), f32x4.mul(f32x4.mul(dh, o), oneMinusSq(tc)));
  const dO = f32x4.mul(dh, tc);
  // forward: c = f * cPrev + i * g
  const dI = f32x4.mul(dc, g);
  const dF = f32x4.mul(dc, cprev);
  const dG = f32x4.mul(dc, i);
  st(dcp, f32x4.mul(dc, f), one);
  // forward: i, f, o = sigmoid(.), g = tanh(.)
  st(dgp, f32x4.mul(f32x4.mul(dI, i), f32x4.sub(one4, i)), one);
  st(dgp + gh, f32x4.mul(f32x4.mul(dF, f), f32x4.sub(one4, f)), one);
  st(dgp + 2 * gh, f32x4.mul(f32x4.mul(dO, o), f32x4.sub(one4, o)), one);
  st(dgp + 3 * gh, f32x4.mul(dG, oneMinusSq(g)), one);
}

/** Writes dgates(B,4H); dc(B,H) in place from dL/dc to dL/dcPrev; dh(B,H) total dL/dh. */
export function lstmBackward(dgates: usize, dc: usize, dh: usize, gates: usize, c: usize, cPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    lstmBackwardRows(dgates, dc, dh, gates, c, cPrev, 0, B, H);
    return;
  }
  setPtr(1, dgates); setPtr(2, dc); setPtr(3, dh); setPtr(4, gates); setPtr(5, c); setPtr(6, cPrev);
  setArg(7, B); setArg(8, H);
  runJob(LSTM_B, parts);
}

export function lstmBackwardRows(dgates: usize, dc: usize, dh: usize, gates: usize, c: usize, cPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = <usize>b * 4 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      lstmBackwardStep(dgates + gb + off, dc + hb + off, dh + hb + off, gates + gb + off, c + hb + off, cPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      lstmBackwardStep(dgates + gb + off, dc + hb + off, dh + hb + off, gates + gb + off, c + hb + off, cPrev + hb + off, gh, true);
    }
  }
}

// GRU: xg, hg (B,3H) = [r z n] per row; h, hPrev (B,H).

@inline export function gruForwardStep(hp: usize, xp: usize, hgp: usize, hpp: usize, gh: usize, one: bool): void {
  const r = sigmoid4(f32x4.add(ld(xp, one), ld(hgp, one)));
  const z = sigmoid4(f32x4.add(ld(xp + gh, one), ld(hgp + gh, one)));
  const n = tanh4(f32x4.add(ld(xp + 2 * gh, one), f32x4.mul(r, ld(hgp + 2 * gh, one))));
  st(xp, r, one);
  st(xp + gh, z, one);
  st(xp + 2 * gh, n, one);
  st(hp, f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), z), n), f32x4.mul(z, ld(hpp, one))), one);
}

/** xg in place to (r, z, n); h = (1-z)*n + z*hPrev. */
export function gruForward(h: usize, xg: usize, hg: usize, hPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    gruForwardRows(h, xg, hg, hPrev, 0, B, H);
    return;
  }
  setPtr(1, h); setPtr(2, xg); setPtr(3, hg); setPtr(4, hPrev); setArg(5, B); setArg(6, H);
  runJob(GRU_F, parts);
}

export function gruForwardRows(h: usize, xg: usize, hg: usize, hPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = <usize>b * 3 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      gruForwardStep(h + hb + off, xg + gb + off, hg + gb + off, hPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      gruForwardStep(h + hb + off, xg + gb + off, hg + gb + off, hPrev + hb + off, gh, true);
    }
  }
}

@inline export function gruBackwardStep(dxp: usize, dhgp: usize, dhpp: usize, dhp: usize, ap: usize, hgp: usize, hpp: usize, gh: usize, one: bool): void {
  const one4 = f32x4.splat(1);
  const r = ld(ap, one);
  const z = ld(ap + gh, one);
  const n = ld(ap + 2 * gh, one);
  const hn = ld(hgp + 2 * gh, one);
  const dh = ld(dhp, one);
  // forward: h = (1 - z) * n + z * hPrev
  const dn = f32x4.mul(dh, f32x4.sub(one4, z));
  const dz = f32x4.mul(dh, f32x4.sub(ld(hpp, one), n));
  st(dhpp, f32x4.add(ld(dhpp, one), f32x4.mul(dh, z)), one);
  // forward: n = tanh(xn + r * hn)
  const dan = f32x4.mul(dn, oneMinusSq(n));
  const dr = f32x4.mul(dan, hn);
  // forward: r = sigmoid(xr + hr), z = sigmoid(xz + hz)
  const dar = f32x4.mul(f32x4.mul(dr, r), f32x4.sub(one4, r));
  const daz = f32x4.mul(f32x4.mul(dz, z), f32x4.sub(one4, z));
  st(dxp, dar, one);
  st(dxp + gh, daz, one);
  st(dxp + 2 * gh, dan, one);
  st(dhgp, dar, one);
  st(dhgp + gh, daz, one);
  st(dhgp + 2 * gh, f32x4.mul(dan, r), one);
}

/** Writes dxg, dhg (B,3H); dhPrev(B,H) += dh*z. act = (r,z,n) from forward. */
export function gruBackward(dxg: usize, dhg: usize, dhPrev: usize, dh: usize, act: usize, hg: usize, hPrev: usize, B: i32, H: i32): void {
  const parts = cellParts(B, B * H);
  if (parts <= 1) {
    gruBackwardRows(dxg, dhg, dhPrev, dh, act, hg, hPrev, 0, B, H);
    return;
  }
  setPtr(1, dxg); setPtr(2, dhg); setPtr(3, dhPrev); setPtr(4, dh); setPtr(5, act); setPtr(6, hg);
  setPtr(7, hPrev); setArg(8, B); setArg(9, H);
  runJob(GRU_B, parts);
}

export function gruBackwardRows(dxg: usize, dhg: usize, dhPrev: usize, dh: usize, act: usize, hg: usize, hPrev: usize, b0: i32, b1: i32, H: i32): void {
  const gh = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    const gb = <usize>b * 3 * gh;
    const hb = <usize>b * gh;
    let j = 0;
    for (; j + 4 <= H; j += 4) {
      const off = <usize>j << 2;
      gruBackwardStep(dxg + gb + off, dhg + gb + off, dhPrev + hb + off, dh + hb + off, act + gb + off, hg + gb + off, hPrev + hb + off, gh, false);
    }
    for (; j < H; j++) {
      const off = <usize>j << 2;
      gruBackwardStep(dxg + gb + off, dhg + gb + off, dhPrev + hb + off, dh + hb + off, act + gb + off, hg + gb + off, hPrev + hb + off, gh, true);
    }
  }
}
