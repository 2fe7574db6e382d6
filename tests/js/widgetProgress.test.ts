import { describe, expect, it } from "vitest";
import "./canvasStub";
import widget, { progressText, seconds } from "../../js/widget";
import { explanationData } from "./fixtures";

type Handler = (...args: unknown[]) => void;

function mockModel(state: Record<string, unknown>) {
  const handlers = new Map<string, Set<Handler>>();
  return {
    state,
    get: (k: string) => state[k],
    set: (k: string, v: unknown) => { state[k] = v; },
    save_changes() {},
    on: (ev: string, fn: Handler) => {
      if (!handlers.has(ev)) handlers.set(ev, new Set());
      handlers.get(ev)!.add(fn);
    },
    off: (ev: string, fn: Handler) => handlers.get(ev)?.delete(fn),
    fire: (ev: string) => handlers.get(ev)?.forEach((fn) => fn()),
  };
}

describe("explore widget while it computes", () => {
  it("formats the progress line with the time left", () => {
    expect(seconds(4.24)).toBe("4.2 s");
    expect(seconds(65)).toBe("1m 05s");
    expect(progressText({ token: 3, done: 4, total: 16, elapsed: 2, eta: 6.1 }))
      .toBe("token 3: 4/16 regions · 2.0 s elapsed · about 6.1 s left");
    expect(progressText({ token: 0, done: 0, total: 16, elapsed: 0.2, eta: null })).toContain("estimating time left");
  });

  it("shows the bar and outlines the pending and computing tokens, then clears both", async () => {
    const model = mockModel({
      payload: { version: 1, view: "explanation", data: explanationData() }, selected: -1, status: "",
      pending: -1, progress: {},
    });
    const el = document.createElement("div");
    await widget.render!({ model: model as never, el, experimental: {} as never });
    const bar = el.querySelector(".xl-wbar") as HTMLElement;
    expect(bar.hidden).toBe(true);
    model.state.progress = { token: 0, done: 4, total: 16, elapsed: 2, eta: 6 };
    model.state.pending = 2;
    model.fire("change:progress");
    model.fire("change:pending");
    expect(bar.hidden).toBe(false);
    expect((el.querySelector(".xl-wbar-fill") as HTMLElement).style.width).toBe("25%");
    const pending = [...el.querySelectorAll(".xl-tok.xl-pending")].map((s) => s.getAttribute("data-index"));
    expect(pending.sort()).toEqual(["0", "2"]);
    // a new payload (the finished token) keeps the marks of what is still pending
    model.state.payload = { version: 1, view: "explanation", data: explanationData() };
    model.state.progress = { token: 2, done: 0, total: 16, elapsed: 0, eta: null };
    model.fire("change:payload");
    model.fire("change:progress");
    expect([...el.querySelectorAll(".xl-tok.xl-pending")].map((s) => s.getAttribute("data-index"))).toEqual(["2"]);
    model.state.progress = {};
    model.state.pending = -1;
    model.fire("change:progress");
    model.fire("change:pending");
    expect(bar.hidden).toBe(true);
    expect(el.querySelectorAll(".xl-tok.xl-pending").length).toBe(0);
  });
});
