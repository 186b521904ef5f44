// The CSP (style-src 'self') refuses <style> elements and style="" attributes, which libraries
// that theme and measure at run time create: xterm.js makes a few <style> elements per terminal
// (its colours, cell size and scrollbar) and sets style attributes for true-colour text. Each
// one is a console error and a missing style. Styles that script creates are no injection risk
// (script could set them through the CSSOM anyway), so this shim routes them where the CSP
// allows them: a <style> element's text goes into a constructed stylesheet adopted by the
// document (CSSStyleSheet.replaceSync, which style-src does not govern, as CodeMirror does),
// and setAttribute('style') becomes a CSSOM write. Markup from a device or the network never
// reaches either: React renders text, never HTML.

interface ShimmedStyle extends HTMLElement {
  readonly sheet: CSSStyleSheet;
}

let installed = false;

export function installScriptStyles(doc: Document = document): void {
  if (installed) return;
  installed = true;
  const view = doc.defaultView;
  if (!view || typeof view.CSSStyleSheet !== 'function' || !('adoptedStyleSheets' in doc)) return;

  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function (this: Document, tag: string, options?: ElementCreationOptions): HTMLElement {
    if (typeof tag === 'string' && tag.toLowerCase() === 'style') return scriptStyle(this);
    return createElement.call(this, tag, options);
  } as typeof Document.prototype.createElement;

  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (this: Element, name: string, value: string): void {
    if (name.toLowerCase() === 'style' && (this instanceof HTMLElement || this instanceof SVGElement)) {
      this.style.cssText = String(value);
      return;
    }
    setAttribute.call(this, name, value);
  };
}

/**
 * An inert stand-in for a <style> element: a hidden <template> (it renders nothing, and the
 * CSP has no say over it) whose text lives in a constructed stylesheet that is adopted by the
 * document from creation until the element is removed.
 */
function scriptStyle(doc: Document): ShimmedStyle {
  const el = Document.prototype.createElement.call(doc, 'template') as unknown as HTMLElement;
  const CSSSheet = doc.defaultView!.CSSStyleSheet;
  const sheet = new CSSSheet();
  let text = '';
  const write = (css: string) => {
    text = css;
    try {
      sheet.replaceSync(css);
    } catch {
      // A rule the engine cannot parse is dropped, as a <style> element would drop it.
    }
  };
  const adopt = () => {
    if (!doc.adoptedStyleSheets.includes(sheet)) doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  };
  const drop = () => {
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
  };
  Object.defineProperties(el, {
    textContent: { get: () => text, set: (v: unknown) => write(v == null ? '' : String(v)), configurable: true },
    innerText: { get: () => text, set: (v: unknown) => write(v == null ? '' : String(v)), configurable: true },
    innerHTML: { get: () => text, set: (v: unknown) => write(v == null ? '' : String(v)), configurable: true },
    sheet: { get: () => sheet, configurable: true },
    remove: {
      value: () => {
        drop();
        Element.prototype.remove.call(el);
      },
      configurable: true,
    },
  });
  el.dataset.scriptStyle = '';
  adopt();
  return el as ShimmedStyle;
}
