// What the user dropped from the OS: files and whole folders. Folders are walked through the
// File and Directory Entries API (webkitGetAsEntry), the only way a page sees a dropped tree.
// The entries must be taken while the drop event runs; reading them may happen afterwards.

export interface LocalItem {
  /** Relative path with `/`, starting with the dropped file's or folder's name. */
  rel: string;
  file: File;
}

export interface LocalTree {
  files: LocalItem[];
  /** Every folder of the tree (relative paths), so empty ones are created too. */
  dirs: string[];
}

/** Takes the entries synchronously from the drop event; the returned promise reads them. */
export function takeDropped(dt: DataTransfer): Promise<LocalTree> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(dt.files));
  return readTree(entries, loose);
}

async function readTree(entries: FileSystemEntry[], loose: File[]): Promise<LocalTree> {
  const out: LocalTree = { files: loose.map((file) => ({ rel: file.name, file })), dirs: [] };
  const walk = async (entry: FileSystemEntry, rel: string): Promise<void> => {
    if (isFile(entry)) {
      out.files.push({ rel, file: await new Promise<File>((resolve, reject) => entry.file(resolve, reject)) });
    } else if (isDir(entry)) {
      out.dirs.push(rel);
      const reader = entry.createReader();
      // readEntries returns the listing in batches until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, `${rel}/${e.name}`);
      }
    }
  };
  for (const e of entries) await walk(e, e.name);
  return out;
}

const isFile = (e: FileSystemEntry): e is FileSystemFileEntry => e.isFile;
const isDir = (e: FileSystemEntry): e is FileSystemDirectoryEntry => e.isDirectory;

/** Files chosen with an <input type=file> (webkitdirectory gives each its relative path). */
export function fromInput(list: FileList): LocalTree {
  const files = Array.from(list).map((file) => ({ rel: file.webkitRelativePath || file.name, file }));
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return { files, dirs: [...dirs] };
}
