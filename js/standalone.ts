// Standalone entry for self-contained HTML (nbconvert exports, export_html, VS Code, Colab): renders
// every payload script next to its container. Safe to include many times in one page.

import { MIME_TYPE, type Payload, renderPayload } from "./render";

declare global {
  interface Window {
    xattrLab?: { renderAll: (root?: ParentNode) => number; renderPayload: typeof renderPayload };
  }
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
    let payload: Payload;
    try {
      payload = JSON.parse(script.textContent ?? "null") as Payload;
    } catch (err) {
      host.textContent = `xattr-lab: cannot read view data (${String(err)})`;
      return;
    }
    renderPayload(host, payload);
    const fallback = script.parentElement?.querySelector(".xattr-lab-fallback");
    if (fallback instanceof HTMLElement) fallback.style.display = "none";
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
