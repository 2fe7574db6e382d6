import { describe, expect, it } from "vitest";
import "./canvasStub";
import widget from "../../js/widget";
import { explanationData } from "./fixtures";

type Handler = (...args: unknown[]) => void;

function mockModel(state: Record<string, unknown>) {
  const handlers = new Map<string, Set<Handler>>();
  return {
    state,
    saved: 0,
    get: (k: string) => state[k],
    set: (k: string, v: unknown) => {
      state[k] = v;
    },
    save_changes() {
      this.saved++;
    },
    on: (ev: string, fn: Handler) => {
      if (!handlers.has(ev)) handlers.set(ev, new Set());
      handlers.get(ev)!.add(fn);
    },
    off: (ev: string, fn: Handler) => handlers.get(ev)?.delete(fn),
    fire: (ev: string, ...args: unknown[]) => handlers.get(ev)?.forEach((fn) => fn(...args)),
    count: () => [...handlers.values()].reduce((a, s) => a + s.size, 0),
  };
}

describe("widget entry", () => {
  it("syncs the selected token both ways and keeps it across payload changes", async () => {
    const model = mockModel({ payload: { version: 1, view: "explanation", data: explanationData() }, selected: -1, status: "" });
    const el = document.createElement("div");
    const cleanup = (await widget.render!({ model: model as never, el, experimental: {} as never })) as () => void;
    (el.querySelectorAll(".xl-strip [data-index]")[1] as HTMLElement).click();
    expect(model.state.selected).toBe(1);
    expect(model.saved).toBe(1);
    model.state.selected = 2;
    model.fire("change:selected");
    expect(el.querySelector(".xl-sel")?.getAttribute("data-index")).toBe("2");
    model.state.payload = { version: 1, view: "explanation", data: explanationData() };
    model.fire("change:payload");
    expect(el.querySelectorAll(".xl-root").length).toBe(1);
    expect(el.querySelector(".xl-sel")?.getAttribute("data-index")).toBe("2");
    model.state.status = "computing token 2…";
    model.fire("change:status");
    expect(el.textContent).toContain("computing token 2…");
    cleanup();
    expect(model.count()).toBe(0);
    expect(el.children.length).toBe(0);
  });

  it("forwards custom event messages to the views (live append)", async () => {
    const model = mockModel({
      payload: { version: 1, view: "training_curves", data: { steps: [1, 2], series: { loss: [1, 0.5] }, names: ["loss"] } },
      selected: -1,
    });
    const el = document.createElement("div");
    await widget.render!({ model: model as never, el, experimental: {} as never });
    model.fire("msg:custom", { type: "event", topic: "append", detail: { steps: [3], values: { loss: [0.2] } } }, []);
    expect(el.querySelector("svg")!.dataset.points).toBe("3");
  });
});
