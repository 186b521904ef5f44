// Imported first by main.tsx, before any module defines a schema: zod probes for `new Function`
// when a schema is defined unless told it runs jitless, and the CSP (script-src 'self') reports
// that probe as a violation even though zod catches the refusal. Parsing works the same.
import { z } from 'zod';

z.config({ jitless: true });
