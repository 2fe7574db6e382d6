// Standalone entry for self-contained HTML (nbconvert exports, export_html, VS Code, Colab): renders
// every payload script of the page next to its container. Safe to include many times in one page: the
// first copy defines window.xattrLab, later outputs of a notebook only carry a small loader that calls
// it (see xattr_lab/viz/html.py). Large payloads arrive deflated and are inflated here.

import { inflatePayload, isPacked } from "./lib/inflate";
import { MIME_TYPE, type Payload, renderPayload } from "./render";

declare global {
  interface Window {
    xattrLab?: { renderAll: (root?: ParentNode) => number; renderPayload: typeof renderPayload };
  }
}

function show(script: HTMLScriptElement, host: HTMLElement, payload: Payload): void {
  renderPayload(host, payload);
  const fallback = script.parentElement?.querySelector(".xattr-lab-fallback");
  if (fallback instanceof HTMLElement) fallback.style.display = "none";
}

function renderAll(root: ParentNode = document): number {
  let count = 0;
  const scripts = root.querySelectorAll<HTMLScriptElement>(`script[type="${MIME_TYPE}"]`);
  scripts.forEach((script) => {
    if (script.dataset.xlDone) return;
    script.dataset.xlDone = "1";
    const host = document.createElement("div");
    host.className = "xattr-lab-output";
    script.after(host);
    let payload: unknown;
    try {
      payload = JSON.parse(script.textContent ?? "null");
    } catch (err) {
      host.textContent = `xattr-lab: cannot read view data (${String(err)})`;
      return;
    }
    if (isPacked(payload)) {
      inflatePayload(payload).then(
        (full) => show(script, host, full),
        (err) => { host.textContent = `xattr-lab: cannot read view data (${String(err)})`; },
      );
    } else {
      show(script, host, payload as Payload);
    }
    count++;
  });
  return count;
}

if (!window.xattrLab) window.xattrLab = { renderAll, renderPayload };
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => window.xattrLab!.renderAll());
} else {
  window.xattrLab.renderAll();
}
