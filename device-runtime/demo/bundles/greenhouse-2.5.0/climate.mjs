// Greenhouse app 2.5.0 (an MQBoard demo bundle): climate readings, published and logged.
//   P/climate/state  <- {"version":"2.5.0","n":12,"temperature":21.4,"humidity":61} every `everyS` s
// config (config.json, key "climate"): {"everyS": 5}
const VERSION = '2.5.0';

export function start(mqtt, config) {
  const everyS = Number(config.everyS) >= 1 && Number(config.everyS) <= 3600 ? Number(config.everyS) : 5;
  const topic = `${mqtt.prefix}/climate/state`;
  let n = 0;
  const read = () => {
    n++;
    const temperature = Math.round((19 + ((n * 7) % 40) / 10) * 10) / 10;
    const humidity = 55 + ((n * 3) % 17);
    if (mqtt.connected) mqtt.publish(topic, JSON.stringify({ version: VERSION, n, temperature, humidity })).catch(() => undefined);
    mqtt.log.info(`temperature ${temperature.toFixed(1)} C, humidity ${humidity} %`);
  };
  const timer = setInterval(read, everyS * 1000);
  mqtt.onStop(() => clearInterval(timer));
  mqtt.log.info(`greenhouse ${VERSION}: climate control running, a reading every ${everyS} s`);
}
