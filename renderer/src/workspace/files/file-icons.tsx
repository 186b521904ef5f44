// Line icons for the file browser (16 px, currentColor), in the style of ui/icons.tsx.
import type { ReactElement } from 'react';

const paths = {
  folder: 'M2 4.5A1 1 0 0 1 3 3.5h3l1.3 1.5H13a1 1 0 0 1 1 1V12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1Z',
  file: 'M4 2h5l3 3v9H4zM9 2v3h3',
  code: 'M4 2h5l3 3v9H4zM9 2v3h3M7 8.5 5.8 10 7 11.5M9 8.5l1.2 1.5L9 11.5',
  pencil: 'M10.5 3 13 5.5 6 12.5H3.5V10Z',
  folderPlus: 'M2 4.5A1 1 0 0 1 3 3.5h3l1.3 1.5H13a1 1 0 0 1 1 1V12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1ZM8 7v4M6 9h4',
  chevronDown: 'M4 6l4 4 4-4',
  retry: 'M3 8a5 5 0 1 0 1.5-3.6M3 2.5V5h2.5',
  stop: 'M4.5 4.5h7v7h-7z',
  save: 'M3 3h8l2 2v8H3zM5 3v3.5h5V3M5 13V9.5h6V13',
  chip: 'M4.5 4.5h7v7h-7zM6.5 2v2.5M9.5 2v2.5M6.5 11.5V14M9.5 11.5V14M2 6.5h2.5M2 9.5h2.5M11.5 6.5H14M11.5 9.5H14',
} as const;

export type FileIconName = keyof typeof paths;

export function FIcon({ name, size = 16 }: { name: FileIconName; size?: number }): ReactElement {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={paths[name]} />
    </svg>
  );
}
