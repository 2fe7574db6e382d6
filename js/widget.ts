// anywidget entry: the live, kernel-backed view. State: `payload` (arrays as binary buffers),
// `selected` (the selected generated-token index, synced both ways with the view's bus), an optional
// `status` line, and for explore(): `pending` (the token being computed or queued next, outlined in the
// strip) and `progress` ({token, done, total, elapsed, eta, note}: a bar with the time left).
// Custom messages {type: "event", topic, detail} are forwarded to the bus (live append of training curves).

import type { AnyModel, Render } from "@anywidget/types";
import { createBus } from "./lib/bus";
import { h } from "./lib/dom";
import { injectStyle } from "./lib/style";
import { type Payload, renderPayload } from "./render";

interface Progress {
  token?: number;
  done?: number;
  total?: number | null;
  elapsed?: number;
  eta?: number | null;
  note?: string;
}

interface WidgetState {
  payload: Payload;
  selected: number;
  status?: string;
  pending?: number;
  progress?: Progress;
}

// Widget-only styles (the views' stylesheet lives in lib/style.ts); outside .xl-root, so colours fall
// back to JupyterLab's theme variables directly.
const CSS = `
.xl-wbar{display:flex;align-items:center;gap:8px;font-family:var(--jp-ui-font-family,system-ui,sans-serif);
font-size:12px;color:var(--jp-ui-font-color1,#1f2328);margin:2px 4px}
.xl-wbar[hidden]{display:none}
.xl-wbar-track{flex:0 0 220px;height:8px;border-radius:4px;background:var(--jp-layout-color3,#d0d7de);overflow:hidden}
.xl-wbar-fill{height:100%;width:0;background:var(--jp-brand-color1,#e8590c);transition:width .2s linear}
.xl-wbar-text{font-variant-numeric:tabular-nums;color:var(--jp-ui-font-color2,#59636e)}
.xl-wstatus{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:12px;margin:2px 4px;
color:var(--jp-brand-color1,#e8590c)}
.xl-wstatus[hidden]{display:none}
.xl-strip .xl-tok.xl-pending{outline:2px dashed var(--jp-brand-color1,#e8590c);outline-offset:2px;
animation:xl-pulse 1.2s ease-in-out infinite}
@keyframes xl-pulse{50%{outline-offset:4px}}
@media (prefers-reduced-motion:reduce){.xl-strip .xl-tok.xl-pending{animation:none}}
`;

function ensureWidgetStyle(doc: Document): void {
  injectStyle(doc, "xattr-lab-widget-style", CSS);
}

/** "1m 05s" / "8.2 s": short durations for the progress line. */
export function seconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m}m ${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
}

/** The progress line: "token 3: 12/64 regions · 4.1 s elapsed · about 18 s left". */
export function progressText(p: Progress): string {
  const parts = [`token ${p.token ?? "?"}`];
  const done = p.done ?? 0;
  parts[0] += p.total ? `: ${done}/${p.total} regions` : `: ${done} regions`;
  parts.push(`${seconds(p.elapsed ?? 0)} elapsed`);
  parts.push(p.eta == null ? "estimating time left…" : `about ${seconds(p.eta)} left`);
  return parts.join(" · ");
}

const render: Render<WidgetState> = ({ model, el }) => {
  ensureWidgetStyle(el.ownerDocument);
  const status = h("div", { class: "xl-wstatus xl-status xl-busy", "aria-live": "polite" });
  const fill = h("div", { class: "xl-wbar-fill" });
  const barText = h("span", { class: "xl-wbar-text" });
  const bar = h("div", { class: "xl-wbar", role: "progressbar", "aria-valuemin": 0 }, [
    h("div", { class: "xl-wbar-track" }, [fill]),
    barText,
  ]);
  const host = h("div");
  el.append(status, bar, host);
  const first = model.get("payload");
  const bus = createBus(first?.selected ?? {});
  const initial = model.get("selected");
  if (typeof initial === "number" && initial >= 0) bus.set("token", initial, "model");
  let current = renderPayload(host, first, bus);

  // Outline the pending token (and the one computing) in whatever strip the current payload drew.
  const markPending = (): void => {
    const pending = model.get("pending");
    const computing = model.get("progress")?.token;
    host.querySelectorAll<HTMLElement>(".xl-strip [data-index]").forEach((span) => {
      const i = Number(span.getAttribute("data-index"));
      const on = (typeof pending === "number" && pending >= 0 && i === pending) || i === computing;
      span.classList.toggle("xl-pending", on);
      if (on) span.setAttribute("aria-busy", "true");
      else span.removeAttribute("aria-busy");
    });
  };
  const onPayload = (): void => {
    current.dispose();
    // The same bus: selections (token, step, layer/head, log toggles) survive a new payload.
    current = renderPayload(host, model.get("payload"), bus);
    markPending();
  };
  const onProgress = (): void => {
    const p = model.get("progress");
    const active = !!p && typeof p === "object" && typeof p.token === "number";
    bar.hidden = !active;
    if (active) {
      const frac = p.total ? Math.min(1, (p.done ?? 0) / p.total) : 0;
      fill.style.width = `${(100 * frac).toFixed(1)}%`;
      barText.textContent = progressText(p);
      bar.setAttribute("aria-valuenow", String(p.done ?? 0));
      if (p.total) bar.setAttribute("aria-valuemax", String(p.total));
      bar.title = p.note ?? "";
    }
    markPending();
  };
  const onSelected = (): void => bus.set("token", model.get("selected"), "model");
  const onStatus = (): void => {
    const text = model.get("status");
    status.textContent = typeof text === "string" ? text : "";
    status.hidden = !status.textContent;
  };
  const onMsg = (msg: unknown): void => {
    const m = msg as { type?: string; topic?: string; detail?: unknown };
    if (m && m.type === "event" && typeof m.topic === "string") bus.emit(m.topic, m.detail);
  };
  const off = bus.on("token", (value, source) => {
    if (source === "model") return;
    model.set("selected", value);
    model.save_changes();
  });
  model.on("change:payload", onPayload);
  model.on("change:selected", onSelected);
  model.on("change:status", onStatus);
  model.on("change:pending", markPending);
  model.on("change:progress", onProgress);
  model.on("msg:custom", onMsg);
  onStatus();
  onProgress();
  return () => {
    off();
    model.off("change:payload", onPayload);
    model.off("change:selected", onSelected);
    model.off("change:status", onStatus);
    model.off("change:pending", markPending);
    model.off("change:progress", onProgress);
    model.off("msg:custom", onMsg);
    current.dispose();
    status.remove();
    bar.remove();
    host.remove();
  };
};

export default { render };
