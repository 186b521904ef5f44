// Demo application module, blinky-style: publishes a heartbeat and takes a new period over MQTT.
//   P/blinky/state   <- {"on":true,"count":12,"period":1} every `period` seconds
//   P/blinky/period  -> a number of seconds (0.05 .. 3600) changes the period
// config: {"period": 1}
export function start(mqtt, config) {
  const stateTopic = `${mqtt.prefix}/blinky/state`;
  const periodTopic = `${mqtt.prefix}/blinky/period`;
  let period = valid(Number(config.period)) ? Number(config.period) : 1;
  let on = false;
  let count = 0;
  let timer;

  const tick = () => {
    on = !on;
    count++;
    if (mqtt.connected) mqtt.publish(stateTopic, JSON.stringify({ on, count, period })).catch(() => undefined);
  };
  const schedule = () => {
    clearInterval(timer);
    timer = setInterval(tick, period * 1000);
  };

  mqtt.onMessage((topic, payload) => {
    if (topic !== periodTopic) return;
    const p = Number(payload.toString());
    if (!valid(p)) {
      mqtt.log.warn(`ignoring period ${JSON.stringify(payload.toString().slice(0, 40))}`);
      return;
    }
    period = p;
    mqtt.log.info(`period now ${p} s`);
    schedule();
  });
  mqtt.onInit(() => mqtt.subscribe(periodTopic, 1));
  mqtt.onStop(() => clearInterval(timer));
  schedule();
  mqtt.log.info(`blinking every ${period} s`);
}

function valid(p) {
  return Number.isFinite(p) && p >= 0.05 && p <= 3600;
}
