// anywidget entry: the live, kernel-backed view. State: `payload` (arrays as binary buffers) and
// `selected` (the selected generated-token index), synced both ways with the view's bus.

import type { AnyModel, Render } from "@anywidget/types";
import { type Payload, renderPayload } from "./render";

interface WidgetState {
  payload: Payload;
  selected: number;
}

const render: Render<WidgetState> = ({ model, el }) => {
  let current = renderPayload(el, model.get("payload"));
  let unlink = link(model, current.bus);

  const onPayload = (): void => {
    unlink();
    current.dispose();
    current = renderPayload(el, model.get("payload"));
    unlink = link(model, current.bus);
  };
  model.on("change:payload", onPayload);
  return () => {
    model.off("change:payload", onPayload);
    unlink();
    current.dispose();
  };
};

function link(model: AnyModel<WidgetState>, bus: ReturnType<typeof renderPayload>["bus"]): () => void {
  const initial = model.get("selected");
  if (typeof initial === "number" && initial >= 0) bus.set("token", initial, "model");
  const off = bus.on("token", (value, source) => {
    if (source === "model") return;
    model.set("selected", value);
    model.save_changes();
  });
  const onSelected = (): void => bus.set("token", model.get("selected"), "model");
  model.on("change:selected", onSelected);
  return () => {
    off();
    model.off("change:selected", onSelected);
  };
}

export default { render };
