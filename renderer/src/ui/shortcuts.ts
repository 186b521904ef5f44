// Where the app's global single-key shortcuts may act. A key typed into an editor, a terminal,
// a form field or a dialog belongs to that element: CodeMirror lives in a shadow root, so the
// event's target at the window is the editor's host element, and only the composed path shows
// the contenteditable that really has the key.

/** True when the key event comes from somewhere that takes typing, or from inside a dialog. */
export function isTypingTarget(e: Event): boolean {
  for (const node of e.composedPath()) {
    if (!(node instanceof HTMLElement)) continue;
    const tag = node.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'DIALOG' || node.isContentEditable) return true;
    if (node.getAttribute('role') === 'dialog' || node.classList.contains('xterm') || node.classList.contains('code-editor')) return true;
  }
  return false;
}

/** True when a modal dialog is open anywhere in the page. */
export function modalOpen(doc: Document = document): boolean {
  return doc.querySelector('dialog[open]') !== null;
}

/** True when no element has the keyboard focus (a fresh page, or after clicking empty space). */
export function nothingFocused(doc: Document = document): boolean {
  const a = doc.activeElement;
  return a === null || a === doc.body || a === doc.documentElement;
}
