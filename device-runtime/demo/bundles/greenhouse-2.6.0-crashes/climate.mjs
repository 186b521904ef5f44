// Greenhouse app 2.6.0 (an MQBoard demo bundle) with a bug on purpose: it reads its sensor list
// from a config key that no device has yet, so start() throws a TypeError at every boot. The
// runtime records the crash and reboots; the unconfirmed update then rolls back.
const VERSION = '2.6.0';

export function start(mqtt, config) {
  mqtt.log.info(`greenhouse ${VERSION}: starting climate control`);
  const sensors = config.sensors;
  // TypeError: Cannot read properties of undefined (reading 'map')
  const channels = sensors.map((s) => s.channel);
  mqtt.log.info(`reading ${channels.length} sensors`);
}
