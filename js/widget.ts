// anywidget entry: the live, kernel-backed view. State: `payload` (arrays as binary buffers),
// `selected` (the selected generated-token index, synced both ways with the view's bus) and an
// optional `status` line (e.g. "computing token 3…" in explore()). Custom messages
// {type: "event", topic, detail} are forwarded to the bus (live append of training curves).

import type { AnyModel, Render } from "@anywidget/types";
import { createBus } from "./lib/bus";
import { h } from "./lib/dom";
import { type Payload, renderPayload } from "./render";

interface WidgetState {
  payload: Payload;
  selected: number;
  status?: string;
}

const render: Render<WidgetState> = ({ model, el }) => {
  const status = h("div", { class: "xl-status xl-busy", "aria-live": "polite" });
  const host = h("div");
  el.append(status, host);
  const first = model.get("payload");
  const bus = createBus(first?.selected ?? {});
  const initial = model.get("selected");
  if (typeof initial === "number" && initial >= 0) bus.set("token", initial, "model");
  let current = renderPayload(host, first, bus);

  const onPayload = (): void => {
    current.dispose();
    // The same bus: selections (token, step, layer/head, log toggles) survive a new payload.
    current = renderPayload(host, model.get("payload"), bus);
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
  // a view asking the kernel for something (the run board's drill-down): sent as a custom message
  const offRequest = bus.listen("request", (detail) => model.send(detail as never));
  const off = bus.on("token", (value, source) => {
    if (source === "model") return;
    model.set("selected", value);
    model.save_changes();
  });
  model.on("change:payload", onPayload);
  model.on("change:selected", onSelected);
  model.on("change:status", onStatus);
  model.on("msg:custom", onMsg);
  onStatus();
  return () => {
    off();
    offRequest();
    model.off("change:payload", onPayload);
    model.off("change:selected", onSelected);
    model.off("change:status", onStatus);
    model.off("msg:custom", onMsg);
    current.dispose();
    status.remove();
    host.remove();
  };
};

export default { render };
