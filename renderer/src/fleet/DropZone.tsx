// A place to drop local files on, with a button that opens the file picker for the same: the
// push dialog's files and the rollout planner's image. What it holds is the caller's to show.
import { useRef, useState, type ReactNode } from 'react';

export interface DropZoneProps {
  onFiles(files: File[]): void;
  multiple?: boolean;
  /** Something is chosen: the zone is drawn solid instead of dashed. */
  filled?: boolean;
  /** The picker button's words, e.g. "Choose files…". */
  choose: string;
  testId: string;
  /** The hidden file input's test id (tests set files on it). */
  inputTestId: string;
  chooseTestId?: string;
  /** What is chosen, or what to drop here. */
  children: ReactNode;
}

export function DropZone({ onFiles, multiple = false, filled = false, choose, testId, inputTestId, chooseTestId, children }: DropZoneProps) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const take = (list: FileList | null | undefined) => {
    const files = [...(list ?? [])];
    if (files.length > 0) onFiles(multiple ? files : files.slice(0, 1));
  };
  return (
    <div
      className={`drop-zone${over ? ' over' : ''}${filled ? ' filled' : ''}`}
      data-testid={testId}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer.files);
      }}
    >
      <div className="drop-zone-what">{children}</div>
      <button type="button" className="btn btn-small" onClick={() => input.current?.click()} data-testid={chooseTestId}>
        {choose}
      </button>
      <input
        ref={input}
        type="file"
        multiple={multiple}
        hidden
        data-testid={inputTestId}
        onChange={(e) => {
          take(e.target.files);
          // The same file chosen again is a new choice.
          e.target.value = '';
        }}
      />
    </div>
  );
}
