// <select> controls bound to a bus key (layer, head, ...).

import type { Bus } from "./bus";
import { h } from "./dom";

export function busSelect(bus: Bus, key: string, count: number, label: string, names?: string[]): { el: HTMLElement; off: () => void } {
  const sel = h("select", { "aria-label": label, "data-key": key });
  for (let i = 0; i < count; i++) sel.append(h("option", { value: i }, [names?.[i] ?? String(i)]));
  const sync = (): void => {
    const v = bus.get(key);
    sel.value = String(v >= 0 && v < count ? v : 0);
  };
  const onChange = (): void => bus.set(key, Number(sel.value), `select:${key}`);
  sel.addEventListener("change", onChange);
  const off = bus.on(key, sync);
  sync();
  return {
    el: h("label", { class: "xl-pick" }, [`${label} `, sel]),
    off: () => {
      off();
      sel.removeEventListener("change", onChange);
    },
  };
}
