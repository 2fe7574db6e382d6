// One stylesheet for every view, injected once per document. Colours come from JupyterLab's theme
// variables when present, so the dark theme is respected; standalone pages follow prefers-color-scheme.

const CSS = `
.xl-root{--xl-fg:var(--jp-ui-font-color1,#1f2328);--xl-muted:var(--jp-ui-font-color2,#59636e);
--xl-bg:var(--jp-layout-color1,#fff);--xl-border:var(--jp-border-color2,#d0d7de);
--xl-accent:var(--jp-brand-color1,#e8590c);font-family:var(--jp-ui-font-family,system-ui,sans-serif);
font-size:13px;color:var(--xl-fg);background:var(--xl-bg);padding:6px 4px;line-height:1.4}
@media (prefers-color-scheme:dark){body:not([data-jp-theme-light]) .xl-root{--xl-fg:var(--jp-ui-font-color1,#e6edf3);
--xl-muted:var(--jp-ui-font-color2,#9198a1);--xl-bg:var(--jp-layout-color1,#0d1117);--xl-border:var(--jp-border-color2,#3d444d)}}
.xl-title{font-weight:600;margin:0 0 4px}
.xl-error{color:#b00020;font-family:monospace;white-space:pre-wrap}
.xl-strip{display:flex;flex-wrap:wrap;gap:3px;align-items:center;outline:none;padding:2px;border-radius:4px}
.xl-strip:focus-visible{box-shadow:0 0 0 2px var(--xl-accent)}
.xl-sep{color:var(--xl-muted);margin:0 6px;font-size:12px}
.xl-tok{font-family:var(--jp-code-font-family,ui-monospace,monospace);padding:1px 5px;border-radius:3px;
border:1px solid transparent;cursor:pointer;white-space:pre;user-select:none}
.xl-tok.xl-prompt{opacity:.92}
.xl-tok.xl-nosc{background:transparent;color:var(--xl-fg);border-color:var(--xl-border)}
.xl-tok:hover{border-color:var(--xl-fg)}
.xl-tok.xl-sel{outline:2px solid var(--xl-accent);outline-offset:1px}
.xl-status{color:var(--xl-muted);font-size:12px;min-height:1.4em;margin-top:3px}
.xl-legend{display:flex;align-items:center;gap:6px;font-size:11px;color:var(--xl-muted)}
.xl-legend canvas{border:1px solid var(--xl-border);border-radius:2px}
.xl-row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.xl-panel{display:flex;flex-direction:column;gap:4px;min-width:0}
.xl-section{min-width:0}
.xl-subtitle{font-size:12px;color:var(--xl-muted);font-weight:600}
.xl-note{font-size:11px;color:var(--xl-muted);max-width:300px}
.xl-legend-label{margin-right:2px}
.xl-legend-bar{display:inline-flex;flex-direction:column;gap:1px}
.xl-legend-ticks{display:flex;justify-content:space-between;width:122px;font-variant-numeric:tabular-nums}
.xl-canvas{display:block;border-radius:3px;border:1px solid var(--xl-border);max-width:100%}
.xl-pixelated{image-rendering:pixelated}
.xl-clickable{cursor:crosshair}
.xl-controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;font-size:12px;color:var(--xl-muted)}
.xl-controls label{display:inline-flex;align-items:center;gap:4px}
.xl-controls select,.xl-controls input{accent-color:var(--xl-accent);font:inherit;color:var(--xl-fg);
background:var(--xl-bg);border:1px solid var(--xl-border);border-radius:3px}
.xl-controls input[type=range]{border:none;background:transparent;padding:0}
.xl-grow{flex:1}.xl-grow input{width:100%;min-width:140px}
.xl-chart{width:100%;max-width:360px;height:auto;overflow:visible;color:var(--xl-fg);user-select:none}
.xl-chart.xl-wide{max-width:460px}.xl-chart.xl-square{max-width:320px}
.xl-axis{stroke:var(--xl-muted);stroke-width:1;fill:none}
.xl-grid{stroke:var(--xl-border);stroke-width:.6;stroke-dasharray:2 3;fill:none}
.xl-zero{stroke:var(--xl-muted);stroke-width:.8;stroke-dasharray:4 3}
.xl-tick{fill:var(--xl-muted);font-size:10px;font-variant-numeric:tabular-nums}
.xl-label{fill:var(--xl-muted);font-size:11px}
.xl-cursor{stroke:var(--xl-accent);stroke-width:1.2;stroke-dasharray:3 2;fill:none}
.xl-event{stroke:var(--xl-muted);stroke-width:1;stroke-dasharray:1 3;fill:none}
.xl-others{stroke:var(--xl-muted);stroke-width:3.5;stroke-linecap:round;opacity:.45;fill:none}
.xl-key{display:flex;flex-wrap:wrap;gap:6px;align-items:center;font-size:12px}
.xl-key-title{font-family:var(--jp-code-font-family,ui-monospace,monospace);white-space:pre}
.xl-chip{display:inline-flex;align-items:center;gap:4px;font:inherit;font-size:12px;color:var(--xl-fg);
background:transparent;border:1px solid var(--xl-border);border-radius:10px;padding:0 7px;cursor:default}
button.xl-chip{cursor:pointer}
.xl-chip::before{content:"";width:10px;height:3px;border-radius:2px;background:var(--xl-chip,currentColor)}
.xl-chip.xl-off{opacity:.45;text-decoration:line-through}
.xl-table{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
.xl-table caption{text-align:left;color:var(--xl-muted);font-weight:600;padding-bottom:2px}
.xl-table th,.xl-table td{padding:2px 8px;border-bottom:1px solid var(--xl-border);text-align:right}
.xl-table th[scope=row]{text-align:left;font-weight:500;color:var(--xl-muted)}
.xl-table .xl-best{font-weight:700;color:var(--xl-fg)}
.xl-table .xl-col-sel{background:color-mix(in srgb,var(--xl-accent) 14%,transparent)}
.xl-grid{display:flex;flex-wrap:wrap;gap:8px}
.xl-cell{display:flex;flex-direction:column;gap:2px;align-items:center;padding:3px;font:inherit;font-size:12px;
color:var(--xl-fg);background:transparent;border:1px solid transparent;border-radius:4px;cursor:pointer}
.xl-cell:hover{border-color:var(--xl-border)}
.xl-cell.xl-sel{border-color:var(--xl-accent)}
.xl-cell-title{max-width:160px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.xl-thumb{width:150px;height:auto}
.xl-matrix-body{display:flex;align-items:flex-start;gap:2px}
.xl-ylabel{writing-mode:vertical-rl;transform:rotate(180deg);font-size:11px;color:var(--xl-muted);align-self:center}
.xl-rowticks,.xl-colticks{position:relative;font-size:9px;color:var(--xl-muted);font-variant-numeric:tabular-nums}
.xl-rowticks{min-width:30px}
.xl-rowticks span{position:absolute;right:3px;transform:translateY(-50%);white-space:nowrap}
.xl-colticks{height:13px}
.xl-colticks span{position:absolute;top:1px;transform:translateX(-50%);white-space:nowrap}
.xl-xlabel{font-size:11px;color:var(--xl-muted);text-align:center}
.xl-stack{position:relative;line-height:0}
.xl-hl{position:absolute;box-sizing:border-box;border:2px solid var(--xl-accent);pointer-events:none;top:0;height:100%}
.xl-side{gap:10px}
.xl-training .xl-row>.xl-panel{flex:1 1 400px;max-width:480px}
.xl-training .xl-chart{max-width:none}
.xl-table{align-self:flex-start}
.xl-curves{max-width:370px}
.xl-busy{color:var(--xl-accent)}
.xl-warn{font-size:12px;color:var(--xl-fg);border-left:3px solid var(--xl-accent);padding:2px 8px;margin:4px 0;
background:color-mix(in srgb,var(--xl-accent) 10%,transparent)}
.xl-legend-mini{font-size:10px}.xl-legend-note{font-size:11px;color:var(--xl-muted)}
.xl-pair{display:flex;gap:6px;align-items:flex-start}
.xl-beside{display:block;border-radius:3px;border:1px solid var(--xl-border)}
`;

/** Add a `<style id=...>` with `css` to the document head, once per document. */
export function injectStyle(doc: Document, id: string, css: string): void {
  if (doc.getElementById(id)) return;
  const style = doc.createElement("style");
  style.id = id;
  style.textContent = css;
  doc.head.appendChild(style);
}

export function ensureStyle(doc: Document = document): void {
  injectStyle(doc, "xattr-lab-style", CSS);
}
