// The runtime's processes receive files as a stream of 64 KiB buffers (socket reads, and the MQTT
// parser's copy of every payload): ~32 MB of short-lived ArrayBuffers per 16 MB put. With that
// churn, V8 sometimes settles on an old-generation limit of about twice the live heap (~45 MB
// for ~22 MB live). That leaves less room than the young generation may promote at once, so
// V8 starts incremental marking again right after every full collection: a full GC per 16 MB
// put, which doubled the device's CPU time per put (40-50 ms vs 75-100 ms across all its
// threads, `npm run bench`'s device on 2 cores) in about half of the runtime's runs, at random.
// Letting the old generation grow to four times the live heap before collecting keeps it out of
// that state (6 runs of 6; ~1 full GC per 20 puts); the cost is a larger heap between
// collections, at most ~60 MB more for the runtime's ~22 MB. Set at start-up rather than as a
// command-line flag: a Node whose V8 no longer knows the flag reports it and carries on,
// where an unknown flag on the command line would stop the process from starting at all.
import v8 from 'node:v8';

export function tuneGcForStreams(): void {
  v8.setFlagsFromString('--heap-growing-percent=300');
}
