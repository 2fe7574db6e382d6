// Layout of event markers on a chart: events at the same pixel share one marker; each marker carries a short
// badge (its event numbers, e.g. "1,2") placed in the first row where it overlaps no other badge, and clamped
// so it never leaves the plot area. The full event names go in a list under the chart, so no long label can
// overlap or clip.

export interface EventMark {
  /** x of the marker line, in chart coordinates. */
  x: number;
  /** Indices (into the sorted event list) of the events drawn by this marker. */
  events: number[];
  /** Badge text: the 1-based event numbers. */
  text: string;
  /** Badge box, in chart coordinates (inside [left, right] × [top, bottom]). */
  box: { x: number; y: number; width: number; height: number };
  row: number;
}

export interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const BADGE_HEIGHT = 12;
const CHAR_WIDTH = 6; // 10 px tabular digits are ≤ 6 px wide
const PAD = 3;
const GAP = 2;

/** Badge width for `text` (an upper bound of the rendered width). */
export function badgeWidth(text: string): number {
  return text.length * CHAR_WIDTH + 2 * PAD;
}

/**
 * Place markers for events at pixel positions `xs` (NaN: not drawn in this chart).
 *
 * Returns one mark per distinct pixel (within 1 px), badges in non-overlapping rows inside `area`; when more
 * rows would be needed than fit, the remaining badges go to the last row's right end (still inside).
 */
export function layoutEvents(xs: number[], area: PlotArea): EventMark[] {
  const order = xs.map((x, i) => [x, i] as const).filter(([x]) => Number.isFinite(x) && x >= area.left - 0.5 && x <= area.right + 0.5);
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const marks: EventMark[] = [];
  for (const [x, i] of order) {
    const last = marks[marks.length - 1];
    if (last && Math.abs(last.x - x) <= 1) last.events.push(i);
    else marks.push({ x, events: [i], text: "", box: { x: 0, y: 0, width: 0, height: BADGE_HEIGHT }, row: 0 });
  }
  const maxRows = Math.max(1, Math.floor((area.bottom - area.top) / (BADGE_HEIGHT + GAP)));
  const rowEnds: number[] = [];
  for (const m of marks) {
    m.text = m.events.map((i) => String(i + 1)).join(",");
    const width = Math.min(badgeWidth(m.text), area.right - area.left);
    // Centre the badge on its line, then pull it back inside the plot area.
    const bx = Math.min(Math.max(m.x - width / 2, area.left), area.right - width);
    let row = rowEnds.findIndex((end) => bx >= end + GAP);
    if (row < 0) row = rowEnds.length < maxRows ? rowEnds.length : maxRows - 1;
    const x0 = row < rowEnds.length && bx < rowEnds[row] + GAP ? Math.min(rowEnds[row] + GAP, area.right - width) : bx;
    rowEnds[row] = x0 + width;
    m.row = row;
    m.box = { x: x0, y: area.top + 1 + row * (BADGE_HEIGHT + GAP), width, height: BADGE_HEIGHT };
  }
  return marks;
}
