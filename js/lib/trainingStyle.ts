// Styles of the training view's panels, event badges and event list. Kept apart from lib/style.ts (shared by
// every view) and injected once per document, next to it; colours come from the same theme variables.

import { injectStyle } from "./style";

const CSS = `
.xl-training .xl-panel-head{display:flex;gap:10px;align-items:baseline;justify-content:space-between}
.xl-training .xl-panel-head label{font-size:11px;color:var(--xl-muted);white-space:nowrap}
.xl-training .xl-key{margin:2px 0}
.xl-ev-badge rect{fill:var(--xl-bg);stroke:var(--xl-muted);stroke-width:.8}
.xl-ev-badge text{fill:var(--xl-fg);font-size:9px;font-variant-numeric:tabular-nums}
.xl-event.xl-ev-hot{stroke:var(--xl-accent);stroke-dasharray:none;stroke-width:1.6}
.xl-ev-badge.xl-ev-hot rect{stroke:var(--xl-accent);stroke-width:1.4}
.xl-events{list-style:none;display:flex;flex-wrap:wrap;gap:3px 16px;font-size:12px;margin:6px 0 2px;padding:0;color:var(--xl-fg)}
.xl-events li{display:flex;align-items:center;gap:4px;cursor:default}
.xl-ev-num{display:inline-block;min-width:12px;padding:0 3px;border:1px solid var(--xl-muted);border-radius:3px;
font-size:10px;text-align:center;font-variant-numeric:tabular-nums}
.xl-events code{font-family:var(--jp-code-font-family,ui-monospace,monospace);font-size:11px}
.xl-events .xl-ev-step{color:var(--xl-muted)}
`;

export function ensureTrainingStyle(doc: Document = document): void {
  injectStyle(doc, "xattr-lab-training-style", CSS);
}
