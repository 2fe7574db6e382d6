// Token strip: prompt and generated tokens coloured by a score; hover shows the value, click or
// arrow keys select, and the selection goes on the bus as "token" (index into generated tokens). Every
// colouring has its legend (what the colour means, its range, and what an uncoloured token means).

import { type Bus } from "../lib/bus";
import { colour, normaliser, textOn } from "../lib/colors";
import { h } from "../lib/dom";
import { vector } from "../lib/arrays";
import { legend } from "../lib/legend";

export interface TokenStripData {
  prompt_tokens?: string[];
  tokens: string[];
  scores?: unknown;
  score_label?: string;
  signed?: boolean;
  /** What an uncoloured (NaN) token means, shown in the legend (default "not scored"). */
  unscored_label?: string;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : "n/a";
}

/** Render the strip into `el`; returns a cleanup function. */
export function renderTokenStrip(el: HTMLElement, data: TokenStripData, bus: Bus): () => void {
  const tokens = Array.isArray(data.tokens) ? data.tokens.map(String) : [];
  const prompt = Array.isArray(data.prompt_tokens) ? data.prompt_tokens.map(String) : [];
  const scores = vector(data.scores);
  const label = data.score_label ?? "score";
  const norm = normaliser(scores, data.signed);

  const strip = h("div", {
    class: "xl-strip",
    role: "listbox",
    tabindex: 0,
    "aria-label": "generated tokens",
  });
  const status = h("div", { class: "xl-status", "aria-live": "polite" });
  for (const text of prompt) strip.append(h("span", { class: "xl-tok xl-prompt xl-nosc" }, [text]));
  if (prompt.length) strip.append(h("span", { class: "xl-sep" }, ["→"]));

  const spans: HTMLSpanElement[] = tokens.map((text, i) => {
    const v = i < scores.length ? scores[i] : NaN;
    const span = h("span", {
      class: Number.isFinite(v) ? "xl-tok" : "xl-tok xl-nosc",
      role: "option",
      "data-index": i,
      "aria-selected": "false",
      title: `${label}: ${fmt(v)}`,
    }, [text]);
    if (Number.isFinite(v)) {
      span.style.background = colour(norm(v), norm.scale);
      span.style.color = textOn(norm(v), norm.scale);
    }
    return span;
  });
  strip.append(...spans);

  const describe = (i: number): string =>
    i >= 0 && i < tokens.length
      ? `token ${i}: ${JSON.stringify(tokens[i])}  ${label} ${fmt(i < scores.length ? scores[i] : NaN)}`
      : "click a token to select it";

  const paint = (sel: number): void => {
    spans.forEach((s, i) => {
      s.classList.toggle("xl-sel", i === sel);
      s.setAttribute("aria-selected", String(i === sel));
    });
    status.textContent = describe(sel);
  };

  const onClick = (ev: Event): void => {
    const target = (ev.target as HTMLElement).closest("[data-index]");
    if (target) bus.set("token", Number(target.getAttribute("data-index")), "strip");
  };
  const onOver = (ev: Event): void => {
    const target = (ev.target as HTMLElement).closest("[data-index]");
    status.textContent = target ? describe(Number(target.getAttribute("data-index"))) : describe(bus.get("token"));
  };
  const onKey = (ev: KeyboardEvent): void => {
    if (!tokens.length) return;
    const cur = bus.get("token");
    let next = cur;
    if (ev.key === "ArrowRight") next = Math.min(tokens.length - 1, cur + 1);
    else if (ev.key === "ArrowLeft") next = Math.max(0, cur < 0 ? 0 : cur - 1);
    else if (ev.key === "Home") next = 0;
    else if (ev.key === "End") next = tokens.length - 1;
    else return;
    ev.preventDefault();
    bus.set("token", next, "strip");
  };
  strip.addEventListener("click", onClick);
  strip.addEventListener("mouseover", onOver);
  strip.addEventListener("mouseleave", onOver);
  strip.addEventListener("keydown", onKey);
  const off = bus.on("token", (v) => paint(v));
  paint(bus.get("token"));

  // The legend: only when something is coloured; it names the grey (outlined) tokens when there are any.
  let finite = 0;
  for (let i = 0; i < Math.min(scores.length, tokens.length); i++) if (Number.isFinite(scores[i])) finite++;
  const note = finite < tokens.length ? `outlined: ${data.unscored_label ?? "not scored"}` : undefined;
  const key = finite ? legend(norm, label, { note }) : null;
  const root = h("div", { class: "xl-panel xl-token-strip" }, [strip, key, status]);
  el.append(root);
  return () => {
    off();
    strip.removeEventListener("click", onClick);
    strip.removeEventListener("mouseover", onOver);
    strip.removeEventListener("mouseleave", onOver);
    strip.removeEventListener("keydown", onKey);
    root.remove();
  };
}
