// Hands text made in the window (a results export) to the browser as a file download: a blob
// URL on a temporary link, as workspace/files/browser-download.ts does for files pulled from
// the host (the CSP allows it: a download is neither a navigation nor a resource load).
export function downloadText(name: string, mime: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.style.display = 'none';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
