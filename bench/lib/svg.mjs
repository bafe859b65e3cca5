// Minimal SVG charts (no library): horizontal bars (linear or log scale) and line charts.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"';
export const COLORS = { rivulet: '#d9480f', naive: '#1c7ed6', mock: '#7048e8', redis: '#c92a2a', other: '#868e96', goal: '#2b8a3e' };

export function fmt(v, unit = '') {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  let s;
  if (a >= 1e9) s = (v / 1e9).toFixed(2) + 'G';
  else if (a >= 1e6) s = (v / 1e6).toFixed(2) + 'M';
  else if (a >= 1e4) s = (v / 1e3).toFixed(0) + 'k';
  else if (a >= 1e3) s = (v / 1e3).toFixed(1) + 'k';
  else if (a >= 100) s = v.toFixed(0);
  else if (a >= 10) s = v.toFixed(1);
  else s = v.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

/**
 * Horizontal bar chart. items: [{ label, value, kind: 'rivulet'|'naive'|'mock'|'redis'|'other', note }].
 * log: log10 scale (for values spanning orders of magnitude). goal: optional vertical line { value, label }.
 */
export function hbar({ title, subtitle = '', unit = '', items, log = false, goal = null, width = 860 }) {
  const rowH = 22;
  const labelW = 330;
  const padR = 120;
  const top = subtitle ? 58 : 44;
  const h = top + items.length * rowH + 36;
  const plotW = width - labelW - padR;
  const vals = items.map((i) => i.value).filter((v) => Number.isFinite(v) && v > 0);
  if (goal) vals.push(goal.value);
  const max = Math.max(...vals);
  const min = Math.min(...vals);
  const lo = log ? Math.pow(10, Math.floor(Math.log10(min))) : 0;
  const hi = log ? Math.pow(10, Math.ceil(Math.log10(max))) : max * 1.05;
  const x = (v) => (log ? ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW : (v / hi) * plotW);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" ${FONT} font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="12" y="22" font-size="15" font-weight="600">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="12" y="40" fill="#555">${esc(subtitle)}</text>`);
  // grid
  const ticks = [];
  if (log) for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  else for (let i = 0; i <= 5; i++) ticks.push((hi / 5) * i);
  for (const t of ticks) {
    const gx = labelW + x(t);
    out.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${top + items.length * rowH}" stroke="#e9ecef"/>`);
    out.push(`<text x="${gx}" y="${top + items.length * rowH + 16}" text-anchor="middle" fill="#666" font-size="11">${esc(fmt(t))}</text>`);
  }
  items.forEach((it, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(it.label)}</text>`);
    if (Number.isFinite(it.value) && it.value > 0) {
      const w = Math.max(1, x(it.value));
      out.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${COLORS[it.kind] ?? COLORS.other}" rx="2"/>`);
      out.push(`<text x="${labelW + w + 5}" y="${y + 15}" fill="#333">${esc(fmt(it.value, unit))}${it.note ? ' ' + esc(it.note) : ''}</text>`);
    } else {
      out.push(`<text x="${labelW + 5}" y="${y + 15}" fill="#999">${esc(it.note || 'n/a')}</text>`);
    }
  });
  if (goal) {
    const gx = labelW + x(goal.value);
    out.push(`<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${top + items.length * rowH}" stroke="${COLORS.goal}" stroke-width="2" stroke-dasharray="5,3"/>`);
    out.push(`<text x="${gx + 4}" y="${top - 10}" fill="${COLORS.goal}" font-size="11">${esc(goal.label)}</text>`);
  }
  out.push(`<text x="${labelW + plotW}" y="${h - 4}" text-anchor="end" fill="#888" font-size="10">${log ? 'log scale' : ''} ${esc(unit)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** Line chart. series: [{ name, kind, points: [[x, y], …] }]; logX / logY scales. */
export function lines({ title, subtitle = '', xLabel, yLabel, series, logX = true, logY = false, yZero = true, width = 620, height = 340, band = null }) {
  const padL = 70, padR = 130, padT = subtitle ? 58 : 44, padB = 48;
  const pw = width - padL - padR, ph = height - padT - padB;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = yZero ? 0 : Math.min(...ys), y1 = Math.max(...ys) * 1.1;
  if (logY) {
    y0 = Math.pow(10, Math.floor(Math.log10(Math.min(...ys))));
    y1 = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys))));
  }
  const X = (v) => padL + (logX ? (Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0) || 1) : (v - x0) / (x1 - x0 || 1)) * pw;
  const Y = (v) => padT + ph - (logY ? (Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (v - y0) / (y1 - y0 || 1)) * ph;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`);
  o.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  o.push(`<text x="12" y="22" font-size="15" font-weight="600">${esc(title)}</text>`);
  if (subtitle) o.push(`<text x="12" y="40" fill="#555">${esc(subtitle)}</text>`);
  const yt = [];
  if (logY) for (let t = y0; t <= y1 * 1.0001; t *= 10) yt.push(t);
  else for (let i = 0; i <= 5; i++) yt.push(y0 + ((y1 - y0) / 5) * i);
  for (const t of yt) {
    o.push(`<line x1="${padL}" y1="${Y(t)}" x2="${padL + pw}" y2="${Y(t)}" stroke="#e9ecef"/>`);
    o.push(`<text x="${padL - 6}" y="${Y(t) + 4}" text-anchor="end" fill="#666" font-size="11">${esc(fmt(t))}</text>`);
  }
  for (const v of [...new Set(xs)].sort((a, b) => a - b)) {
    o.push(`<line x1="${X(v)}" y1="${padT}" x2="${X(v)}" y2="${padT + ph}" stroke="#f1f3f5"/>`);
    o.push(`<text x="${X(v)}" y="${padT + ph + 16}" text-anchor="middle" fill="#666" font-size="11">${esc(fmt(v))}</text>`);
  }
  if (band) {
    // shaded acceptable band, e.g. ±20 % around a reference
    o.push(`<rect x="${padL}" y="${Y(band.hi)}" width="${pw}" height="${Math.max(0, Y(band.lo) - Y(band.hi))}" fill="${COLORS.goal}" opacity="0.08"/>`);
    o.push(`<text x="${padL + 4}" y="${Y(band.hi) - 3}" fill="${COLORS.goal}" font-size="10">${esc(band.label)}</text>`);
  }
  o.push(`<line x1="${padL}" y1="${padT + ph}" x2="${padL + pw}" y2="${padT + ph}" stroke="#333"/>`);
  o.push(`<line x1="${padL}" y1="${padT}" x2="${padL}" y2="${padT + ph}" stroke="#333"/>`);
  o.push(`<text x="${padL + pw / 2}" y="${height - 10}" text-anchor="middle" fill="#333">${esc(xLabel)}</text>`);
  o.push(`<text x="16" y="${padT + ph / 2}" transform="rotate(-90 16 ${padT + ph / 2})" text-anchor="middle" fill="#333">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[s.kind] ?? COLORS.other;
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    o.push(`<polyline fill="none" stroke="${c}" stroke-width="2.5" points="${pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) o.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(`${s.name}: ${fmt(p[1])} at ${fmt(p[0])}`)}</title></circle>`);
    o.push(`<rect x="${padL + pw + 14}" y="${padT + i * 20}" width="12" height="12" fill="${c}"/>`);
    o.push(`<text x="${padL + pw + 30}" y="${padT + i * 20 + 10}">${esc(s.name)}</text>`);
  });
  o.push('</svg>');
  return o.join('\n');
}
