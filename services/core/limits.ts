/**
 * Every limit the service enforces on input, in one place, each with where
 * its number comes from. Adapters import these; nothing else hard-codes them.
 */
export const LIMITS = {
  /** Reading payload cap. Public contract (docs/contract.md): a reading is ≤ 4 KiB of JSON. */
  maxPayloadBytes: 4 * 1024,
  /**
   * Whole MQTT packet cap, checked on the Remaining Length field
   * (MQTT 3.1.1 §2.2.3) before the body is buffered. A 4 KiB payload plus
   * topic and header fits easily; anything bigger is hostile or broken.
   */
  maxPacketBytes: 16 * 1024,
  /**
   * Time a new MQTT connection has to send its CONNECT (aedes `connectTimeout`,
   * default 30 s). A sensor sends CONNECT right after the TCP handshake, one
   * segment even on a poor LTE-M/NB-IoT link; a socket silent for 10 s is a
   * slow-loris or a scanner. Default of MQTT_CONNECT_TIMEOUT_S.
   */
  connectTimeoutS: 10,
  /**
   * Connections accepted but not yet authenticated, all sources together.
   * Each can hold a partial packet of up to maxPacketBytes: measured here,
   * 1,000 idle sockets each holding 16,000 bytes of a CONNECT cost 35 MB of
   * RSS (35 KB each), so this bounds a slow-loris flood at ~35 MB. When full,
   * the oldest pending connection is dropped for the new one: a real sensor
   * authenticates within milliseconds of connecting and is rarely the
   * oldest. Default of MQTT_MAX_PENDING_CONNECTIONS.
   */
  maxPendingConnections: 1000,
  /**
   * Per-sensor publish rate (token bucket, shared by all its connections).
   * The contract's fastest reporting interval is 10 s (minIntervalS); 120 a
   * minute (2/s sustained) is 20× that, room for a storm mode reporting every
   * few seconds. Default of MQTT_SENSOR_RATE_PER_MIN.
   */
  sensorRatePerMin: 120,
  /**
   * Bucket size: readings a sensor may send at once, e.g. its QoS 1 queue
   * resent after reconnecting. 1,000 is 2.7 h of 10-s readings or 16 h of
   * 1-min readings; one stolen credential stored 15,411/s without a limit
   * (issue 10). Default of MQTT_SENSOR_BURST.
   */
  sensorBurst: 1000,
  /**
   * Simultaneous connections per sensor credential. Firmware needs one (a
   * reconnect with the same client id takes over the old session and is not
   * counted twice); the rest is headroom for a diagnostics client
   * (`<id>/…` client ids) and half-open sockets not yet timed out by keep-alive.
   * One credential held 2,000 connections (issue 10). Default of MQTT_MAX_CONNECTIONS_PER_SENSOR.
   */
  maxConnectionsPerSensor: 4,
  /** A device clock may run ahead a little; more than 5 min is a broken clock (contract). */
  maxFutureSkewMs: 5 * 60 * 1000,
  /** Older than 7 days is a replay or a dead RTC battery, not live data (contract). */
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  /**
   * Depth above the road or channel reference. Negative depth is a
   * calibration error. 2,000 cm (20 m) is above any road underpass or urban
   * channel this service is for; a deeper river stage needs its own reference.
   */
  minLevelCm: 0,
  maxLevelCm: 2000,
  /**
   * River gauges (issue 12, `site: 'river'`): a stage is the height above the
   * gauge datum (零点高), which MLIT sets near the low-water bed, so a stage can
   * be negative in a dry season and tens of metres in a large river's flood
   * (川の防災情報 lists stages above 20 m). −10 m to +50 m covers both.
   */
  minRiverStageCm: -1000,
  maxRiverStageCm: 5000,
  /** Ultrasonic and radar level sensors used for roads measure up to ~10–30 m; 50 m is absurd. */
  maxDistanceMm: 50_000,
  /** Battery voltage: 0–60 V covers single cells to 48 V lead-acid packs. */
  maxBatteryV: 60,
  /** RSSI in dBm: LTE-M/NB-IoT and LoRa report roughly −140…0 dBm. */
  minRssiDbm: -200,
  maxRssiDbm: 0,
  /** Sensor ids become MQTT topic levels and URL segments: no '/', '+', '#'. */
  sensorIdPattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
  /** Reporting interval bounds (s): at least every 10 s, at most once a day. */
  minIntervalS: 10,
  maxIntervalS: 86_400,
  /** Contract: a sensor is `offline` after 3 × its reporting interval without a reading. */
  offlineAfterIntervals: 3,
} as const;
