// DOM helpers. Text always goes through textContent: token strings are untrusted and must never be
// parsed as HTML.

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on")) throw new Error("xattr-lab: attach listeners with addEventListener");
    el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** Show a visible, non-throwing error inside a view container. */
export function showError(el: HTMLElement, message: string): void {
  el.replaceChildren(h("div", { class: "xl-error" }, [`xattr-lab: ${message}`]));
}
