// Small tables of numbers (metrics, costs). Cells are text only.

import { h } from "./dom";
import { fmtCell } from "./format";

/** A key → value table from a flat dict (null shown as n/a); rows past `first` fold into "more". */
export function kvTable(values: Record<string, unknown>, caption = "", first = Infinity, order?: unknown): HTMLElement {
  const table = h("table", { class: "xl-table" });
  if (caption) table.append(h("caption", {}, [caption]));
  // Saved notebooks sort JSON keys, so the intended order travels as a list.
  const keys = Array.isArray(order) ? order.map(String).filter((k) => k in (values ?? {})) : [];
  for (const k of Object.keys(values ?? {})) if (!keys.includes(k)) keys.push(k);
  const rows = keys.map((k) => [k, values[k]] as [string, unknown]).filter(([, v]) => v === null || typeof v !== "object");
  const cell = (v: unknown): string => (v === null ? "n/a" : typeof v === "number" ? fmtCell(v) : String(v));
  const tr = ([k, v]: [string, unknown]) => h("tr", {}, [h("th", { scope: "row" }, [k]), h("td", {}, [cell(v)])]);
  table.append(...rows.slice(0, first).map(tr));
  if (rows.length <= first) return table;
  const more = h("table", { class: "xl-table" }, rows.slice(first).map(tr));
  return h("div", {}, [table, h("details", {}, [h("summary", { class: "xl-note" }, [`${rows.length - first} more`]), more])]);
}

/** Rows of metrics × columns (methods); the best of each row is marked when `better` says which way. */
export function gridTable(
  columns: string[],
  rows: { name: string; values: ArrayLike<number>; better?: "higher" | "lower" | null }[],
): HTMLTableElement {
  const head = h("tr", {}, [h("th", {}, [""]), ...columns.map((c, j) => h("th", { scope: "col", "data-col": j }, [c]))]);
  const table = h("table", { class: "xl-table xl-grid-table" }, [h("thead", {}, [head])]);
  const body = h("tbody");
  for (const r of rows) {
    let best = -1;
    if (r.better) {
      for (let j = 0; j < r.values.length; j++) {
        const v = r.values[j];
        if (!Number.isFinite(v)) continue;
        if (best < 0 || (r.better === "higher" ? v > r.values[best] : v < r.values[best])) best = j;
      }
    }
    const arrow = r.better === "higher" ? " ↑" : r.better === "lower" ? " ↓" : "";
    body.append(h("tr", {}, [
      h("th", { scope: "row" }, [r.name + arrow]),
      ...columns.map((_, j) => h("td", { class: j === best ? "xl-best" : undefined, "data-col": j }, [fmtCell(r.values[j] ?? NaN)])),
    ]));
  }
  table.append(body);
  return table;
}
