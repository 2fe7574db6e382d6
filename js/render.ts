// One entry point for every delivery path (widget, JupyterLab MIME renderer, standalone HTML):
// a payload {version, view, data, title?} is rendered by the view registered under its name.

import { type Bus, createBus } from "./lib/bus";
import { h, showError } from "./lib/dom";
import { ensureStyle } from "./lib/style";
import { renderComparisonGrid } from "./views/comparisonGrid";
import { renderCurves } from "./views/curves";
import { renderEigenScatter } from "./views/eigenScatter";
import { renderExplanation } from "./views/explanation";
import { renderFrames } from "./views/frames";
import { renderImageOverlay } from "./views/imageOverlay";
import { renderMatrixHeatmap } from "./views/matrixHeatmap";
import { renderRunBoard } from "./views/runBoard";
import { renderSpectrum } from "./views/spectrum";
import { renderTokenStrip } from "./views/tokenStrip";
import { renderTrainingCurves } from "./views/trainingCurves";

export const MIME_TYPE = "application/vnd.xattr-lab.v1+json";

export interface Payload {
  version: number;
  view: string;
  title?: string;
  data: Record<string, unknown>;
  selected?: Record<string, number>;
}

export type ViewRenderer = (el: HTMLElement, data: any, bus: Bus) => () => void;

const VIEWS: Record<string, ViewRenderer> = {
  token_strip: renderTokenStrip,
  image_overlay: renderImageOverlay,
  curves: renderCurves,
  explanation: renderExplanation,
  comparison: renderComparisonGrid,
  eigen_scatter: renderEigenScatter,
  matrix_heatmap: renderMatrixHeatmap,
  spectrum: renderSpectrum,
  training_curves: renderTrainingCurves,
  run_board: renderRunBoard,
  frames: renderFrames,
};

/** Add a view to the registry; a name may be registered once. */
export function registerView(name: string, fn: ViewRenderer): void {
  if (name in VIEWS) throw new Error(`xattr-lab: view ${name} is already registered`);
  VIEWS[name] = fn;
}

export function listViews(): string[] {
  return Object.keys(VIEWS).sort();
}

export interface Rendered {
  bus: Bus;
  dispose: () => void;
}

/** Render a payload into `el`. Errors are shown in place, never thrown into the host page. */
export function renderPayload(el: HTMLElement, payload: Payload, bus?: Bus): Rendered {
  ensureStyle(el.ownerDocument);
  const theBus = bus ?? createBus(payload?.selected ?? {});
  const root = h("div", { class: "xl-root", "data-xl-view": String(payload?.view ?? "") });
  el.append(root);
  let cleanup: () => void = () => undefined;
  try {
    if (!payload || typeof payload !== "object") throw new Error("payload is not an object");
    if (payload.version !== 1) throw new Error(`unsupported payload version ${String(payload.version)}`);
    const view = VIEWS[payload.view];
    if (!view) throw new Error(`unknown view ${JSON.stringify(payload.view)}`);
    if (payload.title) root.append(h("div", { class: "xl-title" }, [payload.title]));
    cleanup = view(root, payload.data ?? {}, theBus);
    root.dataset.xlReady = "1";
  } catch (err) {
    showError(root, err instanceof Error ? err.message : String(err));
  }
  return {
    bus: theBus,
    dispose: () => {
      cleanup();
      root.remove();
    },
  };
}
