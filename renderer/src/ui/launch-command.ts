// The command that served this page in web mode (`npm start` or `npm run web`), which the host
// writes into index.html's <meta name="mqboard-launch">: the page can name it even when it
// has no token to ask the host anything.
const KNOWN = new Set(['npm start', 'npm run web']);

export function launchCommand(doc: Pick<Document, 'querySelector'> = document): string | undefined {
  const value = doc.querySelector('meta[name="mqboard-launch"]')?.getAttribute('content') ?? undefined;
  return value && KNOWN.has(value) ? value : undefined;
}
