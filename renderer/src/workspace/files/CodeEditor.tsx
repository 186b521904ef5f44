// CodeMirror 6 behind one component, loaded lazily (React.lazy in EditorPane) so the editor's
// code is fetched only when a file is opened. Highlighting for Python, JavaScript and JSON; the
// colours come from CSS variables (files.css), so both themes follow the app's.
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { json } from '@codemirror/lang-json';
import { python } from '@codemirror/lang-python';
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { EditorState, type Extension } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { tags as t } from '@lezer/highlight';
import { useEffect, useRef } from 'react';
import type { EditorLanguage } from './code-language';


const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword], color: 'var(--syn-keyword)' },
  { tag: [t.string, t.special(t.string)], color: 'var(--syn-string)' },
  { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--syn-number)' },
  { tag: [t.comment, t.lineComment, t.blockComment], color: 'var(--syn-comment)', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.propertyName), t.definition(t.function(t.variableName))], color: 'var(--syn-function)' },
  { tag: [t.className, t.typeName, t.definition(t.className)], color: 'var(--syn-type)' },
  { tag: [t.propertyName], color: 'var(--syn-property)' },
  { tag: [t.self, t.special(t.variableName)], color: 'var(--syn-keyword)' },
]);

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '12.5px', backgroundColor: 'var(--bg-panel)', color: 'var(--text)' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55' },
  '.cm-gutters': { backgroundColor: 'var(--bg-sunken)', color: 'var(--text-3)', border: 'none', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'var(--bg-hover)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--bg-hover)', color: 'var(--text-2)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-cursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--bg-active)' },
  '.cm-matchingBracket': { backgroundColor: 'var(--bg-active)', outline: '1px solid var(--border-strong)' },
});

function languageExt(lang: EditorLanguage): Extension {
  switch (lang) {
    case 'python':
      return python();
    case 'javascript':
      return javascript();
    case 'json':
      return json();
    case 'text':
      return [];
  }
}

export default function CodeEditor(p: { doc: string; docKey: string; language: EditorLanguage; onChange: (text: string) => void; onSave: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The callbacks change every render; the editor reads the latest through refs.
  const onChange = useRef(p.onChange);
  const onSave = useRef(p.onSave);
  useEffect(() => {
    onChange.current = p.onChange;
    onSave.current = p.onSave;
  });

  useEffect(() => {
    // CodeMirror injects its styles at run time. The app's CSP (style-src 'self') blocks <style>
    // elements in the document, but a shadow root takes constructed stylesheets
    // (adoptedStyleSheets), so the editor lives in one; CSS variables still inherit into it.
    const el = host.current!;
    const shadow = el.shadowRoot ?? el.attachShadow({ mode: 'open' });
    const parent = document.createElement('div');
    parent.style.height = '100%';
    shadow.append(parent);
    const v = new EditorView({
      root: shadow,
      parent,
      state: EditorState.create({
        doc: p.doc,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          syntaxHighlighting(highlight),
          languageExt(p.language),
          theme,
          keymap.of([
            {
              key: 'Mod-s',
              preventDefault: true,
              run: () => {
                onSave.current();
                return true;
              },
            },
            indentWithTab,
            ...defaultKeymap,
            ...historyKeymap,
          ]),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      parent.remove();
      view.current = null;
    };
    // A new document (another file, or the file reloaded) makes a new editor state; typing does not.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p.docKey, p.language]);

  return <div className="code-editor" ref={host} data-testid="code-editor" data-language={p.language} />;
}
