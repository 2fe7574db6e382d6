// The explanation of one generation: token strip ↔ image + heatmap overlay ↔ insertion/deletion
// curves, linked through the bus (token, step, mode), plus the metrics and cost of the run. A visible note
// warns when the selected token barely depends on the image (its map is then mostly noise).

import { vector } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { h } from "../lib/dom";
import { fmt } from "../lib/format";
import { rowMap } from "../lib/rows";
import { kvTable } from "../lib/table";
import { renderCurves } from "./curves";
import { renderImageOverlay } from "./imageOverlay";
import { renderTokenStrip } from "./tokenStrip";

export interface ExplanationData {
  method?: string;
  tokens?: string[];
  metrics?: Record<string, unknown>;
  cost?: Record<string, unknown>;
  metrics_order?: string[];
  cost_order?: string[];
  /** Absolute vision reliance per explained token (curve rows): AUC of its insertion curve minus its minimum. */
  raw_reliance?: unknown;
  /** Below this raw reliance a token "barely depends on the image" and gets the note. */
  reliance_floor?: number;
  [key: string]: unknown;
}

/** The near-zero-reliance note for the selected token ("" when none applies). */
export function relianceNote(data: ExplanationData, token: number): string {
  const raw = vector(data.raw_reliance);
  const floor = Number(data.reliance_floor);
  if (!raw.length || !Number.isFinite(floor)) return "";
  const tokens = Array.isArray(data.tokens) ? data.tokens.map(String) : [];
  const r = rowMap(data.targets, raw.length).rowOf(token);
  if (r < 0) {
    let low = 0;
    for (const v of raw) if (Number.isFinite(v) && v < floor) low++;
    return low && token < 0
      ? `${low} of ${raw.length} explained tokens barely depend on the image (raw vision reliance below ${fmt(floor)}): their maps are mostly noise`
      : "";
  }
  const v = raw[r];
  if (!(Number.isFinite(v) && v < floor)) return "";
  const name = token < tokens.length ? JSON.stringify(tokens[token]) : `token ${token}`;
  return `${name} barely depends on the image (raw vision reliance ${fmt(v, 2)}, below the threshold ${fmt(floor)}): ` +
    "revealing the image hardly changes its probability, so this map is mostly noise";
}

/** "why "blue" rather than "red"" and what its curves and metrics show, for a contrastive explanation; else "". */
export function contrastTitle(data: ExplanationData): string {
  const c = data.contrast as { tokens?: unknown; target_tokens?: unknown } | null | undefined;
  if (!c || typeof c !== "object") return "";
  const words = (v: unknown): string => JSON.stringify(Array.isArray(v) ? v.map(String).join(" ") : "");
  return (
    `why ${words(c.target_tokens)} rather than ${words(c.tokens)} · curves: p(target) / (p(target) + p(contrast)); ` +
    "metrics: the margin log p(target) − log p(contrast)"
  );
}

export function renderExplanation(el: HTMLElement, data: ExplanationData, bus: Bus): () => void {
  const d = disposer();
  const stripBox = h("div", { class: "xl-section" });
  const overlayBox = h("div", { class: "xl-section" });
  const curvesBox = h("div", { class: "xl-section" });
  const side = h("div", { class: "xl-panel xl-side" });
  const metrics = data.metrics && typeof data.metrics === "object" ? data.metrics : null;
  const cost = data.cost && typeof data.cost === "object" ? data.cost : null;
  if (metrics && Object.keys(metrics).length) side.append(kvTable(metrics, "metrics", 6, data.metrics_order));
  if (cost && Object.keys(cost).length) side.append(kvTable(cost, "cost", 4, data.cost_order));
  const note = h("div", { class: "xl-warn", role: "note" });
  const showNote = (): void => {
    note.textContent = relianceNote(data, bus.get("token"));
    note.hidden = !note.textContent;
  };
  d.add(bus.on("token", showNote));
  showNote();
  const contrast = contrastTitle(data);
  const root = h("div", { class: "xl-panel xl-explanation" }, [
    contrast ? h("div", { class: "xl-title xl-contrast" }, [contrast]) : null,
    stripBox,
    note,
    h("div", { class: "xl-row" }, [overlayBox, curvesBox, side.childElementCount ? side : null]),
  ]);
  el.append(root);
  if (bus.get("step") < 0) {
    // Start fully revealed (insertion at its last step): the whole map is visible.
    const ins = data.insertion as { shape?: number[] } | undefined;
    const n = ins?.shape ? ins.shape[ins.shape.length - 1] - 1 : -1;
    if (n >= 0) bus.set("step", n, "init");
  }
  d.add(renderTokenStrip(stripBox, { ...data, tokens: data.tokens ?? [] } as never, bus));
  d.add(renderImageOverlay(overlayBox, data, bus));
  d.add(renderCurves(curvesBox, data, bus));
  return () => {
    d.run();
    root.remove();
  };
}
