// Hand-written SVG charts for the dashboard: no third-party code.
// Every chart is an <svg role="img"> with a <title> and <desc>; the figures themselves are
// always also in the table beside it, which is what screen readers should use.

const SVG = "http://www.w3.org/2000/svg";
export const PALETTE = ["#1f5f99", "#e08a1e", "#3a8f5c", "#b8413c", "#7a5aa6", "#4d9fb8",
  "#9c7b45", "#c0588f"];

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(width, height, title, desc) {
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", width: "100%",
    preserveAspectRatio: "xMinYMin meet", class: "svg-chart",
  });
  const id = `chart-${Math.random().toString(36).slice(2, 9)}`;
  svg.setAttribute("aria-labelledby", `${id}-t ${id}-d`);
  svg.append(el("title", { id: `${id}-t` }, title), el("desc", { id: `${id}-d` }, desc));
  return svg;
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** The step between `ticks` gridlines covering `value`: 1, 2, 2.5 or 5 times a power of ten,
 * and a whole number when the figures are counts (no "2,5 learners" gridline). */
function niceStep(value, ticks, whole) {
  const rough = value > 0 ? value / ticks : 1 / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * power;
    if (step >= rough && (!whole || Number.isInteger(step))) return step;
  }
  return Math.max(1, 10 * power);
}

/**
 * Horizontal bars, one per row: [{label, value, text, color}]; `max` fixes the scale (1 for
 * shares). Rows whose value is null are drawn as "no data".
 */
export function horizontalBars({ title, desc, rows, max, labelWidth = 190 }) {
  const width = 560, rowHeight = 26, top = 8, valueWidth = 70;
  const height = top * 2 + Math.max(rows.length, 1) * rowHeight;
  const svg = frame(width, height, title, desc);
  const scaleMax = max ?? niceMax(Math.max(0, ...rows.map((r) => r.value ?? 0)));
  const barArea = width - labelWidth - valueWidth;
  svg.append(el("line", {
    x1: labelWidth, x2: labelWidth, y1: top - 4, y2: height - top + 4, class: "axis",
  }));
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const label = el("text", {
      x: labelWidth - 8, y: y + rowHeight / 2, "text-anchor": "end",
      "dominant-baseline": "middle", class: "label",
    }, shorten(row.label, 28));
    label.append(el("title", {}, row.label));
    svg.append(label);
    const length = row.value == null ? 0 : Math.max(0, (row.value / scaleMax) * barArea);
    const bar = el("rect", {
      x: labelWidth, y: y + 4, width: length.toFixed(1), height: rowHeight - 8, rx: 2,
      fill: row.color ?? PALETTE[0], class: "bar",
    });
    bar.append(el("title", {}, `${row.label}: ${row.text}`));
    svg.append(bar);
    svg.append(el("text", {
      x: labelWidth + length + 6, y: y + rowHeight / 2, "dominant-baseline": "middle",
      class: row.value == null ? "value muted" : "value",
    }, row.text));
  });
  return svg;
}

/**
 * Vertical bars grouped by category: categories ["2025-2026", ...], series [{name, values,
 * color}], `format` turns a value into its label. A legend is drawn when there are two series
 * or more.
 */
export function groupedColumns({ title, desc, categories, series, format, whole = false }) {
  const width = 560, height = 260, left = 48, right = 12, top = series.length > 1 ? 30 : 14;
  const bottom = 34;
  const svg = frame(width, height, title, desc);
  const all = series.flatMap((s) => s.values).filter((v) => v != null);
  const ticks = 4;
  const scaleMax = niceStep(Math.max(0, ...all), ticks, whole) * ticks;
  const plotHeight = height - top - bottom, plotWidth = width - left - right;
  const y = (v) => top + plotHeight - (v / scaleMax) * plotHeight;
  for (let i = 0; i <= ticks; i += 1) {
    const value = (scaleMax * i) / ticks;
    svg.append(el("line", { x1: left, x2: width - right, y1: y(value), y2: y(value),
      class: i === 0 ? "axis" : "grid" }));
    svg.append(el("text", { x: left - 6, y: y(value), "text-anchor": "end",
      "dominant-baseline": "middle", class: "tick" }, format(value)));
  }
  const group = plotWidth / Math.max(categories.length, 1);
  const barWidth = Math.min(42, (group * 0.75) / Math.max(series.length, 1));
  categories.forEach((category, c) => {
    const start = left + c * group + (group - barWidth * series.length) / 2;
    series.forEach((s, k) => {
      const value = s.values[c];
      if (value == null) return;
      const bar = el("rect", {
        x: (start + k * barWidth).toFixed(1), y: y(value).toFixed(1),
        width: Math.max(barWidth - 2, 1).toFixed(1),
        height: Math.max(0, top + plotHeight - y(value)).toFixed(1),
        fill: s.color ?? PALETTE[k % PALETTE.length], class: "bar",
      });
      bar.append(el("title", {}, `${s.name}, ${category}: ${format(value)}`));
      svg.append(bar);
    });
    svg.append(el("text", { x: left + c * group + group / 2, y: height - bottom + 18,
      "text-anchor": "middle", class: "tick" }, category));
  });
  if (series.length > 1) {
    let x = left;
    series.forEach((s, k) => {
      svg.append(el("rect", { x, y: 6, width: 12, height: 12, rx: 2,
        fill: s.color ?? PALETTE[k % PALETTE.length] }));
      svg.append(el("text", { x: x + 17, y: 12, "dominant-baseline": "middle", class: "label" },
        s.name));
      x += 30 + s.name.length * 7.5;
    });
  }
  return svg;
}

/** One bar split into shares: parts [{label, value, color}] adding up to a whole. */
export function stackedShare({ title, desc, parts }) {
  const width = 560, barHeight = 30, legendRow = 20;
  const perRow = 2;
  const height = barHeight + 16 + Math.ceil(parts.length / perRow) * legendRow;
  const svg = frame(width, height, title, desc);
  const total = parts.reduce((sum, p) => sum + p.value, 0);
  let x = 0;
  parts.forEach((part, i) => {
    const color = part.color ?? PALETTE[i % PALETTE.length];
    const w = total ? (part.value / total) * width : 0;
    if (w > 0) {
      const rect = el("rect", { x: x.toFixed(1), y: 0, width: w.toFixed(1), height: barHeight,
        fill: color, class: "bar" });
      rect.append(el("title", {}, `${part.label}: ${part.text}`));
      svg.append(rect);
    }
    x += w;
    const lx = (i % perRow) * (width / perRow), ly = barHeight + 14 + Math.floor(i / perRow) * legendRow;
    svg.append(el("rect", { x: lx, y: ly - 6, width: 12, height: 12, rx: 2, fill: color }));
    svg.append(el("text", { x: lx + 17, y: ly, "dominant-baseline": "middle", class: "label" },
      `${part.label}: ${part.text}`));
  });
  return svg;
}
