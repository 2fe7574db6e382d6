// Matrix heatmap (attention logits, Toeplitz profiles, head-ablation grids, per-head statistics):
// a canvas with a legend, hover readout and optional links to the bus. Leading dimensions of the
// matrix follow bus keys (e.g. [L, H, T, T] follows "layer" and "head"); rows/columns may map to bus
// keys so that clicking a cell selects (layer, head) in the other views.

import { cachedArray, type NDArray } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { colourRGB, type Normaliser, normaliser } from "../lib/colors";
import { h } from "../lib/dom";
import { fmt } from "../lib/format";
import { legend } from "../lib/legend";

export interface Link {
  keys: string[];
  shape: number[];
}

export interface MatrixData {
  matrix?: unknown;
  follow?: string[];
  row_link?: Link;
  col_link?: Link;
  row_labels?: string[];
  col_labels?: string[];
  x_label?: string;
  y_label?: string;
  value_label?: string;
  signed?: boolean;
  heading?: string;
  note?: string;
  size?: number;
  /** "free": cells may be wider than tall (long thin matrices such as Toeplitz profiles). */
  aspect?: "square" | "free";
  /** One colour scale per slice of the leading dimensions (for stacks of unrelated statistics). */
  per_slice?: boolean;
  /** Legend label per slice (with `per_slice`). */
  value_labels?: string[];
}

function unravel(i: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    out[k] = i % shape[k];
    i = Math.floor(i / shape[k]);
  }
  return out;
}

function ravel(idx: number[], shape: number[]): number {
  let i = 0;
  for (let k = 0; k < shape.length; k++) {
    if (idx[k] < 0 || idx[k] >= shape[k]) return -1;
    i = i * shape[k] + idx[k];
  }
  return i;
}

function linkIndex(link: Link | undefined, bus: Bus): number {
  return link ? ravel(link.keys.map((k) => bus.get(k)), link.shape) : -1;
}

export function renderMatrixHeatmap(el: HTMLElement, data: MatrixData, bus: Bus): () => void {
  const d = disposer();
  const arr: NDArray | null = cachedArray(data.matrix);
  const root = h("div", { class: "xl-panel xl-matrix" });
  if (data.heading) root.append(h("div", { class: "xl-subtitle" }, [data.heading]));
  el.append(root);
  if (!arr || arr.shape.length < 2) {
    root.append(h("div", { class: "xl-status" }, ["no matrix in this result"]));
    return () => root.remove();
  }
  const [rows, cols] = arr.shape.slice(-2);
  const lead = arr.shape.slice(0, -2);
  const follow = (data.follow ?? []).slice(0, lead.length);
  const sliceSize = rows * cols;
  const normFor = (sl: number): Normaliser =>
    data.per_slice ? normaliser(arr.data.subarray(sl * sliceSize, (sl + 1) * sliceSize), data.signed) : normaliser(arr.data, data.signed);
  let norm = normFor(0);
  const legendBox = h("div", { class: "xl-legend-box" });
  const canvas = h("canvas", { width: cols, height: rows, class: "xl-canvas xl-pixelated", "aria-label": data.heading ?? "matrix" });
  const size = data.size ?? 260;
  const sq = Math.max(1, Math.min(size / cols, size / rows, 40));
  const scaleX = data.aspect === "free" ? Math.max(1, Math.min(size / cols, 40)) : sq;
  const scalePx = data.aspect === "free" ? Math.max(sq, Math.min(14, Math.max(6, 180 / rows))) : sq;
  canvas.style.width = `${cols * scaleX}px`;
  canvas.style.height = `${rows * scalePx}px`;
  const rowBox = h("div", { class: "xl-hl xl-hl-row" });
  const colBox = h("div", { class: "xl-hl xl-hl-col" });
  const stack = h("div", { class: "xl-stack" }, [canvas, rowBox, colBox]);
  const readout = h("div", { class: "xl-status", "aria-live": "polite" });
  const yl = h("div", { class: "xl-ylabel" }, [data.y_label ?? ""]);
  const rowTicks = h("div", { class: "xl-rowticks" });
  const colTicks = h("div", { class: "xl-colticks" });
  const labelsFor = (given: string[] | undefined, n: number, px: number): (string | null)[] => {
    const every = Math.max(1, Math.ceil(14 / px));
    return Array.from({ length: n }, (_, i) => (given?.[i] !== undefined ? (i % every === 0 ? String(given[i]) : null) : i % Math.max(every, Math.ceil(n / 6)) === 0 ? String(i) : null));
  };
  labelsFor(data.row_labels, rows, scalePx).forEach((t, i) => {
    if (t === null) return;
    const tick = h("span", {}, [t]);
    tick.style.top = `${(i + 0.5) * scalePx}px`;
    rowTicks.append(tick);
  });
  labelsFor(data.col_labels, cols, scaleX * 0.6).forEach((t, i) => {
    if (t === null) return;
    const tick = h("span", {}, [t]);
    tick.style.left = `${(i + 0.5) * scaleX}px`;
    colTicks.append(tick);
  });
  rowTicks.style.height = `${rows * scalePx}px`;
  colTicks.style.width = `${cols * scaleX}px`;
  const body = h("div", { class: "xl-matrix-body" }, [
    yl, rowTicks, h("div", {}, [stack, colTicks, h("div", { class: "xl-xlabel" }, [data.x_label ?? ""])]),
  ]);
  root.append(body, legendBox, readout);
  let legendSlice = -1;
  if (data.note) root.append(h("div", { class: "xl-note" }, [data.note]));

  const slice = (): number => {
    if (!lead.length) return 0;
    const idx = lead.map((n, k) => {
      const v = follow[k] ? bus.get(follow[k]) : 0;
      return v >= 0 && v < n ? v : 0;
    });
    return ravel(idx, lead);
  };
  const ctx = canvas.getContext?.("2d") ?? null;
  const img = ctx ? ctx.createImageData(cols, rows) : null;
  const draw = (): void => {
    const sl = slice();
    const base = sl * sliceSize;
    if (sl !== legendSlice) {
      legendSlice = sl;
      if (data.per_slice || !legendBox.firstChild) {
        norm = normFor(sl);
        legendBox.replaceChildren(legend(norm, data.value_labels?.[sl] ?? data.value_label ?? "value"));
      }
    }
    if (ctx && img) {
      for (let p = 0; p < rows * cols; p++) {
        const v = arr.data[base + p];
        const c = Number.isFinite(v) ? colourRGB(norm(v), norm.scale) : [128, 128, 128];
        img.data[p * 4] = c[0];
        img.data[p * 4 + 1] = c[1];
        img.data[p * 4 + 2] = c[2];
        img.data[p * 4 + 3] = Number.isFinite(v) ? 255 : 60;
      }
      ctx.putImageData(img, 0, 0);
    }
    const r = linkIndex(data.row_link, bus);
    const c = linkIndex(data.col_link, bus);
    rowBox.hidden = r < 0;
    colBox.hidden = c < 0;
    if (r >= 0) {
      rowBox.style.top = `${r * scalePx}px`;
      rowBox.style.height = `${scalePx}px`;
      rowBox.style.left = c >= 0 ? `${c * scaleX}px` : "0";
      rowBox.style.width = c >= 0 ? `${scaleX}px` : "100%";
    }
    if (c >= 0 && r < 0) {
      colBox.style.left = `${c * scaleX}px`;
      colBox.style.width = `${scaleX}px`;
    } else colBox.hidden = true;
    const where = follow.length ? follow.map((k) => `${k} ${Math.max(0, bus.get(k))}`).join(", ") : "";
    canvas.setAttribute("aria-label", `${data.heading ?? "matrix"} ${where}`.trim());
    canvas.dataset.slice = String(slice());
  };
  const cellAt = (ev: MouseEvent): [number, number] => {
    const rect = canvas.getBoundingClientRect();
    return [
      Math.floor(((ev.clientY - rect.top) / (rect.height || 1)) * rows),
      Math.floor(((ev.clientX - rect.left) / (rect.width || 1)) * cols),
    ];
  };
  const name = (labels: string[] | undefined, i: number): string => labels?.[i] ?? String(i);
  const onMove = (ev: MouseEvent): void => {
    const [i, j] = cellAt(ev);
    if (i < 0 || j < 0 || i >= rows || j >= cols) return;
    const v = arr.data[slice() * rows * cols + i * cols + j];
    readout.textContent = `${data.y_label ?? "row"} ${name(data.row_labels, i)}, ${data.x_label ?? "col"} ${name(data.col_labels, j)}: ${fmt(v)}`;
  };
  const onClick = (ev: MouseEvent): void => {
    const [i, j] = cellAt(ev);
    if (data.row_link && i >= 0 && i < rows) unravel(i, data.row_link.shape).forEach((v, k) => bus.set(data.row_link!.keys[k], v, "matrix"));
    if (data.col_link && j >= 0 && j < cols) unravel(j, data.col_link.shape).forEach((v, k) => bus.set(data.col_link!.keys[k], v, "matrix"));
  };
  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("click", onClick);
  if (data.row_link || data.col_link) canvas.classList.add("xl-clickable");
  d.add(() => {
    canvas.removeEventListener("mousemove", onMove);
    canvas.removeEventListener("click", onClick);
  });
  const keys = new Set([...follow, ...(data.row_link?.keys ?? []), ...(data.col_link?.keys ?? [])]);
  for (const k of keys) d.add(bus.on(k, draw));
  draw();
  return () => {
    d.run();
    root.remove();
  };
}
