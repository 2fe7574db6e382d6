// Number formatting shared by readouts, tables and legends (tick labels: formatTicks in ticks.ts).

export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(Math.max(1, digits - 1));
  return Number(v.toPrecision(digits)).toString();
}

/** Table cells: counts (integers) exactly, as the CLI and the JSON print them; other numbers as `fmt`. */
export function fmtCell(v: number, digits = 3): string {
  return Number.isSafeInteger(v) ? String(v) : fmt(v, digits);
}

export function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : "n/a";
}
