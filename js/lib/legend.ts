// Colour-scale legend for every heatmap and token colouring: a gradient bar with its range (and 0 for
// diverging scales), labelled with what the colour means.

import { colour, type Normaliser } from "./colors";
import { h } from "./dom";
import { fmt } from "./format";

export interface LegendOptions {
  /** Bar width in CSS pixels (default 120). */
  width?: number;
  /** Small variant (grid cells): no label text beside the bar, the label goes in the tooltip. */
  mini?: boolean;
  /** A short extra line after the bar (e.g. what an uncoloured token means). */
  note?: string;
}

/** A legend element for `norm`, labelled with what the colour means. */
export function legend(norm: Normaliser, label: string, opts: LegendOptions = {}): HTMLElement {
  const w = Math.max(30, Math.round(opts.width ?? 120));
  const bar = h("canvas", { width: w, height: opts.mini ? 6 : 10, "aria-hidden": "true" });
  const ctx = bar.getContext?.("2d");
  if (ctx) {
    for (let x = 0; x < w; x++) {
      ctx.fillStyle = colour(x / (w - 1), norm.scale);
      ctx.fillRect(x, 0, 1, 10);
    }
  }
  const mid = norm.scale === "coolwarm" ? "0" : "";
  const ticks = h("span", { class: "xl-legend-ticks" }, [
    h("span", {}, [fmt(norm.lo)]),
    h("span", {}, [mid]),
    h("span", {}, [fmt(norm.hi)]),
  ]);
  ticks.style.width = `${w + 2}px`;
  const text = `colour scale ${label}: ${fmt(norm.lo)} to ${fmt(norm.hi)}`;
  return h("div", {
    class: opts.mini ? "xl-legend xl-legend-mini" : "xl-legend",
    role: "img",
    "aria-label": text,
    title: opts.mini ? text : undefined,
    "data-lo": norm.lo,
    "data-hi": norm.hi,
  }, [
    opts.mini ? null : h("span", { class: "xl-legend-label" }, [label]),
    h("span", { class: "xl-legend-bar" }, [bar, ticks]),
    opts.note ? h("span", { class: "xl-legend-note" }, [opts.note]) : null,
  ]);
}
