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
.xl-panel{display:flex;flex-direction:column;gap:4px}
`;

export function ensureStyle(doc: Document = document): void {
  if (doc.getElementById("xattr-lab-style")) return;
  const style = doc.createElement("style");
  style.id = "xattr-lab-style";
  style.textContent = CSS;
  doc.head.appendChild(style);
}
