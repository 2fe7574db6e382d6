// Payloads stored deflated in HTML ({version, view, title, deflate: base64 of raw-deflated JSON}): inflated
// with the browser's DecompressionStream (no library, no network).

import type { Payload } from "../render";

export interface PackedPayload {
  version?: number;
  view?: string;
  title?: string;
  deflate: string;
}

export function isPacked(value: unknown): value is PackedPayload {
  return !!value && typeof value === "object" && typeof (value as PackedPayload).deflate === "string";
}

/** The payload inside a packed one. Rejects when the browser has no DecompressionStream. */
export async function inflatePayload(packed: PackedPayload): Promise<Payload> {
  if (typeof DecompressionStream === "undefined") throw new Error("this browser cannot unpack the view data");
  const bytes = Uint8Array.from(atob(packed.deflate), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return JSON.parse(await new Response(stream).text()) as Payload;
}
