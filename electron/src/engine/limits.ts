// The largest packet the engine takes from the broker. The payload caps themselves live in
// protocol/src/limits.ts, shared with the device runtime; its decoders check them before parsing.
import { MAX_PAYLOAD_BYTES } from '../../../protocol/src/limits';

/**
 * Announced as Maximum Packet Size on MQTT 5: the largest payload of the protocol plus room for
 * the fixed header, topic and properties.
 */
export const MAX_INBOUND_PACKET_BYTES = MAX_PAYLOAD_BYTES + 64 * 1024;
