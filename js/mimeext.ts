// JupyterLab MIME renderer for application/vnd.xattr-lab.v1+json: renders views from saved data alone,
// so a notebook reopened with no kernel (or untrusted) still shows interactive, linked views.

import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { inflatePayload, isPacked } from "./lib/inflate";
import { MIME_TYPE, type Payload, renderPayload } from "./render";

class XattrRenderer extends Widget implements IRenderMime.IRenderer {
  private disposeView: (() => void) | null = null;

  constructor() {
    super();
    this.addClass("jp-xattr-lab");
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.disposeView?.();
    const data: unknown = model.data[MIME_TYPE];
    // Python writes plain payloads here; a deflated one (as in text/html) is accepted too.
    const payload = isPacked(data) ? await inflatePayload(data) : (data as Payload);
    this.disposeView = renderPayload(this.node, payload).dispose;
  }

  dispose(): void {
    this.disposeView?.();
    this.disposeView = null;
    super.dispose();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  // Safe: the renderer never interprets data as HTML or script (token strings go through textContent),
  // so it may render in untrusted notebooks.
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 10,
  createRenderer: () => new XattrRenderer(),
};

const extension: IRenderMime.IExtension = {
  id: "xattr-lab:mime",
  rendererFactory,
  rank: 10,
  dataType: "json",
};

export default extension;
