// Hands data made or fetched in the window to the browser as a file download: a blob URL on a
// temporary link (the CSP allows it: a download is neither a navigation nor a resource load).
// Results exports and files pulled from the host in web mode both go through here.
export function downloadBlob(name: string, mime: string, data: BlobPart | readonly BlobPart[]): void {
  const parts: BlobPart[] = Array.isArray(data) ? [...(data as readonly BlobPart[])] : [data as BlobPart];
  const url = URL.createObjectURL(new Blob(parts, { type: mime }));
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // The browser has taken the blob once click() returns; free it on the next turn.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

/** Text made in the window (a results export as CSV or JSON) as a download. */
export function downloadText(name: string, mime: string, text: string): void {
  downloadBlob(name, mime, text);
}
