// Device path helpers (always `/`-separated and absolute, whatever the computer's OS).

export const join = (dir: string, rel: string): string => `${dir.replace(/\/+$/, '')}/${rel.replace(/^\/+/, '')}`;

export const parentOf = (p: string): string => {
  const i = p.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
};

export const baseName = (p: string): string => p.replace(/\/+$/, '').split('/').pop() || '/';

/** A name the user typed for a file or folder: one path segment, nothing the topic tail forbids. */
export function nameProblem(name: string): string | null {
  if (!name.trim()) return 'Enter a name.';
  if (name === '.' || name === '..') return 'Not a usable name.';
  if (/[/\\#+\0]/.test(name)) return 'A name cannot contain / \\ # + or NUL.';
  if (name.length > 255) return 'At most 255 characters.';
  return null;
}

const TEXT = /\.(py|js|mjs|cjs|ts|json|txt|md|cfg|conf|ini|toml|ya?ml|html|css|csv|sh|log)$/i;
/** Files the editor opens on a double-click; others download. */
export const isTextName = (name: string): boolean => TEXT.test(name) || !name.includes('.');
