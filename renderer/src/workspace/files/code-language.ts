// Which highlighter a file gets, by its extension (kept out of CodeEditor so the eager bundle
// does not pull in CodeMirror).
export type EditorLanguage = 'python' | 'javascript' | 'json' | 'text';

export const languageOf = (path: string): EditorLanguage =>
  /\.py$/i.test(path) ? 'python' : /\.(m?js|cjs|ts)$/i.test(path) ? 'javascript' : /\.json$/i.test(path) ? 'json' : 'text';
