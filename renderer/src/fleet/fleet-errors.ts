// One wording for a failed fleet call, whatever the dialog: the host's message, which names
// the device or the field, or a plain fallback.
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
