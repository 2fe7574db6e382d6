import { describe, expect, it } from "vitest";
import "./canvasStub";
import { createBus } from "../../js/lib/bus";
import { renderPayload } from "../../js/render";
import { renderRunBoard, type RunBoardData } from "../../js/views/runBoard";
import { explanationData } from "./fixtures";

function board(extra: Partial<RunBoardData> = {}): RunBoardData {
  return {
    tasks: [{
      task: "<b>color</b>", metric: "insertion_auc", better: "higher", reference: "eagle",
      methods: ["eagle", "random"], mean: [0.7, 0.4], lo: [0.6, 0.3], hi: [0.8, 0.5], n: [2, 2],
      diff: [0, -0.3], diff_lo: [0, -0.4], diff_hi: [0, -0.2],
    }],
    columns: ["sample_id", "method", "status", "insertion_auc", "error"],
    rows: [
      ["s0", "eagle", "ok", 0.72, null],
      ["s0", "random", "ok", 0.41, null],
      ["<img src=x onerror=alert(1)>", "eagle", "error", null, "</script>boom"],
    ],
    row_keys: ["s0/eagle", "s0/random", "s1/eagle"],
    result_paths: ["/r/s0/eagle.xattr", "/r/s0/random.xattr", null],
    n_rows_total: 3,
    explanations: { "s0/eagle": explanationData() as never },
    out_dir: "/r",
    ...extra,
  };
}

describe("run board", () => {
  it("draws one interval per method, the paired differences and the rows, all as text", () => {
    const el = document.createElement("div");
    renderRunBoard(el, board(), createBus());
    expect(el.querySelectorAll("svg.xl-ci-bar").length).toBe(2);
    expect(el.querySelectorAll("svg.xl-ci-bar line").length).toBe(2);
    const means = Array.from(el.querySelectorAll("circle.xl-mean")).map((c) => Number(c.getAttribute("cx")));
    expect(means[0]).toBeGreaterThan(means[1]); // eagle's mean (0.7) right of random's (0.4)
    const diffs = Array.from(el.querySelectorAll(".xl-lb-diff")).map((e) => e.textContent);
    expect(diffs).toEqual(["reference", "-0.3 [-0.4, -0.2]"]);
    expect(el.textContent).toContain("task: <b>color</b>");
    expect(el.querySelectorAll("tbody tr").length).toBe(3);
    expect(el.querySelector("tbody tr:nth-child(3)")?.classList.contains("xl-err")).toBe(true);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("b")).toBeNull();
    expect(el.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("opens an embedded explanation on click, and names the saved file when none is embedded", () => {
    const el = document.createElement("div");
    const bus = createBus();
    renderRunBoard(el, board(), bus);
    const rows = el.querySelectorAll<HTMLElement>("tbody tr");
    rows[0].click();
    expect(rows[0].classList.contains("xl-sel")).toBe(true);
    expect(bus.get("run_row")).toBe(0);
    const detail = el.querySelector(".xl-detail")!;
    expect(detail.querySelector(".xl-explanation")).not.toBeNull();
    expect(detail.querySelectorAll(".xl-strip [data-index]").length).toBe(3);
    rows[1].click();
    expect(detail.querySelector(".xl-explanation")).toBeNull();
    expect(detail.textContent).toContain("/r/s0/random.xattr");
    expect(detail.textContent).toContain("load_run");
    rows[2].click();
    expect(detail.textContent).toContain("no explanation was saved");
  });

  it("asks the kernel when live, and shows the answer for the row still wanted", () => {
    const el = document.createElement("div");
    const bus = createBus();
    const requests: unknown[] = [];
    bus.listen("request", (d) => requests.push(d));
    renderRunBoard(el, board({ live: true, explanations: {} }), bus);
    const rows = el.querySelectorAll<HTMLElement>("tbody tr");
    rows[1].click();
    expect(requests).toEqual([{ type: "open", key: "s0/random" }]);
    expect(el.querySelector(".xl-detail")!.textContent).toContain("loading");
    bus.emit("explanation", { key: "s0/eagle", data: explanationData() }); // a stale answer is ignored
    expect(el.querySelector(".xl-detail .xl-explanation")).toBeNull();
    bus.emit("explanation", { key: "s0/random", data: explanationData() });
    expect(el.querySelector(".xl-detail .xl-explanation")).not.toBeNull();
  });

  it("switches the boards between metrics", () => {
    const el = document.createElement("div");
    const tasks = board().tasks!;
    const del = { ...tasks[0], metric: "deletion_auc", better: "lower" as const, methods: ["eagle", "random", "ig"],
      mean: [0.1, 0.3, 0.2], lo: [0, 0.2, 0.1], hi: [0.2, 0.4, 0.3] };
    renderRunBoard(el, board({ tasks: [tasks[0], del] }), createBus());
    const select = el.querySelector("select")!;
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["insertion_auc", "deletion_auc"]);
    expect(el.querySelectorAll("svg.xl-ci-bar").length).toBe(2);
    select.value = "deletion_auc";
    select.dispatchEvent(new Event("change"));
    expect(el.querySelectorAll("svg.xl-ci-bar").length).toBe(3);
    expect(el.textContent).toContain("deletion_auc ↓");
  });

  it("is registered as run_board", () => {
    const el = document.createElement("div");
    renderPayload(el, { version: 1, view: "run_board", data: board() as never });
    expect(el.querySelector(".xl-runboard")).not.toBeNull();
    expect(el.querySelector(".xl-error")).toBeNull();
  });
});
