/**
 * Lines a serial sensor prints: a weather station's key=value lines, comma-separated counters,
 * and NMEA 0183 sentences with good or deliberately broken checksums.
 */

export function nmeaChecksumOf(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** "$" + body + "*hh" with a correct checksum, or a wrong one when `corrupt`. */
export function nmeaSentence(body: string, opts: { corrupt?: boolean } = {}): string {
  const good = nmeaChecksumOf(body);
  const cs = opts.corrupt ? ((parseInt(good, 16) ^ 0x5a) & 0xff).toString(16).toUpperCase().padStart(2, '0') : good;
  return `$${body}*${cs}`;
}

export interface WeatherSample {
  tempC: number;
  humidityPct: number;
  windMs: number;
  pressureHpa: number;
}

/** The station's own format: "WS T=21.5 H=48 W=3.2 P=1013.2". */
export function weatherLine(s: WeatherSample): string {
  return `WS T=${s.tempC.toFixed(1)} H=${Math.round(s.humidityPct)} W=${s.windMs.toFixed(1)} P=${s.pressureHpa.toFixed(1)}`;
}

/** Traffic counter CSV: "CNT,<lane>,<vehicles>,<avg speed km/h>". */
export function counterLine(lane: number, vehicles: number, speedKmh: number): string {
  return `CNT,${lane},${vehicles},${speedKmh.toFixed(1)}`;
}

/** A GPRMC fix (time, status A, lat/lon, speed knots, course, date). */
export function gprmc(opts: { lat: number; lon: number; knots: number }): string {
  const fmt = (v: number, degDigits: number, pos: string, neg: string): [string, string] => {
    const a = Math.abs(v);
    const deg = Math.floor(a);
    const min = (a - deg) * 60;
    return [`${String(deg).padStart(degDigits, '0')}${min.toFixed(4).padStart(7, '0')}`, v < 0 ? neg : pos];
  };
  const [lat, ns] = fmt(opts.lat, 2, 'N', 'S');
  const [lon, ew] = fmt(opts.lon, 3, 'E', 'W');
  return `GPRMC,123519,A,${lat},${ns},${lon},${ew},${opts.knots.toFixed(1)},084.4,230394,003.1,W`;
}

/** WIMDA meteorological composite: pressure (bar) in field 3, air temperature in field 5. */
export function wimda(opts: { pressureBar: number; airTempC: number }): string {
  return `WIMDA,29.9,I,${opts.pressureBar.toFixed(4)},B,${opts.airTempC.toFixed(1)},C,,,,,,,,,,,,,,`;
}
