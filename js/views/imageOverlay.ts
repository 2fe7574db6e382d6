// Image with a heatmap overlay: opacity, region outlines, a colour legend, and a step slider that
// reveals (insertion) or removes (deletion) regions in the method's order, with the selected token's
// probability at that step. Bus: reads/writes "step" and "mode" (0 insertion, 1 deletion), reads "token".
// Three overlay styles: "blend" (the map tinted over the image), "contours" (iso-lines over the unmodified
// image) and "beside" (the image and the map side by side); the last two stay readable when the object
// asked about has the colours of the map (colour questions).

import { cachedArray, type NDArray, row, upsample2d } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { colourRGB, normaliser, type Normaliser } from "../lib/colors";
import { h } from "../lib/dom";
import { scheduler } from "../lib/frame";
import { fmt, pct } from "../lib/format";
import { decodeImage, imageShape, type RGBAImage, rawImage, upsampleImage, upscaleFactor } from "../lib/image";
import { legend } from "../lib/legend";
import { blendHeat, contours, type RGB, shadeContour, shadeEdge } from "../lib/paint";
import { rowMap } from "../lib/rows";
import { insertionGains, type MapSource, mapSource, regionsAtStep, regionsOf, type Regions } from "../lib/regions";

export interface OverlayData {
  image?: unknown;
  labels?: unknown;
  n_regions?: number;
  region_scores?: unknown;
  pixel_map?: unknown;
  map_label?: string;
  signed?: boolean;
  order?: unknown;
  insertion?: unknown;
  deletion?: unknown;
  area?: unknown;
  tokens?: string[];
  targets?: unknown;
  width?: number;
  /** Initial colouring: "map" (region scores), "pixel" (pixel map) or "gain" (per-token Δp). */
  colour_by?: string;
  /** Initial overlay style: "blend" (default), "contours" or "beside". */
  overlay?: string;
}

export const OVERLAY_STYLES = [
  ["blend", "blend"],
  ["contours", "contours"],
  ["beside", "map beside image"],
] as const;

/** Value at `step` of curve row `r` of a [T, S+1] (or [S+1]) array; the mean over rows when r < 0. */
function curveAt(curves: NDArray | null, r: number, step: number): number {
  if (!curves) return NaN;
  if (curves.shape.length === 1) return curves.data[step] ?? NaN;
  if (r >= 0) return r < curves.shape[0] ? (row(curves, r)[step] ?? NaN) : NaN;
  let acc = 0;
  for (let t = 0; t < curves.shape[0]; t++) acc += row(curves, t)[step];
  return acc / curves.shape[0];
}

export function renderImageOverlay(el: HTMLElement, data: OverlayData, bus: Bus): () => void {
  const d = disposer();
  const labelsArr = cachedArray(data.labels);
  const shape = imageShape(data.image) ?? (labelsArr ? [labelsArr.shape[0], labelsArr.shape[1]] : null);
  if (!shape) {
    el.append(h("div", { class: "xl-error" }, ["xattr-lab: no image in this result"]));
    return () => undefined;
  }
  // Small images are drawn at an integer upscale (nearest) so outlines stay one screen pixel wide.
  const k = upscaleFactor(Math.max(shape[0], shape[1]), 240);
  const [height, width] = [shape[0] * k, shape[1] * k];
  const regions: Regions | null =
    labelsArr && labelsArr.shape[0] === shape[0] && labelsArr.shape[1] === shape[1]
      ? regionsOf(upsample2d(labelsArr, k), data.n_regions)
      : null;
  const order = cachedArray(data.order)?.data ?? new Int32Array(0);
  const insertion = cachedArray(data.insertion);
  const deletion = cachedArray(data.deletion);
  const areaArr = cachedArray(data.area);
  const steps = insertion ? insertion.shape[insertion.shape.length - 1] - 1 : order.length;
  const tokens = Array.isArray(data.tokens) ? data.tokens.map(String) : [];

  const rows = rowMap(data.targets, insertion?.shape.length === 2 ? insertion.shape[0] : 1);
  const regionMap = mapSource(cachedArray(data.region_scores), null, regions, width, height);
  const pixelMap = mapSource(null, cachedArray(data.pixel_map), null, width, height);
  const gains = insertion && insertion.shape.length === 2 && regions ? insertionGains(insertion, order, regions.count) : null;
  const gainSource = gains ? mapSource(gains, null, regions, width, height) : null;
  const sources: { name: string; label: string; src: MapSource; signed?: boolean }[] = [];
  if (regionMap) sources.push({ name: "map", label: data.map_label ?? "attribution", src: regionMap, signed: data.signed });
  if (pixelMap) sources.push({ name: "pixel", label: "pixel map", src: pixelMap, signed: data.signed });
  if (gainSource) sources.push({ name: "gain", label: "Δp when revealed (token)", src: gainSource, signed: true });
  // Which row of a source to paint for the selected token: per-token maps and gains follow the curve
  // rows; the gain's extra last row is the mean over explained tokens.
  const rowFor = (name: string, token: number): number => {
    const r = rows.rowOf(token);
    if (name === "gain") return r >= 0 ? r : rows.rows;
    return r >= 0 ? r : 0;
  };
  const norms = sources.map((s) => normaliser(s.src.all, s.signed));

  // --- DOM -------------------------------------------------------------------------------------
  const canvas = h("canvas", { width, height, class: "xl-canvas", "aria-label": "image with heatmap overlay" });
  // "beside" style: the map alone, drawn next to the (then unmodified) image.
  const mapCanvas = h("canvas", { width, height, class: "xl-beside", "aria-label": "heatmap beside the image" });
  const cssWidth = Math.max(220, Math.min(data.width ?? 300, 420));
  for (const c of [canvas, mapCanvas]) if (k > 1) c.classList.add("xl-pixelated");
  const readout = h("div", { class: "xl-status", "aria-live": "polite" });
  const legendBox = h("div", { class: "xl-legend-box" });
  const opacity = h("input", { type: "range", min: 0, max: 100, value: 60, "aria-label": "heatmap opacity" });
  const outlines = h("input", { type: "checkbox", checked: true, "aria-label": "region outlines" });
  const colourBy = h("select", { "aria-label": "colour by" });
  sources.forEach((s, i) => colourBy.append(h("option", { value: i }, [s.label])));
  const oneSharedMap = sources.length > 0 && !sources[0].src.perToken && rows.rows > 1;
  const wanted = data.colour_by ?? (oneSharedMap && gainSource ? "gain" : sources[0]?.name);
  colourBy.value = String(Math.max(0, sources.findIndex((s) => s.name === wanted)));
  const modeSel = h("select", { "aria-label": "order" }, [
    h("option", { value: 0 }, ["insertion"]),
    h("option", { value: 1 }, ["deletion"]),
  ]);
  const slider = h("input", {
    type: "range", min: 0, max: Math.max(0, steps), value: steps, class: "xl-step", "aria-label": "step",
  });
  const styleSel = h("select", { "aria-label": "overlay" });
  for (const [value, text] of OVERLAY_STYLES) styleSel.append(h("option", { value }, [text]));
  styleSel.value = OVERLAY_STYLES.some(([v]) => v === data.overlay) ? String(data.overlay) : "blend";
  const controls = h("div", { class: "xl-controls" }, [
    h("label", {}, ["overlay ", styleSel]),
    h("label", {}, ["opacity ", opacity]),
    regions ? h("label", {}, [outlines, " outlines"]) : null,
    sources.length > 1 ? h("label", {}, ["colour ", colourBy]) : null,
  ]);
  const stepRow = order.length
    ? h("div", { class: "xl-controls" }, [modeSel, h("label", { class: "xl-grow" }, [slider])])
    : null;
  const pair = h("div", { class: "xl-pair" }, [canvas, mapCanvas]);
  const root = h("div", { class: "xl-panel xl-overlay" }, [pair, legendBox, controls, stepRow, readout]);
  const layout = (): void => {
    const beside = styleSel.value === "beside";
    const w = beside ? Math.round(cssWidth * 0.62) : cssWidth;
    for (const c of [canvas, mapCanvas]) {
      c.style.width = `${w}px`;
      c.style.height = `${(w * height) / width}px`;
    }
    mapCanvas.style.display = beside ? "" : "none";
    opacity.disabled = styleSel.value !== "blend";
    root.style.maxWidth = `${beside ? 2 * w + 8 : cssWidth + 2}px`;
    root.dataset.overlay = styleSel.value;
  };
  layout();
  el.append(root);

  // --- state and drawing -----------------------------------------------------------------------
  const raw = rawImage(data.image);
  let image: RGBAImage | null = raw ? upsampleImage(raw, k) : null;
  let hover = -1;
  const ctx = canvas.getContext?.("2d") ?? null;
  const out = ctx ? ctx.createImageData(width, height) : null;
  const mapCtx = mapCanvas.getContext?.("2d") ?? null;
  const mapOut = mapCtx ? mapCtx.createImageData(width, height) : null;
  const hidden = new Uint8Array(regions?.count ?? 0);

  const srcIndex = (): number => Math.min(sources.length - 1, Number(colourBy.value) || 0);
  const step = (): number => {
    const s = bus.get("step");
    return s < 0 || s > steps ? steps : s;
  };
  const mode = (): number => (bus.get("mode") === 1 ? 1 : 0);

  function draw(): void {
    if (!ctx || !out) return;
    const px = out.data;
    const style = styleSel.value;
    // Contours and "beside" leave the image unmodified; only "blend" tints it.
    const alpha = style === "blend" ? Number(opacity.value) / 100 : 0;
    const si = srcIndex();
    const src = sources[si];
    const norm = norms[si];
    const vals = src ? src.src.pixels(rowFor(src.name, bus.get("token"))) : null;
    const k = regionsAtStep(step(), steps, order, regions, areaArr?.data);
    hidden.fill(0);
    if (regions) {
      if (mode() === 0) {
        hidden.fill(1);
        for (let i = 0; i < k; i++) hidden[order[i]] = 0;
      } else {
        for (let i = 0; i < k; i++) hidden[order[i]] = 1;
      }
    }
    const showEdges = regions && outlines.checked;
    const iso = style === "contours" && vals && norm ? contours(vals, norm, width, height, 5, (p) => !!regions && hidden[regions.labels[p]] === 1) : null;
    const c: RGB = [0, 0, 0];
    for (let p = 0; p < width * height; p++) {
      const o = p * 4;
      c[0] = image ? image.data[o] : 128;
      c[1] = image ? image.data[o + 1] : 128;
      c[2] = image ? image.data[o + 2] : 128;
      const reg = regions ? regions.labels[p] : -1;
      if (regions && hidden[reg]) {
        const lum = 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2];
        c[0] = c[1] = c[2] = 110 + 0.15 * lum;
      } else if (vals && alpha > 0) {
        blendHeat(c, vals[p], norm, alpha);
      }
      if (showEdges && regions!.edge[p]) {
        if (reg === hover) {
          c[0] = 232;
          c[1] = 89;
          c[2] = 12;
        } else {
          shadeEdge(c, 0.45, 140);
        }
      }
      if (iso) shadeContour(c, iso, p, norm);
      px[o] = c[0];
      px[o + 1] = c[1];
      px[o + 2] = c[2];
      px[o + 3] = 255;
    }
    ctx.putImageData(out, 0, 0);
    if (style === "beside") drawMap(vals, norm, showEdges ? regions : null);
  }

  /** The map on its own, at full strength (hidden regions grey), for the "beside" style. */
  function drawMap(vals: Float32Array | null, norm: Normaliser | undefined, edges: Regions | null): void {
    if (!mapCtx || !mapOut) return;
    const px = mapOut.data;
    for (let p = 0; p < width * height; p++) {
      const o = p * 4;
      const v = vals ? vals[p] : NaN;
      const c: RGB = regions && hidden[regions.labels[p]] ? [110, 110, 110] : Number.isFinite(v) && norm ? colourRGB(norm(v), norm.scale) : [128, 128, 128];
      if (edges && edges.edge[p]) shadeEdge(c, 0.6, 90);
      px[o] = c[0];
      px[o + 1] = c[1];
      px[o + 2] = c[2];
      px[o + 3] = 255;
    }
    mapCtx.putImageData(mapOut, 0, 0);
  }
  const frames = scheduler(draw);
  const schedule = (): void => frames.schedule();

  function describe(): void {
    const tok = bus.get("token");
    const s = step();
    const curves = mode() === 0 ? insertion : deletion;
    const r = rows.rowOf(tok);
    const tokText = r >= 0 && tok < tokens.length ? `p(${JSON.stringify(tokens[tok])})` : "mean p";
    const p = curveAt(curves, r, s);
    const k = regionsAtStep(s, steps, order, regions, areaArr?.data);
    const area = areaArr ? (areaArr.shape.length === 2 ? row(areaArr, Math.max(0, r))[s] : areaArr.data[s]) : NaN;
    const parts = order.length
      ? [`${mode() === 0 ? "revealed" : "removed"} ${k}/${order.length} regions`, Number.isFinite(area) ? pct(area) : "", curves ? `${tokText} = ${fmt(p)}` : ""]
      : [];
    if (hover >= 0 && regions) {
      const src = sources[srcIndex()];
      const v = src ? src.src.pixels(rowFor(src.name, tok))[firstPixel(hover)] : NaN;
      const rank = Array.prototype.indexOf.call(order, hover);
      parts.push(`region ${hover}${rank >= 0 ? ` (rank ${rank + 1})` : ""}: ${src ? `${src.label} ${fmt(v ?? NaN)}` : ""}`);
    }
    readout.textContent = parts.filter(Boolean).join(" · ");
  }
  const firstPix = new Map<number, number>();
  function firstPixel(r: number): number {
    if (!firstPix.has(r) && regions) firstPix.set(r, Array.prototype.indexOf.call(regions.labels, r));
    return firstPix.get(r) ?? 0;
  }

  function refreshLegend(): void {
    const si = srcIndex();
    const note = styleSel.value !== "contours" ? undefined
      : norms[si]?.scale === "coolwarm" ? "lines at ±20% and ±60% of the largest |score|" : "lines at 20, 40, 60, 80% of the range";
    legendBox.replaceChildren(sources[si] ? legend(norms[si], sources[si].label, { note }) : h("span"));
  }
  const update = (): void => {
    slider.value = String(step());
    modeSel.value = String(mode());
    describe();
    schedule();
  };

  // --- events ----------------------------------------------------------------------------------
  const listen = <K extends keyof HTMLElementEventMap>(t: HTMLElement, type: K, fn: (ev: HTMLElementEventMap[K]) => void): void => {
    t.addEventListener(type, fn);
    d.add(() => t.removeEventListener(type, fn));
  };
  listen(opacity, "input", schedule);
  listen(styleSel, "change", () => {
    layout();
    refreshLegend();
    schedule();
  });
  listen(outlines, "change", schedule);
  listen(colourBy, "change", () => {
    refreshLegend();
    update();
  });
  listen(modeSel, "change", () => bus.set("mode", Number(modeSel.value), "overlay"));
  listen(slider, "input", () => bus.set("step", Number(slider.value), "overlay"));
  const onMove = (target: HTMLCanvasElement) => (ev: MouseEvent): void => {
    if (!regions) return;
    const rect = target.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - rect.left) / (rect.width || 1)) * width);
    const y = Math.floor(((ev.clientY - rect.top) / (rect.height || 1)) * height);
    const r = x >= 0 && y >= 0 && x < width && y < height ? regions.labels[y * width + x] : -1;
    if (r !== hover) {
      hover = r;
      describe();
      schedule();
    }
  };
  for (const c of [canvas, mapCanvas]) {
    listen(c, "mousemove", onMove(c));
    listen(c, "mouseleave", () => {
      hover = -1;
      describe();
      schedule();
    });
  }
  for (const key of ["token", "step", "mode"]) d.add(bus.on(key, update));

  if (!image && data.image) {
    decodeImage(data.image)
      .then((img) => {
        image = img ? upsampleImage(img, k) : null;
        schedule();
      })
      .catch(() => {
        readout.textContent = "xattr-lab: could not decode the image";
      });
  }
  refreshLegend();
  update();
  root.dataset.ready = "1";
  return () => {
    frames.cancel();
    d.run();
    root.remove();
  };
}
