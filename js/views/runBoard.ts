// A dataset run: per task, a leaderboard (mean with its 95% interval per method, and the paired difference
// against the reference method), then one row per sample × method. Clicking a row opens that sample's
// explanation below the table: from the explanations embedded in the payload (exported HTML, no kernel),
// else from the kernel when the view is live (a "request" on the bus, answered by an "explanation"
// event), else a note naming the saved result file to open. Every string is untrusted text.

import { type Bus, createBus, disposer } from "../lib/bus";
import { h } from "../lib/dom";
import { fmt, fmtCell } from "../lib/format";
import { injectStyle } from "../lib/style";
import { s } from "../lib/svg";
import { renderExplanation } from "./explanation";

export interface BoardTask {
  task: string;
  metric: string;
  better?: "higher" | "lower" | null;
  reference?: string | null;
  methods: string[];
  mean: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
  n?: (number | null)[];
  diff?: (number | null)[];
  diff_lo?: (number | null)[];
  diff_hi?: (number | null)[];
  win_rate?: (number | null)[];
}

export interface RunBoardData {
  tasks?: BoardTask[];
  columns?: string[];
  rows?: unknown[][];
  row_keys?: string[];
  result_paths?: (string | null)[];
  n_rows_total?: number;
  explanations?: Record<string, Record<string, unknown>>;
  n_explanations_total?: number;
  out_dir?: string;
  live?: boolean;
  summary?: Record<string, unknown>;
}

const CSS = `
.xl-runboard .xl-lb{display:grid;grid-template-columns:max-content 260px max-content max-content;gap:2px 10px;align-items:center;font-size:12px}
.xl-runboard .xl-lb-head{color:var(--xl-muted);font-size:11px}
.xl-runboard .xl-lb-ref{font-weight:600}
.xl-runboard .xl-lb-axis{display:flex;justify-content:space-between;width:260px}
.xl-runboard .xl-ci{stroke:var(--xl-muted);stroke-width:2}
.xl-runboard .xl-mean{fill:var(--xl-accent)}
.xl-runboard .xl-rows{max-height:340px;overflow:auto;border:1px solid var(--xl-border);border-radius:3px;align-self:flex-start}
.xl-runboard .xl-rows tbody tr{cursor:pointer}
.xl-runboard .xl-rows tbody tr:hover{background:color-mix(in srgb,var(--xl-accent) 8%,transparent)}
.xl-runboard .xl-rows tr.xl-sel{background:color-mix(in srgb,var(--xl-accent) 18%,transparent)}
.xl-runboard .xl-rows td.xl-text{text-align:left;max-width:260px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.xl-runboard .xl-err{color:#b00020}
.xl-runboard .xl-detail{border-top:1px solid var(--xl-border);padding-top:6px}
`;

function ensureBoardStyle(doc: Document): void {
  injectStyle(doc, "xattr-lab-runboard-style", CSS);
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : NaN);
const list = <T>(v: T[] | undefined): T[] => (Array.isArray(v) ? v : []);

function interval(lo: number, hi: number): string {
  return Number.isFinite(lo) && Number.isFinite(hi) ? `[${fmt(lo)}, ${fmt(hi)}]` : "";
}

function signed(v: number): string {
  return Number.isFinite(v) ? `${v > 0 ? "+" : ""}${fmt(v)}` : "n/a";
}

function wins(v: number): string {
  return Number.isFinite(v) ? ` · wins ${Math.round(v * 100)}%` : "";
}

/** One task's leaderboard: a row per method, its mean and 95% interval on a shared axis. */
function leaderboard(t: BoardTask): HTMLElement {
  const methods = list(t.methods).map(String);
  const mean = methods.map((_, i) => num(t.mean?.[i]));
  const lo = methods.map((_, i) => num(t.lo?.[i]));
  const hi = methods.map((_, i) => num(t.hi?.[i]));
  const finite = [...mean, ...lo, ...hi].filter(Number.isFinite);
  let [d0, d1] = finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
  if (d1 - d0 < 1e-9) [d0, d1] = [d0 - 0.5, d1 + 0.5];
  const pad = (d1 - d0) * 0.05;
  [d0, d1] = [d0 - pad, d1 + pad];
  const W = 260;
  const x = (v: number): number => ((v - d0) / (d1 - d0)) * (W - 8) + 4;
  const arrow = t.better === "higher" ? " ↑" : t.better === "lower" ? " ↓" : "";
  const ref = t.reference ? String(t.reference) : "";
  const grid = h("div", { class: "xl-lb", role: "table", "aria-label": `${t.task} leaderboard` }, [
    h("span", { class: "xl-lb-head" }, ["method"]),
    h("span", { class: "xl-lb-head xl-lb-axis" }, [h("span", {}, [fmt(d0)]), h("span", {}, ["mean, 95% interval"]), h("span", {}, [fmt(d1)])]),
    h("span", { class: "xl-lb-head" }, ["mean [95% CI]"]),
    h("span", { class: "xl-lb-head" }, [ref ? `paired Δ vs ${ref}` : ""]),
  ]);
  methods.forEach((m, i) => {
    const svg = s("svg", { width: W, height: 14, class: "xl-ci-bar", "data-method": m });
    if (Number.isFinite(lo[i]) && Number.isFinite(hi[i])) {
      svg.append(s("line", { class: "xl-ci", x1: x(lo[i]), x2: x(hi[i]), y1: 7, y2: 7 }));
    }
    if (Number.isFinite(mean[i])) svg.append(s("circle", { class: "xl-mean", cx: x(mean[i]), cy: 7, r: 3.5 }));
    const n = num(t.n?.[i]);
    const isRef = m === ref;
    const diff = isRef
      ? "reference"
      : t.diff ? `${signed(num(t.diff[i]))} ${interval(num(t.diff_lo?.[i]), num(t.diff_hi?.[i]))}${wins(num(t.win_rate?.[i]))}` : "";
    grid.append(
      h("span", { class: isRef ? "xl-lb-ref" : undefined, title: Number.isFinite(n) ? `n = ${n}` : undefined }, [m]),
      svg,
      h("span", { class: "xl-lb-val" }, [`${fmt(mean[i])} ${interval(lo[i], hi[i])}`]),
      h("span", { class: "xl-lb-diff" }, [diff]),
    );
  });
  const title = `task: ${t.task} · ${t.metric}${arrow}`;
  return h("div", { class: "xl-section" }, [h("div", { class: "xl-subtitle" }, [title]), grid]);
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "number" ? fmtCell(v) : String(v);
}

export function renderRunBoard(el: HTMLElement, data: RunBoardData, bus: Bus): () => void {
  ensureBoardStyle(el.ownerDocument);
  const d = disposer();
  const columns = list(data.columns).map(String);
  const rows = list(data.rows);
  const keys = list(data.row_keys).map(String);
  const paths = list(data.result_paths);
  const embedded = data.explanations && typeof data.explanations === "object" ? data.explanations : {};
  const statusCol = columns.indexOf("status");

  // one metric at a time (a select when the run has several), every task's board for it
  const tasks = list(data.tasks);
  const metrics = [...new Set(tasks.map((t) => String(t.metric)))];
  const boardBox = h("div", { class: "xl-panel" });
  const drawBoards = (metric: string): void => {
    boardBox.replaceChildren(...tasks.filter((t) => String(t.metric) === metric).map(leaderboard));
  };
  const select = h("select", { "aria-label": "metric" }, metrics.map((m) => h("option", { value: m }, [m])));
  const onMetric = (): void => drawBoards(select.value);
  select.addEventListener("change", onMetric);
  d.add(() => select.removeEventListener("change", onMetric));
  if (metrics.length) drawBoards(metrics[0]);
  const boards = [
    metrics.length > 1 ? h("div", { class: "xl-controls" }, [h("label", {}, ["metric ", select])]) : null,
    boardBox,
  ];
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col" }, [c])));
  const body = h("tbody");
  rows.forEach((row, i) => {
    const cells = columns.map((_, j) => {
      const v = Array.isArray(row) ? row[j] : undefined;
      return h("td", { class: typeof v === "number" ? undefined : "xl-text", title: typeof v === "string" ? v : undefined }, [cellText(v)]);
    });
    const failed = statusCol >= 0 && Array.isArray(row) && row[statusCol] === "error";
    body.append(h("tr", { "data-row": i, tabindex: 0, class: failed ? "xl-err" : undefined }, cells));
  });
  const table = h("table", { class: "xl-table" }, [h("thead", {}, [head]), body]);
  const total = num(data.n_rows_total);
  const nEmbedded = Object.keys(embedded).length;
  const notes = [
    Number.isFinite(total) && total > rows.length ? `showing ${rows.length} of ${total} rows` : `${rows.length} rows`,
    nEmbedded ? `${nEmbedded} explanations embedded in this view` : "",
    "click a row to open its explanation",
  ].filter(Boolean);
  const detail = h("div", { class: "xl-detail", "aria-live": "polite" });
  const root = h("div", { class: "xl-panel xl-runboard" }, [
    ...boards,
    h("div", { class: "xl-subtitle" }, ["samples × methods"]),
    h("div", { class: "xl-rows" }, [table]),
    h("div", { class: "xl-note", style: "max-width:none" }, [notes.join(" · ")]),
    detail,
  ]);
  el.append(root);

  let closeDetail: () => void = () => undefined;
  let wanted = "";
  const show = (key: string, view: Record<string, unknown>): void => {
    closeDetail();
    detail.replaceChildren(h("div", { class: "xl-subtitle" }, [key]));
    const box = h("div");
    detail.append(box);
    // a bus of its own: selecting a token in one sample's explanation must not move the board
    closeDetail = renderExplanation(box, view as never, createBus());
  };
  const open = (i: number): void => {
    const key = keys[i] ?? "";
    wanted = key;
    body.querySelectorAll("tr").forEach((tr) => tr.classList.toggle("xl-sel", Number(tr.dataset.row) === i));
    bus.set("run_row", i, "board");
    if (key in embedded) return show(key, embedded[key]);
    closeDetail();
    closeDetail = () => undefined;
    if (data.live) {
      detail.replaceChildren(h("div", { class: "xl-status xl-busy" }, [`loading ${key}…`]));
      bus.emit("request", { type: "open", key });
      return;
    }
    const path = typeof paths[i] === "string" ? paths[i] : null;
    const where = data.out_dir ? `xattr_lab.load_run(${JSON.stringify(data.out_dir)}).explanation(${JSON.stringify(key)})` : "load_run(out_dir)";
    detail.replaceChildren(h("div", { class: "xl-note", style: "max-width:none" }, [
      path
        ? `${key}: not embedded in this page. Its explanation is in the saved result ${path}; open it with ${where}.`
        : `${key}: no explanation was saved for this row (it failed or was skipped).`,
    ]));
  };
  const onClick = (ev: Event): void => {
    const tr = (ev.target as HTMLElement).closest("tr[data-row]") as HTMLElement | null;
    if (tr) open(Number(tr.dataset.row));
  };
  const onKey = (ev: KeyboardEvent): void => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    const tr = (ev.target as HTMLElement).closest("tr[data-row]") as HTMLElement | null;
    if (tr) {
      ev.preventDefault();
      open(Number(tr.dataset.row));
    }
  };
  body.addEventListener("click", onClick);
  body.addEventListener("keydown", onKey);
  d.add(() => body.removeEventListener("click", onClick));
  d.add(() => body.removeEventListener("keydown", onKey));
  // the live widget answers a request with {key, data} (the explanation view's payload data)
  d.add(bus.listen("explanation", (detailMsg) => {
    const m = detailMsg as { key?: string; data?: Record<string, unknown>; error?: string };
    if (!m || m.key !== wanted) return;
    if (m.data) show(m.key, m.data);
    else detail.replaceChildren(h("div", { class: "xl-error" }, [`${m.key}: ${m.error ?? "no explanation"}`]));
  }));
  return () => {
    closeDetail();
    d.run();
    root.remove();
  };
}
