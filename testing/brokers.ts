// Brokers for tests and benchmarks. Tests in any folder import brokers from here, so the
// device runtime's tests need no import from electron/.
export { startEmbeddedBroker, type EmbeddedBroker } from '../electron/src/broker/embedded';
export { startMosquitto, freePort, mosquittoMissingReason, MOSQUITTO_BIN, type Mosquitto } from './mosquitto';
export { startLossyBroker, type LossyBroker, type ForwardedMessage } from './lossy-broker';
export { startStallProxy, type StallProxy } from './stall-proxy';
